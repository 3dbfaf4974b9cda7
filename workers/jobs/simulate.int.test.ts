import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { monitorEventLoopDelay } from "node:perf_hooks";
import { afterAll, describe, expect, it } from "vitest";
import { createServiceContext } from "@/server/services/context";
import { stopJobClient } from "@/server/services/enqueue-job";
import { getSimulation, startSimulation } from "@/server/services/simulation-service";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { createTestProject } from "@/server/testing/project-fixtures";
import { ZOnnxImageEncoderConfig } from "@/contracts/encoder-config";
import { createOnnxImageEncoder } from "@/models/encoders/onnx-image-encoder";
import { releaseOnnxSessions } from "@/models/onnx-sessions";
import { projectHeadConfig } from "@/models/trainers/head-config";
import { contentKey, createLocalBlobStore } from "@/server/storage/blob-store";
import { readTable, requireColumn } from "@/scripts/lib/table";
import { closeMlThreads } from "../threads/ml-pool";
import { runEmbed } from "./embed";
import { executeJobRun, type WorkerContext } from "./job-runtime";
import { simulateJob } from "./simulate";

const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-sim-test-"));
/** The worker's context as the job runtime passes it (this job writes no files and sends no messages). */
const worker = (): WorkerContext => ({ db: testDb(), store: createLocalBlobStore(storeDir), databaseUrl: process.env.DATABASE_URL!, provider: "cpu", send: async () => undefined });
const runSimulateJob = (jobRunId: string) => executeJobRun(simulateJob.spec, worker(), jobRunId, true);

const MOBILENET = path.resolve("../shared/models/mobilenetv2-12-int8/mobilenetv2-12-int8.onnx");
const XRAY_DIR = path.resolve("../shared/data/images/covid_chestxray");

afterAll(async () => {
  await closeMlThreads();
  await releaseOnnxSessions();
  fs.rmSync(storeDir, { recursive: true, force: true });
  await stopJobClient();
  await testDb().$disconnect();
});

/** Narratives whose words give the class away, so a head trained on few labels learns something. */
const TEXT: Record<string, string> = {
  normal: "lungs clear no acute abnormality heart size normal",
  benign: "small calcified granuloma stable benign appearance",
  suspicious: "spiculated mass suspicious for malignancy biopsy advised",
};

async function labelledProject(scientistId: string, withTest: boolean, options: { narratives?: boolean; testLabel?: (i: number) => string } = {}) {
  const { projectId, caseIds } = await createTestProject({ memberIds: [scientistId], cases: 36 });
  // 36 cases: every 6th suspicious (minority), a third benign, the rest normal; every 4th case in TEST (3 of them suspicious).
  for (const [i, id] of caseIds.entries()) {
    const test = withTest && i % 4 === 0;
    const label = test && options.testLabel ? options.testLabel(i) : i % 6 === 0 ? "suspicious" : i % 3 === 0 ? "benign" : "normal";
    await testDb().case.update({
      where: { id },
      data: { importedLabel: label, narrative: options.narratives === false ? null : `Case ${i}. ${TEXT[label]}.`, split: test ? "TEST" : "POOL" },
    });
  }
  return projectId;
}

async function failedWith(ctx: ReturnType<typeof createServiceContext>, projectId: string, input: Partial<Parameters<typeof startSimulation>[1]> = {}) {
  const started = await startSimulation(ctx, { projectId, strategies: ["random"], budgets: [2], rounds: 1, seeds: 1, episodes: 10, seedSize: 4, ...input });
  expect(await runSimulateJob(started.jobRunId)).toMatchObject({ status: "failed", final: true });
  const failed = await getSimulation(ctx, { projectId, jobRunId: started.jobRunId });
  expect(failed.status).toBe("FAILED");
  return failed.error ?? "";
}

