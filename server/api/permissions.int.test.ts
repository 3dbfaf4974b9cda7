/**
 * Calls EVERY procedure of the app router as every role and anonymously, and checks the outcome
 * against the one declared permission matrix. A procedure without an entry fails here, and so
 * does one that enforces something else than its entry. Inputs are deliberately absent: an
 * allowed caller then fails input validation (BAD_REQUEST) or succeeds, a refused caller gets
 * UNAUTHORIZED/FORBIDDEN before its input is even read, so nothing is changed by this test.
 */
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ROLES, type RoleName } from "@/contracts/roles";
import { createTestUser, testDb } from "../testing/fixtures";
import type { Actor } from "../services/context";
import { isAllowed, PERMISSIONS } from "./permissions";
import { appRouter, createCaller } from "./root";

const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, { _def: { type: string; meta?: { path?: string } } }>);

const actors = new Map<RoleName, Actor>();
beforeAll(async () => {
  for (const role of ROLES) actors.set(role, await createTestUser(role));
});
afterAll(async () => {
  await testDb().$disconnect();
});

async function callAs(path: string, type: string, actor: Actor | null): Promise<"allowed" | "UNAUTHORIZED" | "FORBIDDEN"> {
  const caller = createCaller({ db: testDb(), actor });
  const fn = path.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (input?: unknown) => Promise<unknown>;
  expect(typeof fn, `${path} (${type}) is callable`).toBe("function");
  try {
    await fn(undefined);
    return "allowed";
  } catch (error) {
    if (error instanceof TRPCError && (error.code === "UNAUTHORIZED" || error.code === "FORBIDDEN")) return error.code;
    return "allowed"; // passed the gate; failed later (input validation, not found, ...)
  }
}

describe("permission matrix", () => {
  it("covers exactly the router's procedures", () => {
    const routerPaths = procedures.map(([path]) => path).sort();
    expect(routerPaths.length).toBeGreaterThan(5);
    expect(routerPaths).toEqual(Object.keys(PERMISSIONS).sort());
  });

  it.each(procedures.map(([path, proc]) => [path, proc] as const))("%s is built from its own matrix entry", (path, proc) => {
    expect(proc._def.meta?.path).toBe(path);
  });

  const cases = procedures.flatMap(([path, proc]) =>
    [null, ...ROLES].map((role) => [path, proc._def.type, role] as [string, string, RoleName | null]),
  );
  it.each(cases)("%s (%s) as %s", async (path, type, role) => {
    const access = PERMISSIONS[path as keyof typeof PERMISSIONS];
    const outcome = await callAs(path, type, role ? actors.get(role)! : null);
    if (isAllowed(access, role)) expect(outcome).toBe("allowed");
    else expect(outcome).toBe(role ? "FORBIDDEN" : "UNAUTHORIZED");
  });
});
