/**
 * Shared by the loop's integration tests and scripts/bench-loop.ts: a minority-vs-rest task from
 * the real MTSamples transcriptions (../shared/data/text/mtsamples), a project holding it, a
 * worker context on a temporary blob store, and polling for JobRuns.
 *
 * Task rule: rows are grouped by text_group_id (mtsamples_text_groups.csv) and each group becomes
 * ONE case, labelled "minority" when any of its rows carries the minority specialty
 * (minority-wins, as scripts/lib/sim-data does), so one text can never be in both TEST and POOL.
 * TEST is a seeded 20 % of the groups; TEST cases carry their label as importedLabel (ground
 * truth for evaluation); POOL labels stay with the caller, which reveals them as a clinician would.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import PgBoss from "pg-boss";
import { releaseHeadSessions } from "@/models/registry";
import { parseCsv } from "@/scripts/lib/csv";
import type { Db, Prisma } from "@/server/db/client";
import { stopJobClient } from "@/server/services/enqueue-job";
import { createLocalBlobStore } from "@/server/storage/blob-store";
import { createRng, permutation } from "@/workers/ml/rng";
import { setWorkerContext, type WorkerContext } from "../jobs/job-runtime";
import { selectJob } from "../jobs/select";
import { trainJob } from "../jobs/train";

export const MTSAMPLES_DIR = path.resolve(import.meta.dirname, "../../../shared/data/text/mtsamples");

export interface LoopCase {
  externalId: string;
  narrative: string;
  label: "minority" | "rest";
  split: "POOL" | "TEST";
}

/** `size` cases (one per text group) with about `minorityShare` of them minority (`specialty`). */
export function loadMtsamplesTask(options: { size: number; specialty: string; minorityShare: number; seed: number }): LoopCase[] {
  const csvFile = path.join(MTSAMPLES_DIR, "mtsamples.csv");
  const groupsFile = path.join(MTSAMPLES_DIR, "mtsamples_text_groups.csv");
  const table = parseCsv(fs.readFileSync(csvFile, "utf8"), { file: csvFile });
  const groupsTable = parseCsv(fs.readFileSync(groupsFile, "utf8"), { file: groupsFile });
  const col = (header: string[], name: string) => {
    const i = header.indexOf(name);
    if (i < 0) throw new Error(`${name} column missing`);
    return i;
  };
  const groupOf = new Map(groupsTable.rows.map((r) => [r[col(groupsTable.header, "note_id")]!, r[col(groupsTable.header, "text_group_id")]!]));
  const [idC, specC, textC] = [col(table.header, "note_id"), col(table.header, "medical_specialty"), col(table.header, "transcription")];
  const groups = new Map<string, { text: string; minority: boolean }>();
  for (const row of table.rows) {
    const text = row[textC]!.trim();
    if (!text) continue;
    const group = groupOf.get(row[idC]!);
    if (!group) throw new Error(`note_id ${row[idC]} has no text group`);
    const entry = groups.get(group) ?? { text, minority: false };
    entry.minority ||= row[specC]!.trim() === options.specialty;
    groups.set(group, entry);
  }
  const ids = [...groups.keys()].sort();
  const rng = createRng(options.seed);
  const order = permutation(ids.length, rng);
  const wantMinority = Math.round(options.size * options.minorityShare);
  const picked: string[] = [];
  let minority = 0;
  for (const i of order) {
    const id = ids[i]!;
    const g = groups.get(id)!;
    if (g.minority ? minority < wantMinority : picked.length - minority < options.size - wantMinority) {
      picked.push(id);
      if (g.minority) minority++;
    }
    if (picked.length === options.size) break;
  }
  return picked.map((id) => {
    const g = groups.get(id)!;
    return { externalId: `mts-group-${id}`, narrative: g.text, label: g.minority ? "minority" : "rest", split: rng.next() < 0.2 ? "TEST" : "POOL" };
  });
}

export const LOOP_LABEL_SCHEMA = {
  labels: [
    { key: "minority", name: "Neurology", shortcut: "1" },
    { key: "rest", name: "Other specialty", shortcut: "2" },
  ],
  multiLabel: false,
};

/**
 * A project with the task's cases; TEST cases get their label as importedLabel. Returns ids by externalId.
 * `seedPerClass`: that many POOL cases of each class become SEED cases with their imported label, so
 * the first training set holds both classes whatever the (random) cold-start round drew — without
 * them a 6-case cold start holds no minority case in about a third of runs and nothing trains.
 */
export async function createLoopProject(
  db: Db,
  cases: LoopCase[],
  options: { memberIds: string[]; selectionParams: Prisma.InputJsonObject; settings?: Prisma.InputJsonObject; encoderDim?: number; seedPerClass?: number },
) {
  const project = await db.project.create({
    data: {
      name: `Loop ${crypto.randomBytes(5).toString("hex")}`,
      labelSchema: LOOP_LABEL_SCHEMA,
      minorityClasses: ["minority"],
      selectionParams: options.selectionParams,
      encoderConfig: { kind: "builtin", dim: options.encoderDim ?? 384 },
      // Rounds run back to back here: no minimum interval between automatic trainings unless a test sets one.
      settings: { annotationsPerCase: 1, leaseMinutes: 30, showPredictions: false, minTrainingIntervalMinutes: 0, ...options.settings },
      members: { create: options.memberIds.map((userId) => ({ userId })) },
    },
    select: { id: true },
  });
  for (let s = 0; s < cases.length; s += 1000) {
    await db.case.createMany({
      data: cases.slice(s, s + 1000).map((c) => ({
        projectId: project.id,
        externalId: c.externalId,
        narrative: c.narrative,
        split: c.split,
        importedLabel: c.split === "TEST" ? c.label : null,
      })),
    });
  }
  const rows = await db.case.findMany({ where: { projectId: project.id }, select: { id: true, externalId: true } });
  const byExternal = new Map(rows.map((r) => [r.externalId, r.id]));
  for (const label of ["minority", "rest"] as const) {
    const seeds = cases.filter((c) => c.split === "POOL" && c.label === label).slice(0, options.seedPerClass ?? 0);
    for (const c of seeds) await db.case.update({ where: { id: byExternal.get(c.externalId)! }, data: { split: "SEED", importedLabel: label } });
  }
  const truth = new Map(cases.map((c) => [byExternal.get(c.externalId)!, c]));
  return { projectId: project.id, truth };
}