describe("simulate job", () => {
  it("runs a what-if simulation from the page's request to aggregated learning curves, with progress on the JobRun", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const projectId = await labelledProject(scientist.id, true);
    const embedded = await runEmbed(worker(), projectId, 64);
    const ctx = createServiceContext(testDb(), scientist);
    const started = await startSimulation(ctx, { projectId, strategies: ["rads", "random"], budgets: [3], rounds: 2, seeds: 1, episodes: 10, seedSize: 6 });
    expect(ctx.audit.count).toBe(1);
    expect(started.queued).toBe(true);
    expect(await getSimulation(ctx, { projectId, jobRunId: started.jobRunId })).toMatchObject({ status: "QUEUED", percent: 0 });

    expect((await runSimulateJob(started.jobRunId)).status).toBe("succeeded");
    const done = await getSimulation(ctx, { projectId, jobRunId: started.jobRunId });
    expect(done).toMatchObject({ status: "SUCCEEDED", percent: 100, error: null });
    const result = done.result!;
    expect(result.testSize).toBe(9);
    expect(result.trainSize).toBe(27);
    // It read the embed job's stored vectors, one per labelled case, under the version the encoder writes.
    expect(result.encoderVersion).toBe(embedded.encoderVersion);
    expect(result.vectorsRead).toBe(36);
    expect(result.seedSize).toBe(6);
    // The train job's head configuration for this project.
    expect((result as unknown as { head: unknown }).head).toEqual(projectHeadConfig({ annotationsPerCase: 1, leaseMinutes: 30 }));
    expect(result.aggregates.map((a) => [a.strategy, a.budget])).toEqual([["rads", 3], ["random", 3]]);
    for (const a of result.aggregates) {
      expect(a.curve.map((p) => p.round)).toEqual([0, 1, 2]);
      // The seed set, then each round adds the budget to the labelled set.
      expect(a.curve[0]!.labelled).toBe(6);
      expect(a.curve[2]!.labelled! - a.curve[0]!.labelled!).toBe(6);
      expect(a.final.minorityF1).toBeGreaterThanOrEqual(0);
      expect(a.final.minorityF1).toBeLessThanOrEqual(1);
    }
    const row = await testDb().jobRun.findUniqueOrThrow({ where: { id: started.jobRunId } });
    expect(row.startedAt).not.toBeNull();
    expect(row.finishedAt).not.toBeNull();

    // Idempotent: a second delivery of a finished run changes nothing.
    expect((await runSimulateJob(started.jobRunId)).status).toBe("skipped");
    expect((await testDb().jobRun.findUniqueOrThrow({ where: { id: started.jobRunId } })).finishedAt).toEqual(row.finishedAt);
  });

  it("runs label-noise settings beside the noise-free grid; the noise-free rows are those of a run without noise", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const projectId = await labelledProject(scientist.id, true);
    await runEmbed(worker(), projectId, 64);
    const ctx = createServiceContext(testDb(), scientist);
    const base = { projectId, strategies: ["random", "max-entropy"] as ("random" | "max-entropy")[], budgets: [3], rounds: 2, seeds: 2, episodes: 10, seedSize: 6 };
    const noisyRun = await startSimulation(ctx, { ...base, noise: [{ kind: "symmetric", rate: 0.2 }, { kind: "minority", rate: 0.5 }] });
    expect((await testDb().jobRun.findUniqueOrThrow({ where: { id: noisyRun.jobRunId } })).payload).toMatchObject({ noise: [{ kind: "symmetric", rate: 0.2 }, { kind: "minority", rate: 0.5 }] });
    expect((await runSimulateJob(noisyRun.jobRunId)).status).toBe("succeeded");
    const noisy = (await getSimulation(ctx, { projectId, jobRunId: noisyRun.jobRunId })).result!;
    expect(noisy.aggregates.map((a) => `${a.noise} ${a.strategy}`)).toEqual(["none random", "none max-entropy", "symmetric:0.2 random", "symmetric:0.2 max-entropy", "minority:0.5 random", "minority:0.5 max-entropy"]);
    expect((noisy as unknown as { noise: string[] }).noise).toEqual(["none", "symmetric:0.2", "minority:0.5"]);
    for (const a of noisy.aggregates) expect(a.curve.map((p) => p.labelled)).toEqual([6, 9, 12]);

    const cleanRun = await startSimulation(ctx, base);
    expect((await runSimulateJob(cleanRun.jobRunId)).status).toBe("succeeded");
    const clean = (await getSimulation(ctx, { projectId, jobRunId: cleanRun.jobRunId })).result!;
    expect(clean.aggregates.map((a) => a.noise)).toEqual(["none", "none"]);
    expect(noisy.aggregates.filter((a) => a.noise === "none")).toEqual(clean.aggregates);
  });

  it("fails with a message that says what is missing when the project has no labelled TEST cases", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const projectId = await labelledProject(scientist.id, false);
    const ctx = createServiceContext(testDb(), scientist);
    const started = await startSimulation(ctx, { projectId, strategies: ["random"], budgets: [2], rounds: 1, seeds: 1, episodes: 10, seedSize: 4 });
    expect(await runSimulateJob(started.jobRunId)).toMatchObject({ status: "failed", final: true });
    const failed = await getSimulation(ctx, { projectId, jobRunId: started.jobRunId });
    expect(failed.status).toBe("FAILED");
    expect(failed.error).toMatch(/No labelled TEST cases/);
    // Another project's member cannot read it.
    const outsider = await createTestUser("DATA_SCIENTIST");
    await expect(getSimulation(createServiceContext(testDb(), outsider), { projectId, jobRunId: started.jobRunId })).rejects.toMatchObject({ kind: "NOT_FOUND" });
  });

  it("keeps the worker's event loop responsive while a multi-second RADS what-if runs (the cells run on an ML thread)", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const projectId = await labelledProject(scientist.id, true);
    await runEmbed(worker(), projectId, 64);
    const ctx = createServiceContext(testDb(), scientist);
    // The run must last long enough that an inline run would have held the loop for seconds; how many
    // episodes that takes depends on the machine, so the episode count grows until it does.
    let wallMs = 0;
    let maxStallMs = 0;
    let ticks = 0;
    for (const episodes of [30, 120, 480]) {
      const started = await startSimulation(ctx, { projectId, strategies: ["rads-paper"], budgets: [3], rounds: 1, seeds: 1, episodes, seedSize: 6 });
      const delay = monitorEventLoopDelay({ resolution: 10 });
      ticks = 0;
      const timer = setInterval(() => ticks++, 20);
      delay.enable();
      const t0 = Date.now();
      const outcome = await runSimulateJob(started.jobRunId);
      wallMs = Date.now() - t0;
      delay.disable();
      clearInterval(timer);
      maxStallMs = delay.max / 1e6;
      expect(outcome.status).toBe("succeeded");
      if (wallMs > 1500) break;
    }
    // Long enough that an inline run would have held the loop for seconds…
    expect(wallMs).toBeGreaterThan(1500);
    // …yet the loop never stalled for a large part of it, and timers kept firing throughout.
    expect(maxStallMs).toBeLessThan(Math.max(400, wallMs / 4));
    expect(ticks).toBeGreaterThan(wallMs / 20 / 4);
  });

  it("fails clearly, and simulates on nothing else, when the project's encoder has no stored vectors", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const projectId = await labelledProject(scientist.id, true);
    const ctx = createServiceContext(testDb(), scientist);
    expect(await failedWith(ctx, projectId)).toBe("None of the 36 labelled cases has an embedding from the project's current encoder (built-in text featuriser): run the embed job for this project, then start the what-if again.");
  });

  it("fails on all-zero features (cases without narratives) instead of reporting F1 0 as a result", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const projectId = await labelledProject(scientist.id, true, { narratives: false });
    await runEmbed(worker(), projectId, 64);
    const ctx = createServiceContext(testDb(), scientist);
    expect(await failedWith(ctx, projectId)).toMatch(/^The stored features of the project's built-in text featuriser cannot separate any classes: all 36 feature vectors are zero\./);
  });

  it("fails when the TEST split holds fewer than two classes", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const projectId = await labelledProject(scientist.id, true, { testLabel: () => "normal" });
    await runEmbed(worker(), projectId, 64);
    const ctx = createServiceContext(testDb(), scientist);
    expect(await failedWith(ctx, projectId)).toMatch(/^The labelled TEST cases are all of one class \(normal\)/);
  });

  it("fails naming the field when the project's head settings are invalid (the train job's configuration is what it simulates)", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const projectId = await labelledProject(scientist.id, true);
    await runEmbed(worker(), projectId, 64);
    const ctx = createServiceContext(testDb(), scientist);
    const started = await startSimulation(ctx, { projectId, strategies: ["random"], budgets: [2], rounds: 1, seeds: 1, episodes: 10, seedSize: 4 });
    // Broken after the run was queued (the web refuses to start one on an invalid configuration).
    await testDb().project.update({ where: { id: projectId }, data: { settings: { annotationsPerCase: 1, leaseMinutes: 30, head: { hidden: [0] } } } });
    expect(await runSimulateJob(started.jobRunId)).toMatchObject({ status: "failed", final: true });
    // (Read from the row: the page itself refuses a project whose stored configuration is invalid.)
    expect((await testDb().jobRun.findUniqueOrThrow({ where: { id: started.jobRunId } })).error).toMatch(/^The project's head settings are invalid — settings\.head\.hidden\.0: /);
  });
});

