/** parseCookieHeader reads a Cookie header as Next.js's cookies() does (the tRPC server's session source, issue 16). */
import { describe, expect, it, vi } from "vitest";

// server/auth/session.ts guards against client bundles with "server-only", which throws outside a react-server build.
vi.mock("server-only", () => ({}));
const { parseCookieHeader } = await import("./session");

describe("parseCookieHeader", () => {
  it("reads name=value pairs split at ';' with or without spaces, URI-decoded", () => {
    const jar = parseCookieHeader("a=1; next-auth.session-token=eyJ.x.y;b=hello%20world");
    expect([...jar]).toEqual([
      ["a", "1"],
      ["next-auth.session-token", "eyJ.x.y"],
      ["b", "hello world"],
    ]);
  });

  it("keeps '=' inside a value, lets a later pair replace an earlier one, skips an undecodable value", () => {
    const jar = parseCookieHeader("t=abc==; t=second; bad=%E0%A4%A; flag");
    expect(jar.get("t")).toBe("second");
    expect(jar.has("bad")).toBe(false);
    expect(jar.get("flag")).toBe("true");
    expect(parseCookieHeader("x=a=b").get("x")).toBe("a=b");
  });

  it("no header, an empty one: no cookies", () => {
    expect(parseCookieHeader(null).size).toBe(0);
    expect(parseCookieHeader(undefined).size).toBe(0);
    expect(parseCookieHeader("").size).toBe(0);
  });
});
