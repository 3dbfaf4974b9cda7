/**
 * The session cookie reader (server/auth/session-token.ts) against NextAuth's own encode/decode:
 * it accepts exactly the tokens NextAuth's decode accepts and reads our claims from them.
 */
import { encode, decode } from "next-auth/jwt";
import { afterEach, describe, expect, it, vi } from "vitest";

afterEach(() => {
  vi.useRealTimers();
});
import { readSessionClaims, sessionCookieName, sessionTokenFrom } from "./session-token";

const SECRET = "s".repeat(43);
const CLAIMS = { uid: "user-1", epoch: 3, sid: "sid-1", name: "A", email: "a@example.org" };

describe("readSessionClaims", () => {
  it("reads uid, epoch and sid from a token NextAuth encoded", async () => {
    const token = await encode({ token: CLAIMS, secret: SECRET, maxAge: 3600 });
    expect(await readSessionClaims(token, SECRET)).toEqual({ userId: "user-1", epoch: 3, sid: "sid-1" });
    expect(await decode({ token, secret: SECRET })).toMatchObject(CLAIMS);
  });

  it("refuses a token of another secret, a tampered one, an expired one and garbage", async () => {
    const other = await encode({ token: CLAIMS, secret: "o".repeat(43), maxAge: 3600 });
    expect(await readSessionClaims(other, SECRET)).toBeNull();
    const token = await encode({ token: CLAIMS, secret: SECRET, maxAge: 3600 });
    const parts = token.split(".");
    const flipped = parts[3]!.startsWith("A") ? `B${parts[3]!.slice(1)}` : `A${parts[3]!.slice(1)}`;
    expect(await readSessionClaims([...parts.slice(0, 3), flipped, parts[4]].join("."), SECRET)).toBeNull();
    // Expired 60 s ago: beyond NextAuth's 15 s clock tolerance; its own decode refuses it too.
    const expired = await encode({ token: CLAIMS, secret: SECRET, maxAge: -60 });
    expect(await readSessionClaims(expired, SECRET)).toBeNull();
    await expect(decode({ token: expired, secret: SECRET })).rejects.toThrow();
    expect(await readSessionClaims("not-a-token", SECRET)).toBeNull();
    expect(await readSessionClaims(null, SECRET)).toBeNull();
  });

  it("refuses a valid token without our claims, or with claims of the wrong type", async () => {
    expect(await readSessionClaims(await encode({ token: { name: "x" }, secret: SECRET }), SECRET)).toBeNull();
    expect(await readSessionClaims(await encode({ token: JSON.parse(`{"uid":"user-1","epoch":"3","sid":"sid-1"}`) as Record<string, unknown>, secret: SECRET }), SECRET)).toBeNull();
  });

  it("checks a remembered token's expiry again on every use, with NextAuth's 15 s tolerance", async () => {
    const start = Date.now();
    const token = await encode({ token: CLAIMS, secret: SECRET, maxAge: 60 });
    vi.useFakeTimers({ now: start, toFake: ["Date"] });
    expect(await readSessionClaims(token, SECRET)).toEqual({ userId: "user-1", epoch: 3, sid: "sid-1" });
    vi.setSystemTime(start + 70_000); // past exp, within the tolerance: still accepted (NextAuth's decode agrees)
    expect(await readSessionClaims(token, SECRET)).not.toBeNull();
    await expect(decode({ token, secret: SECRET })).resolves.toMatchObject(CLAIMS);
    vi.setSystemTime(start + 80_000); // past exp + 15 s: refused, as NextAuth's decode refuses it
    expect(await readSessionClaims(token, SECRET)).toBeNull();
    await expect(decode({ token, secret: SECRET })).rejects.toThrow();
    vi.setSystemTime(start + 1_000); // and not remembered as accepted (a clock set back decrypts again)
    expect(await readSessionClaims(token, SECRET)).not.toBeNull();
  });

  it("hands out a copy of the remembered claims", async () => {
    const token = await encode({ token: CLAIMS, secret: SECRET, maxAge: 3600 });
    const first = (await readSessionClaims(token, SECRET))!;
    first.userId = "someone-else";
    expect(await readSessionClaims(token, SECRET)).toEqual({ userId: "user-1", epoch: 3, sid: "sid-1" });
  });

  it("follows a changed secret", async () => {
    const token = await encode({ token: CLAIMS, secret: SECRET });
    expect(await readSessionClaims(token, SECRET)).not.toBeNull();
    expect(await readSessionClaims(token, "n".repeat(43))).toBeNull();
    expect(await readSessionClaims(token, SECRET)).not.toBeNull();
  });
});

describe("sessionTokenFrom", () => {
  it("takes the cookie by its (secure or plain) name, or joins NextAuth's chunks in order", () => {
    expect(sessionCookieName(true)).toBe("__Secure-next-auth.session-token");
    expect(sessionTokenFrom(new Map([["next-auth.session-token", "abc"]]), false)).toBe("abc");
    expect(sessionTokenFrom(new Map([["next-auth.session-token", "abc"]]), true)).toBeNull();
    expect(sessionTokenFrom(new Map([["__Secure-next-auth.session-token.1", "def"], ["__Secure-next-auth.session-token.0", "abc"]]), true)).toBe("abcdef");
    expect(sessionTokenFrom(new Map(), false)).toBeNull();
  });
});
