/**
 * npm run bench:loop [-- --runs 3] [--train 5000] [--pool 1500] [--budget 10] [--episodes 100]
 *                    [--only loop|approval] [--pools 10000,100000] [--labelled 1000] [--approval-runs 3] [--real 15000]
 *
 * A benchmark, not a test: the active-learning loop's own latencies on a fresh embedded
 * PostgreSQL with real MTSamples text (Neurology vs rest, built-in featuriser, 384-d):
 *  1. one retrain + TEST evaluation + ONNX export + registration on `--train` labelled cases
 *     (the train job run in-process), against a baseline measured in the same run: trainHead alone
 *     on the same matrix — the difference is what the job adds (loading, evaluation, export, files,
 *     registration);
 *  2. with an approved model: from the submission of a round's last case to the next queue being
 *     available — loop check → train job → CANDIDATE → approval (done by this script at once, so no
 *     human time is counted) → select job (onnxruntime MC dropout + RADS) → round written.
 *     Jobs run on a pg-boss worker in this process (0.5 s polling), as in the worker process.
 * Prints medians of `--runs` runs as a markdown table.
 *  3. approval → next round available at large pools (`--pools`, one project each): the project
 *     defaults of a new narrative project's learner (logistic head, RADS with its default 300
 *     episodes, K = 10, B = 10) over the built-in featuriser's 384-d vectors, `--labelled` labelled
 *     (SEED) cases and a pool of the given size. Real MTSamples rows (recycled) up to `--real`
 *     cases, embedded by the embed routine; above that the pool is topped up with synthetic cases:
 *     copies of real POOL rows with their narrative and a vector perturbed by Gaussian noise
 *     (σ = 0.01 per coordinate, re-normalised), written directly (fixtures, embeddings repo).
 *     Per run, three rounds, each labelled by a clinician and retrained (the train job run
 *     directly): (a) baseline — no speculative round (train payload speculate: false), the select
 *     job computes the round after approval; (b) approve the instant the CANDIDATE is registered
 *     (the speculative round is still being computed); (c) approve once the speculative round is
 *     ready (a reviewer who looks at the review page for as long as that takes). Clock: decideModel
 *     returns → the round row exists (its queue is open), and → its stopping estimate is in its stats
 *     (published after the round). Also reported: the select job's stage timings (baseline) and the
 *     1-minute load average when each candidate was registered. `--variants` picks among baseline,
 *     at-once, ready and at-once-reference ("at once" on the select job's earlier bootstrap and vector
 *     reads, LOGISTIC_BOOTSTRAP=reference SELECT_VECTOR_CACHE_MB=0, for a before/after in one run).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import PgBoss from "pg-boss";
import { createDb } from "../server/db/client";
import { freePort } from "../server/db/embedded-postgres";
import { findFailedJobRun, findLatestRoundWithItems, findRoundByNumber, insertFixtureCases, listFixtureCasesByExternalIds, setFixtureCaseLabel } from "../server/db/fixtures-repo";
import { insertEmbeddingRows } from "../server/db/embeddings-repo";
import { findJobRunByDedupeKey } from "../server/db/job-runs-repo";
import { vectorToBytes } from "../server/services/embedding-service";
import { findLatestRound, findModelVersion, findProjectForLoop } from "../server/db/loop-repo";
import { insertUser } from "../server/db/users-repo";
import { prepareDatabase } from "../server/platform/database";
import { submitAnnotation } from "../server/services/annotation-service";
import { createServiceContext, type Actor } from "../server/services/context";
import { enqueueJobRun, stopJobClient } from "../server/services/enqueue-job";
import { decideModel } from "../server/services/review-service";
import { releaseHeadSessions } from "../models/registry";
import { trainHead } from "../workers/ml/mlp-head";
import { createRng } from "../workers/ml/rng";
import { executeJobRun, setWorkerContext } from "../workers/jobs/job-runtime";
import { embeddingMatrix, ensureEmbeddings, labelledSets, projectClasses } from "../workers/jobs/loop-data";
import { RETRAIN_CHECK_JOB, retrainCheckJob } from "../workers/jobs/loop-triggers";
import { selectJob } from "../workers/jobs/select";
import { trainJob } from "../workers/jobs/train";
import { createLoopProject, loadMtsamplesRows, testWorkerContext, waitForJobRun, waitForNewJobRun } from "../workers/testing/loop-fixtures";

const { values: flags } = parseArgs({
  options: {
    runs: { type: "string", default: "3" },
    train: { type: "string", default: "5000" },
    pool: { type: "string", default: "1500" },
    budget: { type: "string", default: "10" },
    episodes: { type: "string", default: "100" },
    only: { type: "string" },
    pools: { type: "string", default: "10000,100000" },
    labelled: { type: "string", default: "1000" },
    "approval-runs": { type: "string", default: "3" },
    real: { type: "string", default: "15000" },
    variants: { type: "string", default: "baseline,at-once,ready" },
  },
});
const RUNS = Number(flags.runs);
const TRAIN = Number(flags.train);
const POOL = Number(flags.pool);
const BUDGET = Number(flags.budget);
const EPISODES = Number(flags.episodes);
const LABELLED = Number(flags.labelled);
const APPROVAL_RUNS = Number(flags["approval-runs"]);
const REAL = Number(flags.real);
type Variant = "baseline" | "at-once" | "ready" | "at-once-reference";
const VARIANTS = flags.variants.split(",") as Variant[];
for (const v of VARIANTS) if (!["baseline", "at-once", "ready", "at-once-reference"].includes(v)) throw new Error(`--variants: unknown variant ${v}`);

/**
 * The environment of a variant's select runs: "at-once-reference" is "at once" on the select job's
 * earlier paths (LOGISTIC_BOOTSTRAP=reference: members fitted over the drawn rows and scored one at a
 * time; SELECT_VECTOR_CACHE_MB=0: every vector read from PostgreSQL), to compare in the same run.
 */
