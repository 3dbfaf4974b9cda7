/**
 * The session-end rule's pieces (session-end.ts): which tRPC errors are a 401, and where the app sends the
 * browser after one (the reason, and the page to come back to — never another origin or the sign-in page).
 */
import { TRPCClientError } from "@trpc/client";
import { describe, expect, it } from "vitest";
import { isUnauthorized, SESSION_ENDED_REASON, signInAfterSessionEnd, trpcErrorCode } from "./session-end";

/** A tRPC client error as the batch link builds it from the server's answer. */
function answered(code: string, httpStatus: number): TRPCClientError<never> {
  return TRPCClientError.from({ error: { message: "m", code: -32000, data: { code, httpStatus } } } as never);
}

describe("isUnauthorized", () => {
  it("is true for the server's 401 only", () => {
    expect(isUnauthorized(answered("UNAUTHORIZED", 401))).toBe(true);
    expect(isUnauthorized(answered("FORBIDDEN", 403))).toBe(false);
    expect(isUnauthorized(answered("NOT_FOUND", 404))).toBe(false);
    expect(isUnauthorized(answered("SERVICE_UNAVAILABLE", 503))).toBe(false);
  });

  it("is false for errors the server did not answer", () => {
    expect(isUnauthorized(new Error("Sign in first."))).toBe(false);
    expect(isUnauthorized(TRPCClientError.from(new TypeError("Failed to fetch")))).toBe(false);
    expect(isUnauthorized(null)).toBe(false);
  });
});

describe("trpcErrorCode", () => {
  it("reads the code of an answered error, null otherwise", () => {
    expect(trpcErrorCode(answered("NOT_FOUND", 404))).toBe("NOT_FOUND");
    expect(trpcErrorCode(TRPCClientError.from(new TypeError("Failed to fetch")))).toBeNull();
    expect(trpcErrorCode(new Error("x"))).toBeNull();
  });
});

describe("signInAfterSessionEnd", () => {
  it("names the reason and the page to come back to", () => {
    const url = new URL(signInAfterSessionEnd("/queue/p1?case=c2"), "http://app.local");
    expect(url.pathname).toBe("/signin");
    expect(url.searchParams.get("reason")).toBe(SESSION_ENDED_REASON);
    expect(url.searchParams.get("callbackUrl")).toBe("/queue/p1?case=c2");
  });

  it("keeps no callback to another origin or to the sign-in page itself", () => {
    for (const path of ["//evil.example/x", "https://evil.example/", "/signin?reason=session-ended"]) {
      const url = new URL(signInAfterSessionEnd(path), "http://app.local");
      expect(url.searchParams.get("reason")).toBe(SESSION_ENDED_REASON);
      expect(url.searchParams.has("callbackUrl")).toBe(false);
    }
  });
});