describe("simulate job — ONNX image project (MobileNetV2 over real chest X-rays)", () => {
  it("embeds, then simulates on the stored MobileNetV2 vectors; a labelled case without a vector fails the run clearly", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const table = readTable(path.join(XRAY_DIR, "labels.csv"));
    const [fileCol, labelCol, sizeCol] = [requireColumn(table, "file", "image file"), requireColumn(table, "label", "label"), requireColumn(table, "size_bytes", "file size")];
    // The smallest files of two classes (decoding stays quick): 8 without finding (the minority here), 12 COVID-19.
    const pick = (label: string, n: number) =>
      table.rows.filter((r) => r[labelCol] === label).sort((a, b) => Number(a[sizeCol]) - Number(b[sizeCol])).slice(0, n).map((r) => ({ file: r[fileCol]!, label }));
    const chosen = [...pick("no_finding", 8), ...pick("covid19", 12)];
    const config = ZOnnxImageEncoderConfig.parse({ kind: "onnx-image", path: MOBILENET });
    const project = await testDb().project.create({
      data: {
        name: `What-if images ${crypto.randomBytes(5).toString("hex")}`,
        labelSchema: { labels: [{ key: "no_finding", name: "No finding", shortcut: "1" }, { key: "covid19", name: "COVID-19", shortcut: "2" }], multiLabel: false },
        minorityClasses: ["no_finding"],
        selectionParams: { strategy: "rads", budget: 2 },
        encoderConfig: config,
        settings: { annotationsPerCase: 1, leaseMinutes: 30, head: { hidden: [16], maxEpochs: 20 } },
        members: { create: [{ userId: scientist.id }] },
      },
      select: { id: true },
    });
    const store = worker().store;
    // Per class, the first three cases are TEST: both classes there, minority included.
    const seen = new Map<string, number>();
    for (const [i, c] of chosen.entries()) {
      const k = seen.get(c.label) ?? 0;
      seen.set(c.label, k + 1);
      const created = await testDb().case.create({ data: { projectId: project.id, externalId: `xray-${i}`, narrative: null, importedLabel: c.label, split: k < 3 ? "TEST" : "POOL" }, select: { id: true } });
      const bytes = fs.readFileSync(path.join(XRAY_DIR, c.file));
      const key = contentKey("images", bytes, path.extname(c.file));
      await store.put(key, bytes);
      await testDb().caseImage.create({ data: { caseId: created.id, storageKey: key, mimeType: c.file.endsWith(".png") ? "image/png" : "image/jpeg", sha256: crypto.createHash("sha256").update(bytes).digest("hex"), position: 0 } });
    }
    const embedded = await runEmbed(worker(), project.id, 8);
    expect(embedded).toMatchObject({ kind: "image", embedded: 20, notEmbedded: 0 });
    expect(embedded.encoderVersion).toBe((await createOnnxImageEncoder(config)).version);

    const ctx = createServiceContext(testDb(), scientist);
    const started = await startSimulation(ctx, { projectId: project.id, strategies: ["rads", "random"], budgets: [2], rounds: 2, seeds: 1, episodes: 10, seedSize: 4 });
    expect((await runSimulateJob(started.jobRunId)).status).toBe("succeeded");
    const done = await getSimulation(ctx, { projectId: project.id, jobRunId: started.jobRunId });
    expect(done).toMatchObject({ status: "SUCCEEDED", error: null });
    const result = done.result!;
    // The MobileNetV2 vectors the embed job stored — not a text featuriser over the (empty) narratives.
    expect(result.encoderVersion).toBe(embedded.encoderVersion);
    expect(result.vectorsRead).toBe(20);
    expect(result.embeddings).toContain("ONNX image encoder");
    expect(result).toMatchObject({ testSize: 6, trainSize: 14, seedSize: 4 });
    expect(result.aggregates.map((a) => a.strategy)).toEqual(["rads", "random"]);
    for (const a of result.aggregates) expect(a.curve.map((p) => p.labelled)).toEqual([4, 6, 8]);

    // A new labelled case whose image was never embedded: the what-if refuses rather than simulate on less.
    await testDb().case.create({ data: { projectId: project.id, externalId: "xray-late", narrative: null, importedLabel: "covid19", split: "POOL" } });
    expect(await failedWith(ctx, project.id, { strategies: ["random"] })).toBe(
      "1 of the 21 labelled cases have no embedding from the project's current encoder (ONNX image encoder): run the embed job for this project (it embeds only what is missing) and check that every labelled case has a readable image, then start the what-if again.",
    );
  });
});