const VARIANT_ENV: Record<Variant, Record<string, string>> = {
  baseline: {},
  "at-once": {},
  ready: {},
  "at-once-reference": { LOGISTIC_BOOTSTRAP: "reference", SELECT_VECTOR_CACHE_MB: "0" },
};

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;
const s = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const log = (m: string) => process.stderr.write(`${m}\n`);

interface BenchEnv {
  db: ReturnType<typeof createDb>;
  boss: PgBoss;
  worker: ReturnType<typeof testWorkerContext>;
  clinician: Actor;
  reviewer: Actor;
}

/** Parts 1 and 2 (file comment): retrain latency and round complete → next queue. */
async function loopBench({ db, boss, worker, clinician, reviewer }: BenchEnv) {
  // TEST is 20 % of text groups; enough rows that TRAIN labelled + POOL unlabelled remain outside TEST.
  const cases = loadMtsamplesRows({ count: Math.ceil((TRAIN + POOL) / 0.78), specialty: "Neurology", seed: 1 });
  const { projectId, truth } = await createLoopProject(db, cases, {
    memberIds: [clinician.id, reviewer.id],
    selectionParams: { strategy: "rads", budget: BUDGET, mcPasses: 10, episodes: EPISODES, mode: "scaled" },
    settings: { fourEyes: false, retrainEveryNLabels: 1_000_000 },
    encoderDim: 384,
  });
  const nonTest = [...truth].filter(([, c]) => c.split === "POOL").map(([id]) => id).sort();
  if (nonTest.length < TRAIN + POOL) throw new Error(`only ${nonTest.length} non-TEST cases`);
  // The labelled training set arrives as a labelled import (SEED), the rest stays the unlabelled pool.
  for (let i = 0; i < TRAIN; i += 1000) {
    for (const id of nonTest.slice(i, Math.min(TRAIN, i + 1000))) await setFixtureCaseLabel(db, id, "SEED", truth.get(id)!.label);
  }
  const testCount = cases.filter((c) => c.split === "TEST").length;


  let t = Date.now();
  const { encoderVersion } = await ensureEmbeddings(worker, projectId, { kind: "builtin", dim: 384 });
  const embedMs = Date.now() - t;
  log(`embedded ${cases.length} cases in ${s(embedMs)}`);

  // 1. retrain + evaluate + export, and the baseline.
  const project = await findProjectForLoop(db, projectId);
  if (!project) throw new Error("the benchmark project is gone");
  const classes = projectClasses(project);
  const sets = await labelledSets(db, projectId, classes);
  const x = await embeddingMatrix(db, sets.training.map((e) => e.caseId), encoderVersion);
  const y = Int32Array.from(sets.training, (e) => e.label);
  const jobMs: number[] = [];
  const trainMs: number[] = [];
  const baselineMs: number[] = [];
  let firstModelId = "";
  for (let r = 0; r < RUNS; r++) {
    t = Date.now();
    trainHead(x, y, classes.keys.length, {}, createRng(1));
    baselineMs.push(Date.now() - t);
    const job = await enqueueJobRun(db, { kind: "train", projectId, payload: { projectId, reason: "manual" }, dedupeKey: `bench:${r}`, requestedById: null });
    t = Date.now();
    const outcome = await executeJobRun(trainJob.spec, worker, job.jobRunId, true);
    jobMs.push(Date.now() - t);
    if (outcome.status !== "succeeded") throw new Error(`train run ${r}: ${JSON.stringify(outcome)}`);
    const model = await findModelVersion(db, outcome.result.modelVersionId as string);
    if (!model) throw new Error(`train run ${r}: no model version`);
    trainMs.push((model.params as { trainMs: number }).trainMs);
    firstModelId ||= model.id;
    log(`retrain ${r + 1}: job ${s(jobMs[r]!)} (training ${s(trainMs[r]!)}), baseline trainHead ${s(baselineMs[r]!)}`);
  }

  // 2. approve the first model; its select job writes the first RADS round.
  let since = new Date();
  await decideModel(createServiceContext(db, reviewer), { modelVersionId: firstModelId, decision: "approve", note: "benchmark" });
  const firstRound = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "select", since)).id, 600_000);
  if (firstRound.status !== "SUCCEEDED") throw new Error(`select: ${firstRound.error}`);

  const latencyMs: number[] = [];
  const toCandidateMs: number[] = [];
  const approveToQueueMs: number[] = [];
  const clinicianCtx = createServiceContext(db, clinician);
  for (let r = 0; r < RUNS; r++) {
    const round = await findLatestRoundWithItems(db, projectId);
    if (!round) throw new Error("no round");
    for (const [i, item] of round.items.entries()) {
      if (i === round.items.length - 1) t = Date.now();
      await submitAnnotation(clinicianCtx, { caseId: item.caseId, expectedVersion: 0, content: { labels: [truth.get(item.caseId)!.label], spans: [], uncertain: false, comment: "" }, timeSpentMs: 1000 });
    }
    since = new Date(t);
    // What the annotation service's submit hook does: ask the worker to check this project now.
    await boss.send(RETRAIN_CHECK_JOB, { projectId });
    const train = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "train", since, 60_000)).id, 600_000);
    if (train.status !== "SUCCEEDED") throw new Error(`train: ${train.error}`);
    const candidateAt = Date.now();
    toCandidateMs.push(candidateAt - t);
    await decideModel(createServiceContext(db, reviewer), { modelVersionId: (train.result as { modelVersionId: string }).modelVersionId, decision: "approve", note: "benchmark" });
    const approvedAt = Date.now();
    for (;;) {
      const next = await findRoundByNumber(db, projectId, round.number + 1);
      if (next) break;
      const failed = await findFailedJobRun(db, projectId, "select");
      if (failed) throw new Error(`select: ${failed.error}`);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    const done = Date.now();
    approveToQueueMs.push(done - approvedAt);
    latencyMs.push(done - t);
    log(`round ${round.number} → ${round.number + 1}: ${s(latencyMs[r]!)} (to candidate ${s(toCandidateMs[r]!)}, approval → queue ${s(approveToQueueMs[r]!)})`);
  }

  const lines = [
    `Loop benchmark — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? "CPU"}, Node ${process.version}; ${RUNS} runs, medians.`,
    `Data: MTSamples Neurology vs rest, ${sets.training.length} labelled training cases, ${testCount} TEST, pool ${POOL}; built-in featuriser 384-d (embedding all ${cases.length} cases once: ${s(embedMs)}, not counted below).`,
    "",
    "| measurement | median | runs |",
    "| --- | --- | --- |",
    `| retrain + evaluate + export + register (train job, ${sets.training.length} × 384, head [64]) | ${s(median(jobMs))} | ${jobMs.map(s).join(", ")} |`,
    `| of which training (Trainer.train) | ${s(median(trainMs))} | ${trainMs.map(s).join(", ")} |`,
    `| baseline: trainHead alone, same data and config | ${s(median(baselineMs))} | ${baselineMs.map(s).join(", ")} |`,
    `| last case of a round submitted → next queue available (B = ${BUDGET}, K = 10, RADS scaled, ${EPISODES} episodes) | ${s(median(latencyMs))} | ${latencyMs.map(s).join(", ")} |`,
    `| … submitted → CANDIDATE registered (check + train job) | ${s(median(toCandidateMs))} | ${toCandidateMs.map(s).join(", ")} |`,
    `| … approval → round written (select job) | ${s(median(approveToQueueMs))} | ${approveToQueueMs.map(s).join(", ")} |`,
  ];
  process.stdout.write(`${lines.join("\n")}\n`);
}

