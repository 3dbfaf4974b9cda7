/**
 * Access control beyond roles: members of project A (a clinician, a data scientist, a reviewer and
 * an admin) get NOTHING of project B. Table-driven over the app router: every procedure whose input
 * names a project, case, model version, job run, round or image is called with B's ids (and with
 * guessed ids) by every A-member and must answer NOT_FOUND or FORBIDDEN, return no data, and change
 * nothing in B. Procedures without ids (lists) must not mention any of B's ids. The services the
 * image and export routes call are checked the same way; the HTTP side is playwright/security.spec.ts.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createTestUser, testDb } from "../testing/fixtures";
import { PROCEDURE_INPUTS, ROUTE_CALLS, seedAccessProject, type AccessIds } from "../testing/access-fixtures";
import { createServiceContext, type Actor } from "../services/context";
import { exportLabels } from "../services/export-service";
import { readImageForMember } from "../services/image-service";
import { createLocalBlobStore } from "../storage/blob-store";
import { ROUTE_PERMISSIONS, type RoutePath } from "./permissions";
import { appRouter, createCaller } from "./root";

type Proc = { _def: { type: string; inputs?: { shape?: Record<string, unknown> }[] } };
const procedures = Object.entries(appRouter._def.procedures as unknown as Record<string, Proc>);

/** Input keys that name something that belongs to a project. */
const ID_KEYS = ["projectId", "caseId", "modelVersionId", "jobRunId", "roundId", "imageId", "queueItemId", "batchId", "advanceInProject"];
/**
 * Global, ADMIN-only procedures: users and the audit log are not project data, and the platform
 * admin's overview of every project with "Join as Admin" (PLATFORM_PERMISSIONS "projects.administer")
 * is the one deliberate view across projects (permissions.int.test.ts covers their roles).
 */
const GLOBAL = new Set(["users.create", "users.setRole", "users.setActive", "users.resetPassword", "users.list", "audit.list", "members.allProjects", "members.joinAsAdmin"]);

type Ids = AccessIds;
/** Valid inputs naming the given ids: only membership can refuse them (server/testing/access-fixtures.ts). */
const INPUTS = PROCEDURE_INPUTS;

const roles = ["CLINICIAN", "DATA_SCIENTIST", "REVIEWER", "ADMIN"] as const;
const membersOfA = new Map<(typeof roles)[number], Actor>();
let a: Ids;
let b: Ids;
let bSecrets: string[];
let storageDir: string;

async function stateOfB() {
  const db = testDb();
  const where = { case: { projectId: b.projectId } };
  return {
    annotations: await db.annotation.count({ where }),
    drafts: await db.annotationDraft.count({ where }),
    leases: await db.queueLease.count({ where: { queueItem: { round: { projectId: b.projectId } } } }),
    items: await db.queueItem.findMany({ where: { round: { projectId: b.projectId } }, select: { id: true, status: true }, orderBy: { id: "asc" } }),
    jobs: await db.jobRun.count({ where: { projectId: b.projectId } }),
    models: await db.modelVersion.findMany({ where: { projectId: b.projectId }, select: { id: true, status: true }, orderBy: { id: "asc" } }),
    rounds: await db.selectionRound.count({ where: { projectId: b.projectId } }),
    members: await db.projectMember.findMany({ where: { projectId: b.projectId }, select: { userId: true, role: true }, orderBy: { userId: "asc" } }),
    project: await db.project.findUniqueOrThrow({ where: { id: b.projectId }, select: { name: true, archivedAt: true, labelSchema: true, minorityClasses: true, selectionParams: true, encoderConfig: true, settings: true } }),
    cases: await db.case.findMany({ where: { projectId: b.projectId }, select: { id: true, split: true, priorityRequestedAt: true }, orderBy: { id: "asc" } }),
  };
}

async function seedProject(memberIds: string[], label: string): Promise<Ids> {
  const users = await testDb().user.findMany({ where: { id: { in: memberIds } }, select: { id: true, role: true } });
  return seedAccessProject(users.map((u) => ({ userId: u.id, role: u.role })), storageDir, label);
}

beforeAll(async () => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-xproject-"));
  for (const role of roles) membersOfA.set(role, await createTestUser(role));
  const bClinician = await createTestUser("CLINICIAN");
  const bScientist = await createTestUser("DATA_SCIENTIST");
  a = await seedProject([...membersOfA.values()].map((m) => m.id), "a");
  b = await seedProject([bClinician.id, bScientist.id], "b");
  await testDb().annotation.create({ data: { caseId: b.caseId, authorId: bClinician.id, version: 1, labels: ["normal"], comment: "B's own label" } });
  const bCases = await testDb().case.findMany({ where: { projectId: b.projectId }, select: { id: true, externalId: true } });
  bSecrets = [b.projectId, b.modelVersionId, b.jobRunId, b.imageId, ...bCases.map((c) => c.id)];
  bSecrets.push((await testDb().project.findUniqueOrThrow({ where: { id: b.projectId }, select: { name: true } })).name);
});
afterAll(async () => {
  fs.rmSync(storageDir, { recursive: true, force: true });
  await testDb().$disconnect();
});

