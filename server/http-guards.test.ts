import { afterEach, describe, expect, it, vi } from "vitest";
import { DomainError } from "./errors";
import { isSameOrigin, routeFailure } from "./http-guards";

afterEach(() => vi.restoreAllMocks());

const post = (headers: Record<string, string>) => new Request("http://127.0.0.1:3000/api/trpc/x", { method: "POST", headers });

describe("same-origin check (issue 12, fault 12)", () => {
  it("ignores X-Forwarded-Host unless a reverse proxy is declared", () => {
    const forged = post({ origin: "https://evil.example", host: "127.0.0.1:3000", "x-forwarded-host": "evil.example" });
    expect(isSameOrigin(forged, 0)).toBe(false);
    expect(isSameOrigin(forged, 1)).toBe(true); // behind a declared proxy, the proxy sets the header
    expect(isSameOrigin(post({ origin: "http://127.0.0.1:3000", host: "127.0.0.1:3000" }), 0)).toBe(true);
    expect(isSameOrigin(post({ host: "127.0.0.1:3000" }), 0)).toBe(false);
  });
});

describe("route failures (issue 12, fault 12)", () => {
  it("answers an unexpected error with a generic 500 and an error id; the detail goes to the log only", async () => {
    const logged: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });
    const detail = "Invalid `prisma.case.findMany()` invocation: column \"narrative\" of relation \"Case\" …";
    const response = routeFailure(new Error(detail), "export");
    expect(response.status).toBe(500);
    const body = (await response.json()) as { error: { message: string; errorId: string } };
    expect(body.error.message).not.toContain("prisma");
    expect(body.error.message).toContain(body.error.errorId);
    expect(body.error.errorId).toMatch(/^[0-9a-f-]{36}$/);
    const line = logged.find((l) => l.includes(body.error.errorId));
    expect(line).toContain("prisma.case.findMany");
  });

  it("keeps domain errors as their status and message", async () => {
    const response = routeFailure(new DomainError("NOT_FOUND", "No such project."), "export");
    expect(response.status).toBe(404);
    expect(await response.json()).toEqual({ error: { message: "No such project." } });
  });
});
