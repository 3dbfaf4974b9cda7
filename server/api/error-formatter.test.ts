import { fetchRequestHandler } from "@trpc/server/adapters/fetch";
import { afterEach, describe, expect, it, vi } from "vitest";
import type { Db } from "../db/client";
import { appRouter } from "./root";
import { UNREADABLE_INPUT_MESSAGE } from "./trpc";

afterEach(() => vi.restoreAllMocks());

describe("tRPC errors over HTTP (issue 12, fault 12)", () => {
  it("never sends database error text to the client: a generic message with an error id, the detail in the log", async () => {
    const logged: string[] = [];
    vi.spyOn(process.stderr, "write").mockImplementation((chunk: string | Uint8Array) => {
      logged.push(String(chunk));
      return true;
    });
    const detail = 'Invalid `prisma.user.findUnique()` invocation:\n\nError occurred during query execution: relation "User" password column …';
    // A database whose every call fails the way Prisma does.
    const db = new Proxy({}, { get: () => new Proxy(() => undefined, { get: () => () => Promise.reject(new Error(detail)), apply: () => Promise.reject(new Error(detail)) }) }) as unknown as Db;
    const response = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: new Request("http://127.0.0.1:3000/api/trpc/users.list"),
      router: appRouter,
      createContext: () => ({ db, actor: { id: "u1", role: "ADMIN" as const, name: "A", email: "a@test.local" } }),
    });
    expect(response.status).toBe(500);
    const text = await response.text();
    expect(text).not.toContain("prisma");
    expect(text).not.toContain("password");
    const errorId = /error id: ([0-9a-f-]{36})/.exec(text)?.[1];
    expect(errorId, text).toBeTruthy();
    expect(logged.find((l) => l.includes(errorId!))).toContain("prisma.user.findUnique");
  });

  it("states a refused input as 'path: message', not as the schema's issues in JSON", async () => {
    const db = new Proxy({}, { get: () => () => Promise.reject(new Error("no database in this test")) }) as unknown as Db;
    const response = await fetchRequestHandler({
      endpoint: "/api/trpc",
      req: new Request("http://127.0.0.1:3000/api/trpc/annotations.saveDraft", {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ json: { caseId: "case-1", baseVersion: 0, content: { labels: [], spans: [], uncertain: false, comment: "x\u0000y" } } }),
      }),
      router: appRouter,
      createContext: () => ({ db, actor: { id: "u1", role: "CLINICIAN" as const, name: "C", email: "c@test.local" } }),
    });
    expect(response.status).toBe(400);
    const body = (await response.json()) as { error: { json: { message: string; data: { fieldErrors: Record<string, string[]> | null } } } };
    expect(body.error.json.message).toMatch(/^content\.comment: .*NUL/);
    expect(body.error.json.message).not.toContain('"code"');
  });

  it("answers an input tRPC cannot read (null, broken JSON) with a fixed message, not the parser's text", async () => {
    const db = new Proxy({}, { get: () => () => Promise.reject(new Error("no database in this test")) }) as unknown as Db;
    for (const body of ["null", "{\"json\": ", "[1,"]) {
      const response = await fetchRequestHandler({
        endpoint: "/api/trpc",
        req: new Request("http://127.0.0.1:3000/api/trpc/annotations.saveDraft", { method: "POST", headers: { "content-type": "application/json" }, body }),
        router: appRouter,
        createContext: () => ({ db, actor: { id: "u1", role: "CLINICIAN" as const, name: "C", email: "c@test.local" } }),
      });
      expect(response.status, body).toBe(400);
      const answer = (await response.json()) as { error: { json: { message: string } } };
      expect(answer.error.json.message, body).toBe(UNREADABLE_INPUT_MESSAGE);
    }
  });
});