const VARIANT_LABEL: Record<Variant, string> = {
  baseline: "baseline: no speculative round, the select job computes the round after approval",
  "at-once": "approved the instant the CANDIDATE is registered (speculative round still computing)",
  ready: "approved once the speculative round is ready",
  "at-once-reference": "approved at once, the earlier bootstrap and vector reads (LOGISTIC_BOOTSTRAP=reference, SELECT_VECTOR_CACHE_MB=0)",
};

async function poll<T>(what: string, timeoutMs: number, probe: () => Promise<T | null>): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null) return value;
    if (Date.now() > deadline) throw new Error(`${what}: nothing after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

/**
 * Part 3 (file comment): approval → next round available on a pool of `poolSize` cases.
 * Synthetic top-up: noisy copies of the real POOL rows (narrative and label copied, vector + N(0, 0.01²) per coordinate, unit norm).
 */
async function approvalBench({ db, worker, clinician, reviewer }: BenchEnv, poolSize: number) {
  const setupStarted = Date.now();
  const needed = Math.ceil((LABELLED + poolSize) / 0.78);
  const real = loadMtsamplesRows({ count: Math.min(needed, REAL), specialty: "Neurology", seed: 1 });
  const { projectId, truth } = await createLoopProject(db, real, {
    memberIds: [clinician.id, reviewer.id],
    // A new narrative project's learner and selector (contracts/project-config.ts withNewProjectDefaults), on the built-in 384-d vectors.
    selectionParams: { strategy: "rads", budget: 10, mcPasses: 10, rho: 0.3 },
    settings: { fourEyes: false, retrainTriggers: { onRoundComplete: false, everyNLabels: null, scheduleHours: null }, head: { kind: "logistic" } },
    encoderDim: 384,
  });
  const nonTest = [...truth].filter(([, c]) => c.split === "POOL").map(([id]) => id).sort();
  if (nonTest.length <= LABELLED) throw new Error(`only ${nonTest.length} non-TEST cases for ${LABELLED} labelled`);
  for (const id of nonTest.slice(0, LABELLED)) await setFixtureCaseLabel(db, id, "SEED", truth.get(id)!.label);
  let t = Date.now();
  const { encoderVersion } = await ensureEmbeddings(worker, projectId, { kind: "builtin", dim: 384 });
  log(`pool ${poolSize}: embedded ${real.length} real cases in ${s(Date.now() - t)}`);
  const realPool = nonTest.slice(LABELLED);
  const synthetic = Math.max(0, poolSize - realPool.length);
  if (synthetic > 0) {
    t = Date.now();
    const source = await embeddingMatrix(db, realPool, encoderVersion);
    const d = source.cols;
    const rng = createRng(7);
    for (let start = 0; start < synthetic; start += 2000) {
      const end = Math.min(synthetic, start + 2000);
      const rows = [];
      for (let j = start; j < end; j++) {
        const from = truth.get(realPool[j % realPool.length]!)!;
        rows.push({ projectId, externalId: `synthetic-${String(j).padStart(7, "0")}`, narrative: from.narrative, split: "POOL" as const });
      }
      await insertFixtureCases(db, rows);
      const ids = new Map((await listFixtureCasesByExternalIds(db, projectId, rows.map((r) => r.externalId))).map((c) => [c.externalId, c.id]));
      const embeddings = [];
      for (let j = start; j < end; j++) {
        const src = j % realPool.length;
        const v = new Float32Array(d);
        let norm = 0;
        for (let k = 0; k < d; k++) {
          v[k] = source.data[src * d + k]! + 0.01 * rng.normal();
          norm += v[k]! * v[k]!;
        }
        const inv = norm > 0 ? 1 / Math.sqrt(norm) : 0;
        for (let k = 0; k < d; k++) v[k] = v[k]! * inv;
        const id = ids.get(`synthetic-${String(j).padStart(7, "0")}`)!;
        truth.set(id, { ...truth.get(realPool[src]!)!, externalId: `synthetic-${j}` });
        embeddings.push({ caseId: id, encoderVersion, dim: d, vector: vectorToBytes(v) });
      }
      await insertEmbeddingRows(db, embeddings);
    }
    log(`pool ${poolSize}: ${synthetic} synthetic cases written in ${s(Date.now() - t)}`);
  }

  const train = async (tag: string, speculate: boolean) => {
    const job = await enqueueJobRun(db, { kind: "train", projectId, payload: { projectId, reason: "manual", speculate }, dedupeKey: `bench:${projectId}:${tag}`, requestedById: null });
    const outcome = await executeJobRun(trainJob.spec, worker, job.jobRunId, true);
    if (outcome.status !== "succeeded") throw new Error(`train ${tag}: ${JSON.stringify(outcome)}`);
    return outcome.result.modelVersionId as string;
  };
  const approve = async (modelVersionId: string, number: number) => {
    const since = new Date();
    const started = Date.now();
    await decideModel(createServiceContext(db, reviewer), { modelVersionId, decision: "approve", note: "benchmark" });
    await poll(`round ${number}`, 900_000, async () => {
      if (await findRoundByNumber(db, projectId, number)) return true;
      const failed = await findFailedJobRun(db, projectId, "select");
      if (failed) throw new Error(`select: ${failed.error}`);
      return null;
    });
    const ms = Date.now() - started;
    // The round is published before its stopping estimate (select.ts): when the estimate is in its stats.
    await poll(`round ${number}'s stopping estimate`, 900_000, async () => {
      const latest = await findLatestRound(db, projectId);
      const status = (latest?.stats as { remainingMinorityStatus?: unknown } | null)?.remainingMinorityStatus;
      return latest?.number === number && status !== "estimating" ? true : null;
    });
    const estimateMs = Date.now() - started;
    // The job goes on to store predictions: let it finish before the next round.
    const run = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "select", since)).id, 900_000);
    if (run.status !== "SUCCEEDED") throw new Error(`select: ${run.error}`);
    return { ms, estimateMs, result: run.result as { timings?: Record<string, number>; speculative?: unknown; stoppingEstimate?: unknown } };
  };
  const speculativeRun = (modelVersionId: string) =>
    poll("speculative select run", 900_000, async () => {
      const run = await findJobRunByDedupeKey(db, `select:${projectId}:speculative:${modelVersionId}`);
      if (run?.status === "FAILED") throw new Error(`speculative select: ${run.error}`);
      return run?.status === "SUCCEEDED" ? run : null;
    });

  // The first approved model and its round (the agent's cold round); the measured rounds warm-start, as in steady state.
  await approve(await train("first", false), 1);
  log(`pool ${poolSize}: set up in ${s(Date.now() - setupStarted)}`);
  const approvalMs: Record<Variant, number[]> = { baseline: [], "at-once": [], ready: [], "at-once-reference": [] };
  const estimateMs: Record<Variant, number[]> = { baseline: [], "at-once": [], ready: [], "at-once-reference": [] };
  const loadsBy: Record<Variant, number[]> = { baseline: [], "at-once": [], ready: [], "at-once-reference": [] };
  const cpuBy: Record<Variant, number[]> = { baseline: [], "at-once": [], ready: [], "at-once-reference": [] };
  const speculativeMs: number[] = [];
  const stageMs = new Map<string, number[]>();
  const speculativeStageMs = new Map<string, number[]>();
  const loads: number[] = [];
  const outcomes: string[] = [];
  const clinicianCtx = createServiceContext(db, clinician);
  for (let r = 0; r < APPROVAL_RUNS; r++) {
    for (const variant of VARIANTS) {
      const round = await findLatestRoundWithItems(db, projectId);
      if (!round) throw new Error("no round");
      for (const item of round.items) {
        await submitAnnotation(clinicianCtx, { caseId: item.caseId, expectedVersion: 0, content: { labels: [truth.get(item.caseId)!.label], spans: [], uncertain: false, comment: "" }, timeSpentMs: 1000 });
      }
      const saved = Object.fromEntries(Object.keys(VARIANT_ENV[variant]).map((k) => [k, process.env[k]]));
      Object.assign(process.env, VARIANT_ENV[variant]);
      const modelVersionId = await train(`${r}-${variant}`, variant !== "baseline");
      const load = os.loadavg()[0]!;
      loads.push(load);
      loadsBy[variant].push(load);
      let specTimings: Record<string, number> = {};
      if (variant === "ready") {
        const run = await speculativeRun(modelVersionId);
        speculativeMs.push(run.finishedAt!.getTime() - run.startedAt!.getTime());
        specTimings = (run.result as { timings?: Record<string, number> } | null)?.timings ?? {};
      }
      const { ms, estimateMs: toEstimate, result } = await approve(modelVersionId, round.number + 1);
      estimateMs[variant].push(toEstimate);
      if (variant === "at-once" || variant === "at-once-reference") specTimings = ((await speculativeRun(modelVersionId)).result as { timings?: Record<string, number> } | null)?.timings ?? {};
      for (const [k, v] of Object.entries(saved)) {
        if (v === undefined) delete process.env[k];
        else process.env[k] = v;
      }
      // CPU to the round of whichever run computed it (the speculative run, or the approval's when that one stood down).
      const cpu = result.timings?.cpuToRound !== undefined && (result.timings.uncertainty !== undefined) ? result.timings.cpuToRound : specTimings.cpuToRound;
      if (cpu !== undefined) cpuBy[variant].push(cpu);
      approvalMs[variant].push(ms);
      outcomes.push(`${variant}: ${JSON.stringify(result.speculative ?? null)}`);
      if (variant === "baseline") for (const [stage, v] of Object.entries(result.timings ?? {})) stageMs.set(stage, [...(stageMs.get(stage) ?? []), v]);
      else for (const [stage, v] of Object.entries(specTimings)) speculativeStageMs.set(stage, [...(speculativeStageMs.get(stage) ?? []), v]);
      log(`pool ${poolSize}, run ${r + 1}, ${variant} (load ${load.toFixed(1)}): approval → round ${s(ms)}, → stopping estimate ${s(toEstimate)} (${JSON.stringify(result.stoppingEstimate ?? null)}); select ${JSON.stringify(result.timings ?? {})} speculative run ${JSON.stringify(specTimings)} outcome ${JSON.stringify(result.speculative ?? null)}`);
    }
  }
  const lines = [
    `Approval → next round, pool ${poolSize.toLocaleString("en")} — ${new Date().toISOString().slice(0, 10)}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? "CPU"}, Node ${process.version}; ${APPROVAL_RUNS} runs, medians.`,
    `Data: ${LABELLED} labelled (SEED) cases, ${Math.min(realPool.length, poolSize)} real + ${synthetic} synthetic pool cases (built-in featuriser, 384-d); logistic head, RADS (platform, 300 episodes, warm-started), K = 10, B = 10.`,
    "",
    "| approval → | round available: median | runs | stopping estimate in the round: median | runs | 1-min load average at each candidate | CPU to the round (cpuToRound of the computing run) |",
    "| --- | --- | --- | --- | --- | --- | --- |",
    ...VARIANTS.map((v) => `| ${VARIANT_LABEL[v]} | ${s(median(approvalMs[v]))} | ${approvalMs[v].map(s).join(", ")} | ${s(median(estimateMs[v]))} | ${estimateMs[v].map(s).join(", ")} | ${loadsBy[v].map((l) => l.toFixed(1)).join(", ")} | ${cpuBy[v].map(s).join(", ")} |`),
    ...(speculativeMs.length ? [`| (the speculative select job itself, candidate → round ready) | ${s(median(speculativeMs))} | ${speculativeMs.map(s).join(", ")} |`] : []),
    "",
    ...(stageMs.size ? ["| select job stage (baseline: after approval) | median | runs |", "| --- | --- | --- |", ...[...stageMs].map(([stage, v]) => `| ${stage} | ${s(median(v))} | ${v.map(s).join(", ")} |`)] : []),
    "",
    ...(speculativeStageMs.size ? ["| speculative select run stage (at once, ready) | median | runs |", "| --- | --- | --- |", ...[...speculativeStageMs].map(([stage, v]) => `| ${stage} | ${s(median(v))} | ${v.map(s).join(", ")} |`)] : []),
    "",
    `1-minute load average when each candidate was registered: ${loads.map((l) => l.toFixed(1)).join(", ")} (2 cores).`,
    "",
    ...outcomes.map((o) => `- ${o}`),
  ];
  process.stdout.write(`${lines.join("\n")}\n\n`);
}

