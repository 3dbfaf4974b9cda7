import { describe, expect, it } from "vitest";
import { safeCallbackPath, safeCallbackUrl } from "./callback-url";

const ORIGIN = "https://rads.hospital.example";

describe("callbackUrl after sign-in stays on our origin (issue 12, fault 3)", () => {
  const offSite = [
    "/%5Cevil.example/x",
    "/\\evil.example/x",
    "\\\\evil.example/x",
    "/%09/evil.example/x",
    "/\t/evil.example/x",
    "/\n/evil.example/x",
    "//evil.example",
    "///evil.example",
    " //evil.example",
    "https://evil.example",
    "https:evil.example",
    "http://rads.hospital.example", // other scheme = other origin
    "https://rads.hospital.example.evil.example/",
    "https://rads.hospital.example@evil.example/",
    "javascript:alert(1)",
    "JaVaScRiPt:alert(1)",
    "data:text/html,<script>alert(1)</script>",
    "",
    "x".repeat(5000),
  ];
  for (const payload of offSite) {
    it(`${JSON.stringify(payload.slice(0, 40))} → our origin`, () => {
      const url = safeCallbackUrl(payload, ORIGIN);
      expect(new URL(url).origin).toBe(ORIGIN);
      const pathOnly = safeCallbackPath(payload, ORIGIN);
      expect(pathOnly.startsWith("/")).toBe(true);
      expect(pathOnly.startsWith("//")).toBe(false);
      expect(pathOnly).not.toContain("\\");
      // What a browser does with the path (the sign-in form navigates to it).
      expect(new URL(pathOnly, ORIGIN).origin).toBe(ORIGIN);
    });
  }

  it("keeps same-origin targets, absolute or relative, with query and fragment", () => {
    expect(safeCallbackUrl("/queue/p1?case=2#notes", ORIGIN)).toBe(`${ORIGIN}/queue/p1?case=2#notes`);
    expect(safeCallbackUrl(`${ORIGIN}/review`, ORIGIN)).toBe(`${ORIGIN}/review`);
    expect(safeCallbackPath("/.//evil.example/x", ORIGIN)).toBe("/evil.example/x");
    expect(safeCallbackUrl("/%5Cevil.example/x", ORIGIN)).toBe(`${ORIGIN}/%5Cevil.example/x`);
    expect(safeCallbackUrl(undefined, ORIGIN)).toBe(`${ORIGIN}/`);
    expect(safeCallbackUrl(42, ORIGIN)).toBe(`${ORIGIN}/`);
  });
});