async function call(actor: Actor, procedure: string, input: unknown): Promise<{ code: string | null; data: unknown }> {
  const caller = createCaller({ db: testDb(), actor });
  const fn = procedure.split(".").reduce<unknown>((node, key) => (node as Record<string, unknown>)[key], caller) as (input?: unknown) => Promise<unknown>;
  try {
    return { code: null, data: await fn(input) };
  } catch (error) {
    if (error instanceof TRPCError) return { code: error.code, data: undefined };
    throw error;
  }
}

const idProcedures = procedures.filter(([p, proc]) => !GLOBAL.has(p) && Object.keys(proc._def.inputs?.[0]?.shape ?? {}).some((k) => ID_KEYS.includes(k))).map(([p]) => p);

describe("a member of project A gets nothing of project B", () => {
  it("every procedure with an id-like input is in the table (a new one must be added here)", () => {
    expect(idProcedures.length).toBeGreaterThan(10);
    expect(idProcedures.filter((p) => !INPUTS[p])).toEqual([]);
  });

  it("the table's inputs are valid: A's own members get through with A's ids (so a refusal below is membership, not validation)", async () => {
    const scientist = membersOfA.get("DATA_SCIENTIST")!;
    for (const p of ["selectionStats.get", "imports.listBatches", "jobs.list", "selectionStats.simulation"]) {
      expect((await call(scientist, p, INPUTS[p]!(a))).code, p).toBeNull();
    }
    const clinician = membersOfA.get("CLINICIAN")!;
    for (const p of ["queue.project", "annotations.case", "predictions.forCase"]) {
      expect((await call(clinician, p, INPUTS[p]!(a))).code, p).toBeNull();
    }
    expect((await call(membersOfA.get("REVIEWER")!, "review.get", INPUTS["review.get"]!(a))).code).toBeNull();
  });

  const cases = Object.keys(INPUTS).flatMap((p) => roles.map((role) => [p, role] as const));
  it.each(cases)("%s as %s of A with B's ids → NOT_FOUND, no data", async (p, role) => {
    const before = await stateOfB();
    const result = await call(membersOfA.get(role)!, p, INPUTS[p]!(b));
    expect(result.data, `${p} returned data`).toBeUndefined();
    // Not FORBIDDEN: a non-member must not learn that B (or its case, model, …) exists.
    expect(result.code).toBe("NOT_FOUND");
    expect(await stateOfB()).toEqual(before);
  });

  const guessed = (): Ids => {
    const g = () => `c${crypto.randomBytes(12).toString("hex").slice(0, 24)}`;
    return { projectId: g(), caseId: g(), modelVersionId: g(), jobRunId: g(), imageId: g(), spareUserId: g() };
  };
  it.each(Object.keys(INPUTS))("%s with guessed ids → NOT_FOUND (never a server error)", async (p) => {
    for (const role of roles) {
      const result = await call(membersOfA.get(role)!, p, INPUTS[p]!(guessed()));
      expect(result.data).toBeUndefined();
      expect(result.code).toBe("NOT_FOUND");
    }
  });

  it("list procedures (no id input) mention none of B's ids", async () => {
    const lists = procedures.filter(([p, proc]) => !GLOBAL.has(p) && proc._def.type === "query" && !idProcedures.includes(p)).map(([p]) => p);
    expect(lists).toEqual(expect.arrayContaining(["projects.listMine", "models.listMine", "review.list", "queue.mine", "selectionStats.projects"]));
    for (const p of lists) {
      for (const role of roles) {
        const result = await call(membersOfA.get(role)!, p, undefined);
        const text = JSON.stringify(result.data ?? null);
        for (const secret of bSecrets) expect(text.includes(secret), `${p} as ${role} mentions ${secret}`).toBe(false);
      }
    }
  });

  it("the image route's service serves A's image to A's members and nothing for B's or a guessed id", async () => {
    const blobs = createLocalBlobStore(storageDir);
    for (const role of roles) {
      const actor = membersOfA.get(role)!;
      expect(await readImageForMember(testDb(), actor, a.imageId, blobs), role).not.toBeNull();
      expect(await readImageForMember(testDb(), actor, b.imageId, blobs), role).toBeNull();
      expect(await readImageForMember(testDb(), actor, guessed().imageId, blobs), role).toBeNull();
    }
  });

  it.each(Object.keys(ROUTE_PERMISSIONS).flatMap((route) => roles.map((role) => [route, role] as const)))("REST route %s as %s of A with B's ids → NOT_FOUND, B unchanged", async (route, role) => {
    const before = await stateOfB();
    expect(await ROUTE_CALLS[route as RoutePath](membersOfA.get(role)!, b, storageDir)).toBe("NOT_FOUND");
    expect(await stateOfB()).toEqual(before);
  });

  it("the export route's service refuses B's labels to every A-member (and counts no export in B)", async () => {
    for (const role of roles) {
      const ctx = createServiceContext(testDb(), membersOfA.get(role)!);
      await expect(exportLabels(ctx, { projectId: b.projectId, format: "jsonl", history: true }), role).rejects.toMatchObject({ kind: "NOT_FOUND" });
    }
    expect(await testDb().auditEvent.count({ where: { projectId: b.projectId, action: { startsWith: "export" } } })).toBe(0);
  });
});