async function main() {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "rads-bench-loop-"));
  fs.chmodSync(tmp, 0o755);
  const prepared = await prepareDatabase({ dataDir: path.join(tmp, "pg"), embeddedPort: await freePort(), database: "rads_bench" });
  process.env.DATABASE_URL = prepared.url;
  process.env.LOOP_SCHEDULE = "off";
  process.env.STORAGE_DIR = path.join(tmp, "storage");
  const db = createDb(prepared.url);
  const boss = new PgBoss({ connectionString: prepared.url, schema: "pgboss", application_name: "rads-bench" });
  try {
    const user = async (role: Actor["role"]): Promise<Actor> => {
      const u = await insertUser(db, { email: `${role.toLowerCase()}@bench.local`, name: role, role, passwordHash: null });
      return { id: u.id, role: u.role, name: u.name, email: u.email };
    };
    const [clinician, reviewer] = [await user("CLINICIAN"), await user("REVIEWER")];
    await boss.start();
    const worker = testWorkerContext(db, process.env.STORAGE_DIR, boss);
    setWorkerContext(worker);
    for (const job of [trainJob, selectJob, retrainCheckJob]) await job.register(boss);
    const env = { db, boss, worker, clinician, reviewer };
    if (flags.only === undefined || flags.only === "loop") await loopBench(env);
    if (flags.only === undefined || flags.only === "approval") {
      for (const size of flags.pools.split(",").map(Number)) await approvalBench(env, size);
    }
  } finally {
    setWorkerContext(null);
    await stopJobClient();
    await boss.stop({ graceful: false, wait: true }).catch(() => undefined);
    await releaseHeadSessions();
    await db.$disconnect();
    await prepared.embedded?.stop();
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`${error instanceof Error ? error.stack : String(error)}\n`);
  process.exit(1);
});