/** A worker context for tests and benchmarks: the given client, a blob store in `storageDir`, pg-boss for wake-ups. */
export function testWorkerContext(db: Db, storageDir: string, boss: PgBoss | null): WorkerContext {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set");
  return {
    db,
    store: createLocalBlobStore(storageDir),
    databaseUrl: url,
    provider: "cpu",
    async send(kind, data) {
      if (!boss) return;
      await boss.createQueue(kind);
      await boss.send(kind, data);
    },
  };
}

/** A real pg-boss worker in the test process: a temp blob store, the worker context set, and the train and select jobs registered. */
export interface LoopWorker {
  boss: PgBoss;
  worker: WorkerContext;
  /** The local blob store's root (a fresh temp directory). */
  storageDir: string;
}

/** Start a LoopWorker for an integration test's `beforeAll`; `name` prefixes the temp directory and names the pg-boss application. */
export async function startLoopWorker(db: Db, name: string): Promise<LoopWorker> {
  const storageDir = fs.mkdtempSync(path.join(os.tmpdir(), `${name}-`));
  const boss = new PgBoss({ connectionString: process.env.DATABASE_URL!, schema: "pgboss", application_name: `${name}-test` });
  const loop = { boss, worker: testWorkerContext(db, storageDir, boss), storageDir };
  await boss.start();
  setWorkerContext(loop.worker);
  await trainJob.register(boss);
  await selectJob.register(boss);
  return loop;
}

/** Undo startLoopWorker in `afterAll` (also when it failed part way: `loop` may be undefined). */
export async function stopLoopWorker(loop: LoopWorker | undefined) {
  setWorkerContext(null);
  await stopJobClient();
  await loop?.boss.stop({ graceful: false, wait: true });
  await releaseHeadSessions();
  if (loop) fs.rmSync(loop.storageDir, { recursive: true, force: true });
}

/** Polls until the JobRun is SUCCEEDED or FAILED (or the time is up); returns the row. */
export async function waitForJobRun(db: Db, jobRunId: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await db.jobRun.findUnique({ where: { id: jobRunId } });
    if (row && (row.status === "SUCCEEDED" || row.status === "FAILED")) return row;
    if (Date.now() > deadline) throw new Error(`JobRun ${jobRunId} still ${row?.status ?? "missing"} (${row?.stage}) after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * Polls for the newest JobRun of `kind` in the project created after `since`. The default wait is
 * long: the test's worker shares pg-boss with the earlier test files, whose leftover jobs (a RADS
 * select, a train) it may run first on a loaded 2-core machine before it reaches this one.
 */
export async function waitForNewJobRun(db: Db, projectId: string, kind: string, since: Date, timeoutMs = 120_000) {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const row = await db.jobRun.findFirst({ where: { projectId, kind, createdAt: { gte: since } }, orderBy: { createdAt: "desc" } });
    if (row) return row;
    if (Date.now() > deadline) throw new Error(`No ${kind} JobRun for project ${projectId} within ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

/**
 * `count` cases, one per non-empty MTSamples row, cycling through the rows again when `count`
 * exceeds them (for benchmarks: a copy keeps its row's split, so copies never straddle TEST and
 * training). TEST = a seeded 20 % of the text groups. Label: `specialty` → minority, else rest.
 */
export function loadMtsamplesRows(options: { count: number; specialty: string; seed: number }): LoopCase[] {
  const csvFile = path.join(MTSAMPLES_DIR, "mtsamples.csv");
  const groupsFile = path.join(MTSAMPLES_DIR, "mtsamples_text_groups.csv");
  const table = parseCsv(fs.readFileSync(csvFile, "utf8"), { file: csvFile });
  const groups = parseCsv(fs.readFileSync(groupsFile, "utf8"), { file: groupsFile });
  const groupOf = new Map(groups.rows.map((r) => [r[groups.header.indexOf("note_id")]!, r[groups.header.indexOf("text_group_id")]!]));
  const [idC, specC, textC] = ["note_id", "medical_specialty", "transcription"].map((n) => table.header.indexOf(n)) as [number, number, number];
  const rows = table.rows.filter((r) => r[textC]!.trim() !== "");
  const rng = createRng(options.seed);
  const testGroups = new Set([...new Set(groupOf.values())].filter(() => rng.next() < 0.2));
  return Array.from({ length: options.count }, (_, i) => {
    const row = rows[i % rows.length]!;
    return {
      externalId: `mts-row-${row[idC]}-${Math.floor(i / rows.length)}`,
      narrative: row[textC]!.trim(),
      label: row[specC]!.trim() === options.specialty ? "minority" : "rest",
      split: testGroups.has(groupOf.get(row[idC]!) ?? "") ? "TEST" : "POOL",
    };
  });
}
