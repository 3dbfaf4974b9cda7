/**
 * No patient identifier ever reaches a log. Cases carry KNOWN fake identifiers — a patient name,
 * an MRN and a birth date in DICOM tags (written by prisma/demo/dicom-writer.ts), in CSV columns,
 * in narratives, in file names, in clinicians' comments and evidence spans — in a project that
 * even allows storing identifiers. Then, with LOG_LEVEL=debug and EVERYTHING written to
 * stdout/stderr and console.* captured: an accepted import, a rejected one (whose problems quote
 * the bad rows), a cold-start select job, annotation drafts and submits (and a conflict) through
 * the tRPC procedures, a train job, a review approval and the RADS select job it triggers (run
 * in-process through the worker runtime), and an export. No captured line may contain any of them.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TRPCError } from "@trpc/server";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_IDENTIFIER_PATTERN } from "@/prisma/demo/narratives";
import { writeDicom } from "@/prisma/demo/dicom-writer";
import { releaseHeadSessions } from "@/models/registry";
import { executeJobRun, setWorkerContext, type WorkerContext } from "@/workers/jobs/job-runtime";
import { selectJob } from "@/workers/jobs/select";
import { trainJob } from "@/workers/jobs/train";
import { testWorkerContext } from "@/workers/testing/loop-fixtures";
import { appRouter, createCaller } from "./api/root";
import { createServiceContext, type Actor } from "./services/context";
import { stopJobClient } from "./services/enqueue-job";
import { exportLabels } from "./services/export-service";
import { importCases } from "./services/import-service";
import { createLocalBlobStore } from "./storage/blob-store";
import { createTestUser, testDb } from "./testing/fixtures";

const FAMILY = "Zyxwvutska";
const GIVEN = "Quorbelle";
const MRN = "MRN-FAKE-739104";
const BIRTH = "19230417";
const IDENTIFIERS = [FAMILY, GIVEN, MRN, BIRTH, "1923-04-17", "17.04.1923"];

const db = testDb();
const captured: string[] = [];
const restore: (() => void)[] = [];
let storageDir: string;
let worker: WorkerContext;
let scientist: Actor;
let clinician: Actor;
let reviewer: Actor;
let projectId: string;

function capture() {
  for (const stream of [process.stdout, process.stderr]) {
    const original = stream.write.bind(stream);
    stream.write = ((chunk: unknown, ...rest: unknown[]) => {
      captured.push(typeof chunk === "string" ? chunk : Buffer.from(chunk as Uint8Array).toString("utf8"));
      return (original as (...args: unknown[]) => boolean)(chunk, ...rest);
    }) as typeof stream.write;
    restore.push(() => (stream.write = original as typeof stream.write));
  }
  for (const method of ["log", "info", "warn", "error", "debug", "trace"] as const) {
    const original = console[method];
    console[method] = (...args: unknown[]) => {
      captured.push(args.map((a) => (typeof a === "string" ? a : a instanceof Error ? `${a.message}\n${a.stack}` : JSON.stringify(a))).join(" "));
      original(...args);
    };
    restore.push(() => (console[method] = original));
  }
}

function dicom(n: number, study: string) {
  const rows = 32;
  const pixels = new Uint16Array(rows * rows);
  for (let i = 0; i < pixels.length; i++) pixels[i] = (i * 37 + n * 101) % 4096;
  return writeDicom({
    sopInstanceUid: `2.25.7391${n}1`,
    studyInstanceUid: study,
    seriesInstanceUid: `${study}.1`,
    patientName: `${FAMILY}^${GIVEN}^${n}`,
    patientId: MRN,
    patientBirthDate: BIRTH,
    modality: "CT",
    studyDate: "20240102",
    seriesDescription: `Chest for ${FAMILY}`,
    rows,
    columns: rows,
    bitsStored: 12,
    pixelData: pixels,
  });
}

const text = (s: string) => new TextEncoder().encode(s);
const narrative = (i: number, finding: string) => `Patient ${GIVEN} ${FAMILY} (${MRN}, born 1923-04-17), visit ${i}: ${finding}.`;

beforeAll(async () => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-noid-"));
  worker = testWorkerContext(db, storageDir, null);
  setWorkerContext(worker);
  scientist = await createTestUser("DATA_SCIENTIST");
  clinician = await createTestUser("CLINICIAN");
  reviewer = await createTestUser("REVIEWER");
  const project = await db.project.create({
    data: {
      name: `no-identifiers-${Date.now()}`,
      labelSchema: { labels: [{ key: "normal", name: "Normal" }, { key: "rare", name: "Rare finding" }], multiLabel: false },
      minorityClasses: ["rare"],
      selectionParams: { strategy: "rads", budget: 6, episodes: 4, mcPasses: 3 },
      encoderConfig: { kind: "builtin", dim: 32 },
      settings: { allowPatientIdentifiers: true, annotationsPerCase: 1, leaseMinutes: 30, fourEyes: false, showPredictions: true, head: { hidden: [8], maxEpochs: 20 } },
      members: { create: [scientist, clinician, reviewer].map((u) => ({ userId: u.id })) },
    },
  });
  projectId = project.id;
  process.env.LOG_LEVEL = "debug";
  capture();
});

afterAll(async () => {
  for (const undo of restore.reverse()) undo();
  delete process.env.LOG_LEVEL;
  setWorkerContext(null);
  await stopJobClient();
  await releaseHeadSessions();
  fs.rmSync(storageDir, { recursive: true, force: true });
});

async function runJob(kind: "train" | "select", payload: Record<string, unknown>, jobRunId?: string) {
  const id = jobRunId ?? (await db.jobRun.create({ data: { projectId, kind, payload: { projectId, ...payload }, requestedById: scientist.id } })).id;
  const outcome = await executeJobRun((kind === "train" ? trainJob : selectJob).spec as never, worker, id, true);
  expect(outcome.status, JSON.stringify(outcome)).toBe("succeeded");
  return outcome;
}

describe("no patient identifiers in logs", () => {
  it("imports, jobs, annotations, review and export log ids and counts only", async () => {
    const blobs = createLocalBlobStore(storageDir);
    const scientistCtx = () => createServiceContext(db, scientist);

    // 1. An accepted import: identifiers in columns, narratives, DICOM tags and file names.
    const rows = ["id,text,label,split,patient_name,mrn,dob"];
    for (let i = 0; i < 20; i++) {
      const split = i < 8 ? "TEST" : "POOL";
      const label = split === "TEST" ? (i % 2 ? "rare" : "normal") : "";
      rows.push(`case-${i},"${narrative(i, i % 2 ? "spiculated nodule" : "lungs clear")}",${label},${split},${GIVEN} ${FAMILY},${MRN},1923-04-17`);
    }
    const accepted = await importCases(
      scientistCtx(),
      {
        projectId,
        files: [
          { name: `${FAMILY}-${MRN}.csv`, bytes: text(rows.join("\n") + "\n") },
          { name: `${GIVEN}_${FAMILY}_1.dcm`, bytes: dicom(1, "2.25.73911") },
          { name: `${GIVEN}_${FAMILY}_2.dcm`, bytes: dicom(2, "2.25.73912") },
        ],
        mapping: {},
        via: "upload",
      },
      { blobs },
    );
    expect(accepted.status).toBe("imported");
    // The identifiers are really in the data (this project allows them), so a leak would show.
    const image = await db.caseImage.findFirstOrThrow({ where: { case: { projectId } } });
    expect(JSON.stringify(image.attributes)).toContain(MRN);

    // 2. A rejected import: its problems quote the bad rows, the log must not.
    const truncated = dicom(3, "2.25.73913").slice(0, 400);
    const rejected = await importCases(
      scientistCtx(),
      {
        projectId,
        files: [
          { name: `bad-${FAMILY}.csv`, bytes: text(`id,text\nx-1,"${narrative(1, "unterminated quote")}\nx-2,"${MRN}" oops\n`) },
          { name: `${GIVEN}-${MRN}.dcm`, bytes: truncated },
        ],
        mapping: { labelCol: `${FAMILY}-column` },
        via: "upload",
      },
      { blobs },
    );
    expect(rejected.status).toBe("rejected");
    if (rejected.status === "rejected") expect(JSON.stringify(rejected.issues)).toContain(MRN);

    // 3. Cold-start round through the select job; clinicians work it through the procedures.
    await runJob("select", { reason: "manual" });
    const caller = createCaller({ db, actor: clinician });
    for (let k = 0; k < 6; k++) {
      const next = (await caller.queue.next({ projectId })) as { caseId?: string; case?: { id: string } } | null;
      const caseId = next?.caseId ?? next?.case?.id;
      expect(caseId, JSON.stringify(next)).toBeTruthy();
      const stored = await db.case.findUniqueOrThrow({ where: { id: caseId! }, select: { narrative: true } });
      const at = stored.narrative?.indexOf(GIVEN) ?? -1;
      const content = {
        labels: [k % 2 ? "rare" : "normal"],
        // An evidence span on the patient's name where the case has a narrative (image-only cases have none).
        spans: at >= 0 ? [{ start: at, end: at + GIVEN.length, label: "rare", text: GIVEN }] : [],
        uncertain: k === 0,
        comment: `Discussed with ${GIVEN} ${FAMILY}, ${MRN}, DOB 17.04.1923`,
      };
      await caller.annotations.saveDraft({ caseId: caseId!, baseVersion: 0, content });
      await caller.annotations.submit({ caseId: caseId!, expectedVersion: 0, content, timeSpentMs: 1500 });
      // A stale second submit: a CONFLICT carrying both versions (with the comment) goes to the caller, not the log.
      await expect(caller.annotations.submit({ caseId: caseId!, expectedVersion: 0, content, timeSpentMs: 10 })).rejects.toBeInstanceOf(TRPCError);
    }
    await expect(caller.queue.skip({ projectId, caseId: `no-such-${MRN}`, reason: `wrong patient ${FAMILY}` })).rejects.toBeInstanceOf(TRPCError);

    // 4. Train, approve (which asks for a select run), run that select job, export.
    await runJob("train", { reason: "manual", headConfig: { hidden: [8], maxEpochs: 20 } });
    const model = await db.modelVersion.findFirstOrThrow({ where: { projectId }, orderBy: { version: "desc" } });
    expect(model.status).toBe("CANDIDATE");
    await createCaller({ db, actor: reviewer }).review.decide({ modelVersionId: model.id, decision: "approve", note: `ok (checked ${FAMILY})` });
    const selectRun = await db.jobRun.findFirstOrThrow({ where: { projectId, kind: "select", status: "QUEUED" }, orderBy: { createdAt: "desc" } });
    await runJob("select", {}, selectRun.id);
    expect(await db.selectionRound.count({ where: { projectId } })).toBe(2);
    const exported = await exportLabels(scientistCtx(), { projectId, format: "csv", history: true });
    expect(exported.body).toContain(MRN); // the comment is in the export (a deliberate download), never in a log

    // What was logged: something (so this test can fail), and no identifier in any of it.
    const log = captured.join("");
    expect(log).toContain("import done");
    expect(log).toContain("import rejected");
    const lines = log.split("\n");
    for (const id of IDENTIFIERS) {
      expect(lines.filter((line) => line.includes(id)).slice(0, 3), `log lines containing ${id}`).toEqual([]);
    }
    expect(lines.filter((line) => DEMO_IDENTIFIER_PATTERN.test(line)).slice(0, 3)).toEqual([]);
  });

  it("the procedures are all in the router this test drives", () => {
    const paths = Object.keys(appRouter._def.procedures as object);
    expect(paths).toEqual(expect.arrayContaining(["queue.next", "annotations.saveDraft", "annotations.submit", "queue.skip", "review.decide"]));
  });
});
