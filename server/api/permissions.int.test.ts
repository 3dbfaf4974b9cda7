/**
 * Calls EVERY procedure of the app router as every role and anonymously, and checks the outcome
 * against the one declared permission matrix. A procedure without an entry fails here, and so
 * does one that enforces something else than its entry. Inputs are deliberately absent: an
 * allowed caller then fails input validation (BAD_REQUEST) or succeeds, a refused caller gets
 * UNAUTHORIZED/FORBIDDEN before its input is even read, so nothing is changed by this test.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { can, type ProjectPermission } from "@/contracts/permissions";
import { ROLES, type RoleName } from "@/contracts/roles";
import { createMembersWithProjectRoles, PROCEDURE_INPUTS, ROUTE_CALLS, seedAccessProject, type AccessIds } from "../testing/access-fixtures";
import { createTestUser, testDb } from "../testing/fixtures";
import type { Actor } from "../services/context";
import { isAllowed, PERMISSIONS, ROUTE_PERMISSIONS, type Access, type RoutePath } from "./permissions";
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

/**
 * Project-scoped entries ({ project } / { memberOf }) are decided by the caller's role IN THE
 * PROJECT. Each member below has one project role and a different platform role, so only the
 * project role can explain an outcome. Every project procedure is called with valid inputs naming
 * the project's own ids: a role the matrix refuses gets FORBIDDEN, a role it allows gets past the
 * front door (any answer but FORBIDDEN/UNAUTHORIZED/INTERNAL_SERVER_ERROR — the factory answers the
 * latter when a service skipped requireProject); a non-member gets NOT_FOUND whatever their role.
 */
describe("project permissions: the role in the project decides", () => {
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-permissions-"));
  let ids: AccessIds;
  let members: Map<RoleName, Actor>;
  let outsider: Actor;
  beforeAll(async () => {
    members = await createMembersWithProjectRoles(ROLES);
    outsider = await createTestUser("ADMIN");
    ids = await seedAccessProject([...members].map(([role, actor]) => ({ userId: actor.id, role })), storageDir, "permissions");
    // The clinician annotated the first case, so opening it from the case browser is theirs to do (cases.get).
    await testDb().annotation.create({ data: { caseId: ids.caseId, authorId: members.get("CLINICIAN")!.id, version: 1, labels: ["normal"] } });
  });
  afterAll(() => fs.rmSync(storageDir, { recursive: true, force: true }));

  const projectProcedures = procedures
    .map(([p, proc]) => [p, proc._def.type, PERMISSIONS[p as keyof typeof PERMISSIONS] as Access] as const)
    .filter(([, , access]) => typeof access === "object" && "project" in access) as [string, string, { project: ProjectPermission }][];

  it("has a valid input for every project procedure (a new one must be added to server/testing/access-fixtures.ts)", () => {
    expect(projectProcedures.length).toBeGreaterThan(20);
    expect(projectProcedures.map(([p]) => p).filter((p) => !PROCEDURE_INPUTS[p])).toEqual([]);
  });

  async function code(actor: Actor, p: string, input: unknown): Promise<string | null> {
    const caller = createCaller({ db: testDb(), actor });
    const fn = p.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (input?: unknown) => Promise<unknown>;
    try {
      await fn(input);
      return null;
    } catch (error) {
      if (error instanceof TRPCError) return error.code;
      throw error;
    }
  }

  const cases = projectProcedures.flatMap(([p, type, access]) => ROLES.map((role) => [p, type, access.project, role] as const));
  it.each(cases)("%s (%s, %s) as a project %s", async (p, _type, permission, role) => {
    const result = await code(members.get(role)!, p, PROCEDURE_INPUTS[p]!(ids));
    if (can(role, permission)) expect(["FORBIDDEN", "UNAUTHORIZED", "INTERNAL_SERVER_ERROR"], `${p} refused a ${role}`).not.toContain(result);
    else expect(result).toBe("FORBIDDEN");
  });

  it.each(projectProcedures.map(([p]) => p))("%s refuses a non-member (a platform admin) with NOT_FOUND", async (p) => {
    expect(await code(outsider, p, PROCEDURE_INPUTS[p]!(ids))).toBe("NOT_FOUND");
  });

  const listProcedures = procedures
    .map(([p]) => [p, PERMISSIONS[p as keyof typeof PERMISSIONS] as Access] as const)
    .filter(([, access]) => typeof access === "object" && "memberOf" in access) as [string, { memberOf: ProjectPermission }][];
  it.each(listProcedures.flatMap(([p, access]) => ROLES.map((role) => [p, access.memberOf, role] as const)))("list %s (%s) as a project %s shows the project only when the role allows", async (p, permission, role) => {
    const caller = createCaller({ db: testDb(), actor: members.get(role)! });
    const fn = p.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as () => Promise<unknown>;
    const data = await fn();
    // queue.summary counts the open items of the projects the caller annotates in; the lists name the project.
    const shown = p === "queue.summary" ? (data as { openItems: number }).openItems > 0 : JSON.stringify(data).includes(ids.projectId);
    expect(shown).toBe(can(role, permission));
  });

  it("lists every REST route under app/api (auth and tRPC aside) in ROUTE_PERMISSIONS", () => {
    const apiDir = path.resolve(import.meta.dirname, "../../app/api");
    const routes: string[] = [];
    const walk = (dir: string) => {
      for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
        const full = path.join(dir, entry.name);
        if (entry.isDirectory()) walk(full);
        else if (entry.name === "route.ts") {
          const source = fs.readFileSync(full, "utf8");
          const url = "/api/" + path.relative(apiDir, dir).split(path.sep).join("/");
          for (const method of ["GET", "POST", "PUT", "PATCH", "DELETE"]) if (new RegExp(`export (async )?function ${method}\\b`).test(source)) routes.push(`${method} ${url}`);
        }
      }
    };
    walk(apiDir);
    const covered = routes.filter((r) => !r.includes("/api/auth/") && !r.includes("/api/trpc/"));
    expect(covered.length).toBeGreaterThanOrEqual(3);
    expect(covered.sort()).toEqual(Object.keys(ROUTE_PERMISSIONS).sort());
  });

  it.each(Object.keys(ROUTE_PERMISSIONS).flatMap((route) => ROLES.map((role) => [route, role] as const)))("route %s as a project %s follows the matrix", async (route, role) => {
    const permission = ROUTE_PERMISSIONS[route as RoutePath];
    const result = await ROUTE_CALLS[route as RoutePath](members.get(role)!, ids, storageDir);
    // The image route answers a refused role like a missing image (404), so ids cannot be probed.
    expect(result).toBe(can(role, permission) ? "allowed" : route.startsWith("GET /api/images/") ? "NOT_FOUND" : "FORBIDDEN");
  });

  it.each(Object.keys(ROUTE_PERMISSIONS))("route %s refuses a non-member with NOT_FOUND", async (route) => {
    expect(await ROUTE_CALLS[route as RoutePath](outsider, ids, storageDir)).toBe("NOT_FOUND");
  });
});
