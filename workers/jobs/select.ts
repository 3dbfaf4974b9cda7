/**
 * The `select` job: the next queue round. With an APPROVED model it runs the project's strategy
 * (RADS by default, project.selectionParams.strategy: `rads` is the platform variant,
 * workers/ml/rads/rads-platform.ts; `rads-paper` the paper's algorithm) on MC-dropout
 * log-probabilities of that model over the selectable pool and writes the round with
 * writeSelectionRound. RADS also gets the labelled cases' embeddings and labels (its
 * embedding-space state features) and warm-starts its agent from the project's previous RADS
 * round (the agent weights are a blob, `agentStateKey` in that round's stats). Every round's stats
 * carry the stopping estimate (`remainingMinority`, workers/jobs/stopping-estimate.ts). Before any approved model
 * it writes the cold-start round (createColdStartRound), labelled as such. It then stores the active
 * model's prediction for every case (Prediction rows) for clinicians, if the project shows them.
 *
 * MC dropout runs through onnxruntime on the approved ONNX file (models/registry.ts) with masks from
 * the round's seeded Rng — not on weights deserialised in JS — because the file is the artefact the
 * reviewer approved (checksum-verified on load), the same file runs on the GPU provider when
 * configured, and the export test proves both paths give the same numbers.
 *
 * Speculative rounds (docs/benchmarks.md, "Approval → next round"): the train job asks for the round
 * of a CANDIDATE as soon as it registers it (`speculative: true`); that run computes the round as its
 * approval would and keeps it in its JobRun result with the `RoundFingerprint` of its inputs. The
 * approval's run waits for a running speculative run, and publishes the kept round when every
 * fingerprint part is unchanged — otherwise it says which changed (`stats.speculative`) and computes
 * the round afresh. A rejected candidate's round is never published; the agents of unpublished
 * speculative rounds are deleted at the next publication. If the project's label schema changed
 * under the approved model, no model round is selected: a cold-start round and a retrain instead.
 *
 * The stopping estimate does not hold the queue back: a round is published as soon as its selection
 * is known, with `stats.remainingMinorityStatus` "estimating" (the selection page says so), and the
 * estimate is patched into its stats when it is done ("ready"; "unavailable" if it failed). A
 * speculative run still computing its estimate when its model is approved hands its round over
 * (with several workers the approval's run takes it from the blob `speculative-round/<model>.json`;
 * with one, the approval's run waits in the queue behind it) and settles the estimate outside the
 * job, storing it as a blob `stopping-estimate/<key>.json` and patching it into the published round —
 * one computation, one round. The approval's run ends once the estimate is in the round.
 */
import crypto from "node:crypto";
import { z } from "zod";
import { parseStoredProjectConfig, STRATEGY_IMPLEMENTATION, targetMixForMinority, type StoredProjectRow } from "@/contracts/project-config";
import { baldFeatures } from "@/workers/ml/bald";
import { decodeRadsWarmStart, encodeRadsWarmStart, RADS_WARM_START_KIND, type RadsWarmStart } from "@/workers/ml/rads/rads-platform";
import { caseUtility } from "@/workers/ml/rads/utility";
import type { Matrix, McLogProbs } from "@/workers/ml/types";
import type { PoolHistograms } from "@/contracts/selection-stats";
import type { RemainingMinority, RemainingMinorityStatus } from "@/contracts/remaining-minority";
import { equalWidthEdges, histogram } from "@/server/services/stats-math";
import { createRng, permutation } from "@/workers/ml/rng";
import { hashString } from "@/workers/ml/simulation";
import {
  countCasesWithoutEmbedding,
  findActiveModel,
  findLatestRound,
  findModelVersion,
  findProjectForLoop,
  findRoundModelVersionId,
  listProjectCases,
  listSelectableCaseIds,
  mergeEstimatingRoundStats,
  mergeRoundStats,
  replacePredictions,
} from "@/server/db/loop-repo";
import { findJobRunByDedupeKey } from "@/server/db/job-runs-repo";
import type { Db } from "@/server/db/client";
import { findOpenRound, maxRoundNumber } from "@/server/db/rounds-repo";
import { createColdStartRound, writeSelectionRound, type SelectionRoundItem } from "@/server/services/selection-rounds";
import { clearHonouredPriority, withPriorityFirst } from "@/server/services/case-browser-service";
import { headMcDropoutLogProbs, headPredictProba, loadHead, type HeadShape } from "@/models/registry";
import { runInMlThread } from "../threads/ml-pool";
import { forkSeed, type StrategySpec } from "../threads/ml-tasks";
import { logger } from "@/server/log";
import { defineJob, type JobRunContext, type WorkerContext } from "./job-runtime";
import type { BlobStore } from "@/server/storage/blob-store";
import { approvedLogisticModel, logisticBootstrapLogProbs } from "./logistic-uncertainty";
import { roundStoppingEstimate } from "./stopping-estimate";
import { ensureEmbeddings, gatherRows, labelledSets, projectClasses, trainingSetHash } from "./loop-data";
import { cachedEmbeddedRows } from "./select-vectors";
import { enqueueLoopJob, labelSetChange, labelSetChangeReason, trainDedupeKey } from "./loop-triggers";

export const SELECT_JOB = "select";

export const ZSelectPayload = z.object({
  projectId: z.string().min(1),
  /** The approved model that asked for this round; a stale request (another model is active now) does nothing. */
  modelVersionId: z.string().min(1).optional(),
  reason: z.string().max(100).default("manual"),
  /** Compute the round of CANDIDATE `modelVersionId` now, kept for its approval (file comment); the train job asks for it. */
  speculative: z.boolean().default(false),
});
type SelectPayload = z.infer<typeof ZSelectPayload>;

/**
 * The project's selection parameters as workers/ml takes them, read with the schema the settings
 * page saves with (contracts/project-config.ts parseStoredProjectConfig): the strategy as its
 * workers/ml implementation name (STRATEGY_IMPLEMENTATION: entropy → max-entropy, coreset →
 * k-center) and ρ as a number or one share per minority class in minorityClasses order.
 */
export function selectionParamsOf(project: StoredProjectRow) {
  const config = parseStoredProjectConfig(project);
  const p = config.selectionParams;
  return { ...p, strategy: STRATEGY_IMPLEMENTATION[p.strategy], rho: targetMixForMinority(p.rho, config.minorityClasses) };
}

/**
 * Pool size up to which the platform RADS computes its embedding-space features exactly. Their work is
 * (labelled + density reference cases) × pool × d (workers/ml/rads/embedding-features.ts; blocked
 * float32 products since 2026-11-30, ~1 s at 10,000 × 100, docs/benchmarks.md); above this size both sets are sampled down in
 * proportion, so that the work stays that of a pool of this size: the density reference limit from
 * 2,000 (the default) and the labelled majority cases to `LABELLED_FEATURE_LIMIT`·scale, never below
 * `MIN_FEATURE_SAMPLE` (every labelled minority case is always kept).
 */
export const EXACT_FEATURE_POOL = 10_000;
const DENSITY_REFERENCE_LIMIT = 2000;
const LABELLED_FEATURE_LIMIT = 1000;
const MIN_FEATURE_SAMPLE = 200;

/** The feature sampling for a pool of `poolSize` cases (see EXACT_FEATURE_POOL): density reference limit and the most labelled cases passed. */
export function featureSampling(poolSize: number): { densityReferenceLimit: number; labelledLimit: number | null } {
  if (poolSize <= EXACT_FEATURE_POOL) return { densityReferenceLimit: DENSITY_REFERENCE_LIMIT, labelledLimit: null };
  const scale = EXACT_FEATURE_POOL / poolSize;
  return { densityReferenceLimit: Math.max(MIN_FEATURE_SAMPLE, Math.round(DENSITY_REFERENCE_LIMIT * scale)), labelledLimit: Math.max(MIN_FEATURE_SAMPLE, Math.round(LABELLED_FEATURE_LIMIT * scale)) };
}

/**
 * The labelled cases whose vectors RADS measures distances to: all of them, or (with a limit) every
 * minority case plus a seeded sample of the others up to `limit` cases in all, in their original order.
 */
export function sampleLabelled<T extends { label: number }>(labelled: readonly T[], minority: ReadonlySet<number>, limit: number | null, seed: number): T[] {
  if (limit === null || labelled.length <= limit) return [...labelled];
  const others = labelled.map((t, i) => (minority.has(t.label) ? -1 : i)).filter((i) => i >= 0);
  const keepOthers = Math.max(0, limit - (labelled.length - others.length));
  const order = permutation(others.length, createRng(seed));
  const kept = new Set(Array.from(order.subarray(0, keepOthers), (j) => others[j]!));
  return labelled.filter((t, i) => minority.has(t.label) || kept.has(i));
}

/** The project's strategy by name and options, as the ML thread builds it (workers/threads/ml-tasks.ts). */
function strategySpecFor(params: ReturnType<typeof selectionParamsOf>, poolSize: number): StrategySpec {
  if (params.strategy === "rads") {
    const { densityReferenceLimit } = featureSampling(poolSize);
    return { name: "rads", options: { rho: params.rho, lambda: params.lambda, budgetOverflow: "clamp", agent: { episodes: params.episodes }, densityReferenceLimit } };
  }
  if (params.strategy === "rads-paper") return { name: "rads-paper", options: { rho: params.rho, lambda: params.lambda, mode: params.mode, budgetOverflow: "clamp", agent: { episodes: params.episodes } } };
  return { name: params.strategy };
}

/** Blob key of the RADS agent written by round `number` of a project. */
function agentStateKey(projectId: string, number: number): string {
  return `projects/${projectId}/rads-agent/round-${number}.json`;
}

/**
 * The agent the project's latest round handed on, or null (no such round, another strategy, or a
 * blob that is missing or unreadable: the round then trains its agent from scratch, which is
 * correct, only slower).
 */
async function previousAgent(db: Db, store: { get(key: string): Promise<Buffer> }, projectId: string): Promise<RadsWarmStart | null> {
  const latest = await findLatestRound(db, projectId);
  const stats = (latest?.stats ?? null) as { strategy?: unknown; agentStateKey?: unknown } | null;
  if (!stats || stats.strategy !== "rads" || typeof stats.agentStateKey !== "string") return null;
  try {
    return decodeRadsWarmStart(JSON.parse((await store.get(stats.agentStateKey)).toString("utf8")));
  } catch {
    return null;
  }
}

/** JobRun dedupe key of the speculative round computed for candidate `modelVersionId` (enqueued by the train job). */
export function speculativeSelectDedupeKey(projectId: string, modelVersionId: string): string {
  return `select:${projectId}:speculative:${modelVersionId}`;
}

/** Blob key of the agent a speculative round of candidate `modelVersionId` trained (copied to agentStateKey on publication). */
function speculativeAgentKey(projectId: string, modelVersionId: string): string {
  return `projects/${projectId}/rads-agent/speculative/${modelVersionId}.json`;
}

/** The model version a round is computed with: the active model, or a candidate for a speculative round. */
interface RoundModel {
  id: string;
  version: number;
  encoderVersion: string;
  params: unknown;
  artifactKey: string | null;
  checksum: string | null;
}

/**
 * What a round depends on besides its model, each part hashed: a speculative round is published
 * only when every part is unchanged at approval (the round number and the previous round whose agent
 * it warm-starts from; the selection configuration and classes; the labelled training set; the
 * selectable pool).
 */
export interface RoundFingerprint {
  model: string;
  round: string;
  config: string;
  labels: string;
  pool: string;
}

function sha(text: string): string {
  return crypto.createHash("sha256").update(text).digest("hex").slice(0, 24);
}

/** The names of the fingerprint parts that differ (empty: the same inputs). */
export function changedFingerprintParts(a: RoundFingerprint, b: RoundFingerprint): (keyof RoundFingerprint)[] {
  return (["model", "round", "config", "labels", "pool"] as const).filter((k) => a[k] !== b[k]);
}

type LoopProject = NonNullable<Awaited<ReturnType<typeof findProjectForLoop>>>;

/** A round's inputs read once: what the fingerprint hashes is what the computation uses. */
async function roundInputs(db: Db, project: LoopProject, model: RoundModel) {
  const params = selectionParamsOf(project);
  const classes = projectClasses(project);
  const nextNumber = (await maxRoundNumber(db, project.id)) + 1;
  const latest = await findLatestRound(db, project.id);
  const selectable = await listSelectableCaseIds(db, project.id);
  const training = (await labelledSets(db, project.id, classes)).training;
  const fingerprint: RoundFingerprint = {
    model: model.id,
    round: `${nextNumber}:${latest?.id ?? "none"}`,
    config: sha(JSON.stringify({ params, classes: classes.keys, minority: classes.minority, encoderVersion: model.encoderVersion })),
    labels: trainingSetHash(training),
    pool: sha(selectable.map((c) => c.id).sort().join("\n")),
  };
  return { params, classes, nextNumber, selectable, training, fingerprint };
}
type RoundInputs = Awaited<ReturnType<typeof roundInputs>>;

/** A computed round before priority cases and writing: what a speculative run keeps for publication. */
interface ComputedRound {
  strategy: string;
  picked: SelectionRoundItem[];
  stats: Record<string, unknown>;
  params: Record<string, unknown>;
  /** Where this computation stored the agent it trained (null: not RADS). */
  agentKey: string | null;
}

/**
 * Milliseconds per stage of a select run (reported in its result; scripts/bench-loop.ts tabulates
 * them), and the process's CPU time since the clock started (`cpu`: user + system, every thread —
 * the ML thread's work included; on a loaded machine, closer to the run's cost than its wall time).
 */
function stageClock() {
  const timings: Record<string, number> = {};
  let last = Date.now();
  const cpuStart = process.cpuUsage();
  return {
    timings,
    lap(stage: string) {
      const now = Date.now();
      timings[stage] = (timings[stage] ?? 0) + now - last;
      last = now;
    },
    cpu(name: string) {
      const used = process.cpuUsage(cpuStart);
      timings[name] = Math.round((used.user + used.system) / 1000);
    },
  };
}

/**
 * The round of `model` over the inputs' pool (file comment): uncertainty (MC dropout or the logistic
 * bootstrap), the strategy on an ML thread and the pool histograms — returned as soon as the selection
 * is known, its stats saying the stopping estimate is "estimating" — and the stopping estimate itself
 * as a promise (`stopping`, queued on the ML pool behind the selection), which the caller patches in
 * once it settles. The agent a RADS round trains is stored at `agentKey`. Returns `skipped` when no
 * selectable case has a vector of the model's encoder version.
 */
async function computeRound(
  ctx: Pick<JobRunContext<SelectPayload>, "worker" | "reportProgress">,
  projectId: string,
  model: RoundModel,
  inputs: RoundInputs,
  agentKey: string,
  clock: ReturnType<typeof stageClock>,
): Promise<{ round: ComputedRound; stopping: Promise<RemainingMinority | null> } | { skipped: string; withoutEmbedding: number }> {
  const { db } = ctx.worker;
  const { params, classes, nextNumber, selectable, training } = inputs;
  // Selection uses the model's encoder version; pool cases without a vector of it are left out (and counted).
  // One raw read gives both which selectable cases have a vector and the vectors (loop-data embeddedRows),
  // of the cases whose vectors this process has not read before (select-vectors.ts).
  const encoderVersion = model.encoderVersion;
  const seed = params.seed ?? hashString(`${projectId}:round:${nextNumber}:model:${model.id}`);
  // A logistic head's ONNX graph has no dropout: its uncertainty is a bootstrap ensemble refitted on
  // the model's training snapshot. The one refit serves the stopping estimate too (approvedLogisticModel).
  // Started first: it reads the snapshot's vectors and fits on an ML thread while this thread reads the pool.
  const refit = approvedLogisticModel(db, model.id, classes);
  refit.catch(() => undefined); // awaited below; this only keeps a failure during the pool read from going unhandled
  const read = await cachedEmbeddedRows(db, selectable.map((c) => c.id), encoderVersion);
  const embedded = selectable.filter((_, i) => read.present[i] === 1);
  clock.lap("pool");
  if (embedded.length === 0) return { skipped: "no selectable cases with embeddings left in the pool", withoutEmbedding: selectable.length };
  // RADS walks the pool in the order it is given, and the database order follows the import
  // (often sorted by a label-like column): a seeded shuffle keeps the walk representative.
  const order = permutation(embedded.length, createRng(seed ^ 0x5eed));
  const pool = Array.from(order, (i) => embedded[i]!);
  // Shared memory: the uncertainty, the strategy and the stopping estimate each post the pool to an ML
  // thread, which would otherwise copy it every time (150 MB at 100,000 × 384).
  const x = sharedRows(read.x, order);
  clock.lap("poolEmbeddings");

  await ctx.reportProgress(`uncertainty over ${pool.length} cases`, 15);
  const rng = createRng(seed);
  const mcRng = rng.fork();
  const fitted = await refit;
  clock.lap("refitApprovedHead");
  const uncertainty = fitted ? logisticBootstrapLogProbs(fitted, x, params.mcPasses, mcRng) : loadModelHead(ctx.worker, model).then((head) => headMcDropoutLogProbs(head, x, params.mcPasses, mcRng));
  uncertainty.catch(() => undefined); // awaited below, after the reads that overlap it

  // Labelled (non-TEST) cases with a vector of this encoder: RADS's embedding-space features, and
  // "found" of the stopping estimate (minority cases labelled so far). Read while the uncertainty is computed.
  const minoritySet = new Set(classes.minority);
  const found = training.filter((t) => minoritySet.has(t.label)).length;
  const labelledRead = await cachedEmbeddedRows(db, training.map((t) => t.caseId), encoderVersion);
  const withVectors: { caseId: string; label: number; row: number }[] = [];
  training.forEach((t, i) => {
    if (labelledRead.present[i] === 1) withVectors.push({ caseId: t.caseId, label: t.label, row: withVectors.length });
  });
  // Above EXACT_FEATURE_POOL only the RADS embedding features see a sample (the stopping estimate counts every labelled minority case).
  const labelled = sampleLabelled(withVectors, minoritySet, params.strategy === "rads" ? featureSampling(pool.length).labelledLimit : null, seed ^ 0x1abe1);
  const labelledEmbeddings: Matrix | null = labelled.length > 0 ? gatherRows(labelledRead.x, labelled.map((t) => t.row)) : null;
  const warmStart = params.strategy === "rads" ? await previousAgent(db, ctx.worker.store, projectId) : null;
  clock.lap("labelledAndAgent");
  const mc = await uncertainty;
  clock.lap("uncertainty");

  await ctx.reportProgress(`${params.strategy} selection (budget ${params.budget})`, 40);
  // On an ML thread (workers/threads): the agent trains for seconds to minutes while the queue keeps its heartbeat.
  const selection = runInMlThread("select", {
    strategy: strategySpecFor(params, pool.length),
    input: {
      poolSize: pool.length,
      budget: Math.min(params.budget, pool.length),
      mc,
      embeddings: x,
      labelledEmbeddings,
      labelledLabels: labelledEmbeddings ? Int32Array.from(labelled, (t) => t.label) : null,
      minorityClasses: classes.minority,
      seed: forkSeed(rng),
      warmStart,
    },
  });
  // "When to stop": minority cases left in the pool (calibrated, 90 % interval) and the expected recall so far.
  // Independent of the selection (own seed): queued behind it, and beside it when the pool has a second ML thread.
  // The round is published without waiting for it: the caller patches it into the round's stats (STOPPING_ESTIMATE_STATUS).
  const stopping = roundStoppingEstimate(fitted, model, classes, x, mc, found, params.mcPasses, (seed ^ 0x570b) >>> 0);
  stopping.catch(() => undefined); // awaited by the caller; this only keeps a failure before then from going unhandled
  const result = await selection;
  clock.lap("strategy");
  let stateKey: string | null = null;
  if (result.warmStart && result.warmStart.kind === RADS_WARM_START_KIND) {
    stateKey = agentKey;
    await ctx.worker.store.put(stateKey, Buffer.from(JSON.stringify(encodeRadsWarmStart(result.warmStart as RadsWarmStart)), "utf8"));
  }
  const names = Object.keys(result.features);
  const picked: SelectionRoundItem[] = Array.from(result.selected, (poolIndex, rank) => {
    const features: Record<string, unknown> = Object.fromEntries(names.map((n) => [n, result.features[n]![rank]!]));
    const pseudo = result.features.pseudoLabel?.[rank];
    if (pseudo !== undefined) features.pseudoLabelKey = classes.keys[pseudo] ?? null;
    return { caseId: pool[poolIndex]!.id, rank: rank + 1, features };
  });
  const prior = Array.isArray(result.stats.prior) ? (result.stats.prior as number[]) : null;
  const stats = {
    ...result.stats,
    strategy: params.strategy,
    k: params.mcPasses,
    episodes: params.strategy === "rads" ? params.episodes : null,
    seed,
    poolSize: pool.length,
    poolWithoutEmbedding: selectable.length - pool.length,
    // What the RADS embedding features were measured against (sampled above EXACT_FEATURE_POOL cases).
    featureSample: params.strategy === "rads" ? { densityReferenceLimit: featureSampling(pool.length).densityReferenceLimit, labelled: labelled.length } : null,
    classes: classes.keys,
    // π̂ of the minority: what random selection would hit, the yardstick of the hit rate.
    pseudoMinorityPrior: prior ? classes.minority.reduce((s, c) => s + (prior[c] ?? 0), 0) : null,
    hitRate: null,
    poolHistograms: poolHistograms(mc, result.stats.classWeights),
    remainingMinority: null,
    remainingMinorityStatus: "estimating" satisfies RemainingMinorityStatus,
    // Finds the round again when its estimate is patched in after publication (settleSpeculativeEstimate).
    estimateKey: roundEstimateKey(inputs.fingerprint),
  };
  clock.lap("statsAndHistograms");
  return { round: { strategy: params.strategy, picked, stats, params: { ...params, seed, encoderVersion }, agentKey: stateKey }, stopping };
}

/**
 * The rows `order` of x (row i of the result is row order[i] of x) in a SharedArrayBuffer, so that
 * posting the matrix to ML threads shares it instead of cloning it; the rows are only read there.
 */
export function sharedRows(x: Matrix, order: ArrayLike<number>): Matrix {
  const d = x.cols;
  const data = new Float32Array(new SharedArrayBuffer(order.length * d * 4));
  for (let i = 0; i < order.length; i++) data.set(x.data.subarray(order[i]! * d, (order[i]! + 1) * d), i * d);
  return { data, rows: order.length, cols: d };
}

async function loadModelHead(worker: Pick<WorkerContext, "store" | "provider">, model: RoundModel) {
  const shape = (model.params as { shape?: HeadShape } | null)?.shape;
  if (!shape || !model.artifactKey || !model.checksum) throw new Error(`Model version ${model.version} has no registered ONNX artefact`);
  return loadHead({ artifactKey: model.artifactKey, checksum: model.checksum, shape }, (key) => worker.store.get(key), worker.provider);
}

/** A speculative round as the speculative run's result keeps it (JobRun.result). */
interface StoredSpeculativeRound {
  speculative: true;
  modelVersionId: string;
  fingerprint: RoundFingerprint;
  round: ComputedRound;
}

function isStoredSpeculativeRound(value: unknown, modelVersionId: string): value is StoredSpeculativeRound {
  const v = value as Partial<StoredSpeculativeRound> | null;
  return !!v && v.speculative === true && v.modelVersionId === modelVersionId && !!v.fingerprint && !!v.round && Array.isArray(v.round.picked);
}

/** How long an approval's run waits for a speculative run another worker is executing. */
const SPECULATIVE_WAIT_MS = 10 * 60_000;

/** Blob key where a running speculative run leaves its round once the selection is known (before its stopping estimate). */
function speculativeRoundKey(projectId: string, modelVersionId: string): string {
  return `projects/${projectId}/speculative-round/${modelVersionId}.json`;
}

/**
 * The speculative round of `modelVersionId`: the finished run's round, or — while that run is RUNNING
 * (in a deployment with several workers, another one computes it) — the round it leaves as soon as its
 * selection is known, so that the approval does not wait for the stopping estimate; waits (up to
 * SPECULATIVE_WAIT_MS) for one of the two. A QUEUED or failed run, or none, gives the reason as a
 * string (the approval's run then computes the round itself; a speculative run that starts after the
 * approval stands down). With one worker the select jobs run one at a time, so the approval's run
 * finds the speculative run finished: with its estimate, or — when the approval came while the
 * estimate was being computed — without it, handed over (speculativeRun).
 */
async function findSpeculativeRound(db: Db, store: BlobStore, projectId: string, modelVersionId: string, report: (stage: string, percent: number) => Promise<void>): Promise<StoredSpeculativeRound | string> {
  const deadline = Date.now() + SPECULATIVE_WAIT_MS;
  for (;;) {
    const run = await findJobRunByDedupeKey(db, speculativeSelectDedupeKey(projectId, modelVersionId));
    if (!run) return "none";
    if (run.status === "SUCCEEDED") return isStoredSpeculativeRound(run.result, modelVersionId) ? run.result : `none (${JSON.stringify((run.result as { skipped?: unknown; discarded?: unknown } | null)?.skipped ?? (run.result as { discarded?: unknown } | null)?.discarded ?? "no round")})`;
    if (run.status !== "RUNNING") return `none (speculative run ${run.status.toLowerCase()})`;
    const early = await store.get(speculativeRoundKey(projectId, modelVersionId)).then((b) => JSON.parse(b.toString("utf8")) as unknown, () => null);
    if (isStoredSpeculativeRound(early, modelVersionId)) return early;
    if (Date.now() > deadline) return "none (speculative run still running)";
    await report("waiting for the speculative round", 10);
    await new Promise((resolve) => setTimeout(resolve, HAND_OVER_POLL_MS));
  }
}

/** Blob key of a round's stopping estimate computed outside the run that publishes it (see `settleSpeculativeEstimate`). */
function stoppingEstimateKey(projectId: string, estimateKey: string): string {
  return `projects/${projectId}/stopping-estimate/${estimateKey}.json`;
}

/** The key a round's stats carry (`estimateKey`) to find it for its stopping estimate: its model and inputs, hashed. */
function roundEstimateKey(fingerprint: RoundFingerprint): string {
  return sha(JSON.stringify(fingerprint));
}

/** The stats patch of a settled stopping estimate. */
async function settledEstimate(estimate: Promise<RemainingMinority | null>): Promise<{ patch: Record<string, unknown>; error: string | null }> {
  try {
    return { patch: { remainingMinority: await estimate, remainingMinorityStatus: "ready" satisfies RemainingMinorityStatus }, error: null };
  } catch (error) {
    return { patch: { remainingMinority: null, remainingMinorityStatus: "unavailable" satisfies RemainingMinorityStatus }, error: error instanceof Error ? error.message : String(error) };
  }
}

/**
 * The stopping estimate of a speculative round whose model was approved before the estimate was
 * done: the speculative run has handed the round over (the approval's run publishes it) and settles
 * the estimate here, outside the job, still on the ML thread. It is written as a blob first and then
 * patched into the published round, if that is already written; the publisher writes the round first
 * and then looks for the blob (`patchFromStoredEstimate`) — so whichever comes second patches it.
 */
async function settleSpeculativeEstimate(worker: Pick<WorkerContext, "db" | "store">, projectId: string, estimateKey: string, estimate: Promise<RemainingMinority | null>): Promise<void> {
  const { patch, error } = await settledEstimate(estimate);
  if (error) logger.error("stopping estimate failed", { projectId, estimateKey, error });
  try {
    await worker.store.put(stoppingEstimateKey(projectId, estimateKey), Buffer.from(JSON.stringify(patch), "utf8"));
    await mergeEstimatingRoundStats(worker.db, projectId, estimateKey, patch);
  } catch (e) {
    logger.error("stopping estimate could not be stored", { projectId, estimateKey, error: e instanceof Error ? e.message : String(e) });
  }
}

/**
 * After publishing a round whose estimate the speculative run settles: patches it in from the stored
 * blob once there (unless that run has patched the round itself), waiting up to SPECULATIVE_WAIT_MS;
 * then "unavailable". @returns the round's estimate status.
 */
async function awaitHandedOverEstimate(worker: Pick<WorkerContext, "db" | "store">, projectId: string, estimateKey: string): Promise<RemainingMinorityStatus> {
  const deadline = Date.now() + SPECULATIVE_WAIT_MS;
  for (;;) {
    const stored = await worker.store.get(stoppingEstimateKey(projectId, estimateKey)).then((b) => JSON.parse(b.toString("utf8")) as Record<string, unknown>, () => null);
    if (stored) {
      await mergeEstimatingRoundStats(worker.db, projectId, estimateKey, stored);
      return stored.remainingMinorityStatus === "ready" ? "ready" : "unavailable";
    }
    if (Date.now() > deadline) {
      await mergeEstimatingRoundStats(worker.db, projectId, estimateKey, { remainingMinorityStatus: "unavailable" satisfies RemainingMinorityStatus });
      return "unavailable";
    }
    await new Promise((resolve) => setTimeout(resolve, 250));
  }
}

/** Deletes the agents, early rounds and stored estimates speculative runs left (best effort; after a publication none is needed). */
async function discardSpeculativeLeftovers(store: BlobStore, projectId: string) {
  for (const prefix of [`projects/${projectId}/rads-agent/speculative`, `projects/${projectId}/speculative-round`, `projects/${projectId}/stopping-estimate`]) {
    const keys = await store.list(prefix).catch(() => [] as string[]);
    for (const key of keys) await store.delete(key).catch(() => undefined);
  }
}

/**
 * Settles the stopping estimate of a round this run published and patches it into the round's stats
 * (`remainingMinority`, `remainingMinorityStatus` "ready"; "unavailable" when it failed — the error
 * goes to this run's result, not to the round). @returns what to add to the run's result.
 */
async function patchStoppingEstimate(db: Db, roundId: string, estimate: Promise<RemainingMinority | null>): Promise<{ stoppingEstimate: RemainingMinorityStatus; stoppingEstimateError?: string }> {
  const { patch, error } = await settledEstimate(estimate);
  await mergeRoundStats(db, roundId, patch);
  return error ? { stoppingEstimate: "unavailable", stoppingEstimateError: error } : { stoppingEstimate: "ready" };
}

export const selectJob = defineJob({
  name: SELECT_JOB,
  payload: ZSelectPayload,
  retryLimit: 3,
  retryDelaySeconds: 5,
  expireInSeconds: 3600,
  async run(ctx) {
    const { db } = ctx.worker;
    const { projectId } = ctx.payload;
    const project = await findProjectForLoop(db, projectId);
    if (!project) throw new Error(`Project ${projectId} no longer exists`);
    if (ctx.payload.speculative) return speculativeRun(ctx, project);
    const active = await findActiveModel(db, projectId);
    if (ctx.payload.modelVersionId && active?.id !== ctx.payload.modelVersionId) {
      return { skipped: "the model that asked for this round is no longer the active one", activeModelVersionId: active?.id ?? null };
    }
    const nextNumber = (await maxRoundNumber(db, projectId)) + 1;

    if (!active) {
      await ctx.reportProgress("cold start (no approved model yet)", 20);
      const seed = hashString(`${projectId}:round:${nextNumber}`);
      const cold = await createColdStartRound(db, projectId, { seed, actorId: ctx.requestedById });
      return { coldStart: true, ...cold };
    }

    const params = selectionParamsOf(project);
    const classes = projectClasses(project);
    // The label schema changed under the approved model: its head scores other classes. No round
    // (and no predictions) from it — a cold-start round keeps clinicians busy while the project
    // retrains; the round's stats say why (stats.reason, shown beside its strategy).
    const changed = labelSetChange(active, classes.keys);
    if (changed) {
      await ctx.reportProgress("label set changed: cold start and retrain", 20);
      const { training } = await labelledSets(db, projectId, classes);
      let retrain: string | null = null;
      let retrainState: "queued" | "asked-before" | "too-few-labels" = "too-few-labels";
      if (new Set(training.map((t) => t.label)).size >= 2) {
        // Keyed by the labels AND the label set (the loop check's key): the same labels were trained on already, under the old one.
        const queued = await enqueueLoopJob(ctx.worker, { kind: "train", projectId, payload: { projectId, reason: "manual" }, dedupeKey: trainDedupeKey(projectId, trainingSetHash(training), classes.keys) });
        retrain = queued.jobRunId;
        retrainState = queued.created ? "queued" : "asked-before";
      }
      const reason = labelSetChangeReason(changed, active.version, retrainState);
      const seed = hashString(`${projectId}:round:${nextNumber}`);
      const cold = await createColdStartRound(db, projectId, { seed, actorId: ctx.requestedById, stats: { reason, labelSetChanged: { ...changed, modelVersion: active.version } } });
      return { labelSetChanged: changed, reason, retrainJobRunId: retrain, coldStart: true, ...cold };
    }
    // A retried run finds its round already written (same model, round already created after approval).
    const open = await findOpenRound(db, projectId);
    if (open && !open.coldStart && open.strategy === params.strategy && (await findRoundModelVersionId(db, open.id)) === active.id) {
      // The worker may have died between writing the round and storing the predictions (two
      // commits): store them again (a replace, so running it twice is harmless). A stopping estimate
      // it had not patched in yet is lost with that run's memory: the round says so (the next round has one).
      const latest = await findLatestRound(db, projectId);
      if (latest?.id === open.id && (latest.stats as { remainingMinorityStatus?: unknown } | null)?.remainingMinorityStatus === "estimating") {
        await mergeRoundStats(db, open.id, { remainingMinorityStatus: "unavailable" satisfies RemainingMinorityStatus });
      }
      await ctx.reportProgress("storing predictions", 90);
      const head = await loadModelHead(ctx.worker, active);
      const predictions = await storePredictions(ctx.worker, projectId, active.id, head, active.encoderVersion, classes.keys);
      return { roundId: open.id, number: open.number, alreadyWritten: true, predictions };
    }

    const clock = stageClock();
    await ctx.reportProgress("reading the pool and labels", 5);
    // New cases get vectors of the current encoder first; skipped when every case already has one of
    // the model's version (selection reads no other), which spares a corpus load on every round.
    if ((await countCasesWithoutEmbedding(db, projectId, active.encoderVersion)) > 0) await ensureEmbeddings(ctx.worker, projectId, project.encoderConfig);
    clock.lap("ensureEmbeddings");
    // A round computed for this model while it was a candidate (speculativeRun): published when its inputs are unchanged.
    let speculative: string;
    let computed: ComputedRound | null = null;
    // The stopping estimate this run still has to settle (fresh rounds); a speculative round's is settled by its run.
    let stopping: Promise<RemainingMinority | null> | null = null;
    const found = await findSpeculativeRound(db, ctx.worker.store, projectId, active.id, ctx.reportProgress);
    clock.lap("speculativeLookup");
    // Read after any wait for the speculative run, so the comparison is with the inputs as they are now.
    const inputs = await roundInputs(db, project, active);
    clock.lap("inputs");
    if (typeof found === "string") speculative = found;
    else {
      const changed = changedFingerprintParts(found.fingerprint, inputs.fingerprint);
      speculative = changed.length === 0 ? "published" : `discarded: ${changed.join(", ")} changed since it was computed`;
      if (changed.length === 0) computed = found.round;
    }
    if (!computed) {
      const fresh = await computeRound(ctx, projectId, active, inputs, agentStateKey(projectId, inputs.nextNumber), clock);
      if ("skipped" in fresh) return { ...fresh, speculative };
      computed = fresh.round;
      stopping = fresh.stopping;
    } else if (computed.agentKey) {
      // The published agent is the next round's warm start: kept under this round's own key.
      const key = agentStateKey(projectId, inputs.nextNumber);
      await ctx.worker.store.put(key, await ctx.worker.store.get(computed.agentKey));
      computed = { ...computed, agentKey: key };
    }

    // Cases a data scientist put into the next round with priority (case browser) go first, within the budget.
    const budget = Math.min(inputs.params.budget, inputs.selectable.length);
    const { items, honoured } = await withPriorityFirst(db, projectId, inputs.selectable, computed.picked, budget);
    const stats = {
      ...computed.stats,
      budget: items.length,
      priorityCases: honoured.length,
      selectedPseudoLabels: items.map((i) => i.features.pseudoLabelKey ?? null),
      agentStateKey: computed.agentKey,
      speculative,
    };
    await ctx.reportProgress("writing the round", 80);
    const written = await writeSelectionRound(db, {
      projectId,
      strategy: computed.strategy,
      coldStart: false,
      modelVersionId: active.id,
      params: computed.params,
      stats,
      items,
      actorId: ctx.requestedById,
    });
    await clearHonouredPriority(db, projectId, honoured);
    clock.lap("writeRound");
    clock.cpu("cpuToRound");
    // The queue is open; the "when to stop" estimate follows into the round's stats.
    const estimateKey = roundEstimateKey(inputs.fingerprint);
    let estimate: Record<string, unknown> = {};
    if (stopping) {
      await ctx.reportProgress("estimating the minority cases left", 85);
      estimate = await patchStoppingEstimate(db, written.roundId, stopping);
      clock.lap("stoppingEstimate");
      clock.cpu("cpuToEstimate");
    } else if (computed.stats.remainingMinorityStatus === "estimating") {
      // Handed over by the speculative run, which settles it; this run ends once it is in the round.
      await ctx.reportProgress("estimating the minority cases left", 85);
      estimate = { stoppingEstimate: await awaitHandedOverEstimate(ctx.worker, projectId, estimateKey) };
      clock.lap("stoppingEstimate");
    }
    // What speculative runs left that is not needed any more (this one's agent was copied; rejected candidates') goes.
    await discardSpeculativeLeftovers(ctx.worker.store, projectId);

    await ctx.reportProgress("storing predictions", 90);
    const head = await loadModelHead(ctx.worker, active);
    const predictions = await storePredictions(ctx.worker, projectId, active.id, head, active.encoderVersion, classes.keys);
    clock.lap("predictions");
    return { roundId: written.roundId, number: written.number, selected: written.itemCount, strategy: computed.strategy, modelVersionId: active.id, predictions, speculative, ...estimate, timings: clock.timings };
  },
});

/**
 * A speculative round (payload.speculative): the round of CANDIDATE payload.modelVersionId,
 * computed now so that its approval only has to publish it. Kept in this run's result with the
 * fingerprint of its inputs; nothing is written to the queue. A candidate decided on before the
 * run starts gets none; one rejected while it runs has its round discarded.
 */
async function speculativeRun(ctx: JobRunContext<SelectPayload>, project: LoopProject): Promise<Record<string, unknown>> {
  const { db } = ctx.worker;
  const modelVersionId = ctx.payload.modelVersionId;
  if (!modelVersionId) throw new Error("A speculative round needs the candidate's modelVersionId");
  const model = await findModelVersion(db, modelVersionId);
  if (!model || model.projectId !== project.id) return { skipped: "no such candidate in this project" };
  if (model.status !== "CANDIDATE") return { skipped: `the model is ${model.status.toLowerCase()}, not a candidate` };
  const classes = projectClasses(project);
  if (labelSetChange(model, classes.keys)) return { skipped: "the project's label set changed since the model was trained" };
  if ((await countCasesWithoutEmbedding(db, project.id, model.encoderVersion)) > 0) return { skipped: "cases without a vector of the model's encoder: the approval's run embeds them and selects" };
  const clock = stageClock();
  await ctx.reportProgress("reading the pool and labels", 5);
  const inputs = await roundInputs(db, project, model);
  clock.lap("inputs");
  const agentKey = speculativeAgentKey(project.id, model.id);
  const computed = await computeRound(ctx, project.id, model, inputs, agentKey, clock);
  if ("skipped" in computed) return computed;
  clock.cpu("cpuToRound");
  // An approval from now on need not wait for the stopping estimate: with several workers its run
  // publishes this early round (findSpeculativeRound); with one, it waits in the queue behind this run,
  // which therefore hands the round over as soon as the model is approved and settles the estimate
  // outside the job (settleSpeculativeEstimate).
  const earlyKey = speculativeRoundKey(project.id, model.id);
  const early: StoredSpeculativeRound = { speculative: true, modelVersionId: model.id, fingerprint: inputs.fingerprint, round: computed.round };
  await ctx.worker.store.put(earlyKey, Buffer.from(JSON.stringify(early), "utf8"));
  const estimateKey = roundEstimateKey(inputs.fingerprint);
  const outcome = await Promise.race([settledEstimate(computed.stopping), approvedWhile(db, model.id, computed.stopping)]);
  clock.lap("stoppingEstimate");
  let round = computed.round;
  if (outcome === "approved") {
    void settleSpeculativeEstimate(ctx.worker, project.id, estimateKey, computed.stopping);
  } else {
    if (outcome.error) logger.error("stopping estimate failed", { projectId: project.id, modelVersionId: model.id, error: outcome.error });
    round = { ...round, stats: { ...round.stats, ...outcome.patch } };
    clock.cpu("cpuToEstimate");
  }
  const after = await findModelVersion(db, model.id);
  if (after?.status === "REJECTED" || after?.status === "SUPERSEDED") {
    if (round.agentKey) await ctx.worker.store.delete(round.agentKey).catch(() => undefined);
    await ctx.worker.store.delete(earlyKey).catch(() => undefined);
    return { discarded: `the candidate was ${after.status.toLowerCase()} while its round was computed`, modelVersionId: model.id, timings: clock.timings };
  }
  const stored: StoredSpeculativeRound = { ...early, round };
  // The JobRun result (written when this returns) supersedes the early round: an approval that looks
  // in between finds the run RUNNING without it and looks again (findSpeculativeRound).
  await ctx.worker.store.delete(earlyKey).catch(() => undefined);
  return { ...stored, timings: clock.timings };
}

/**
 * How often a speculative run looks whether its model was approved, and an approval's run for the
 * speculative round (one primary-key read each): the hand-over's latency, on the reviewer's wait.
 */
const HAND_OVER_POLL_MS = 100;

/** Resolves "approved" once model `modelVersionId` is APPROVED (polled every HAND_OVER_POLL_MS); stops looking when `until` settles. */
async function approvedWhile(db: Db, modelVersionId: string, until: Promise<unknown>): Promise<"approved"> {
  let settled = false;
  until.then(() => (settled = true), () => (settled = true));
  for (;;) {
    await new Promise((resolve) => setTimeout(resolve, HAND_OVER_POLL_MS));
    if (settled) return new Promise<never>(() => undefined);
    if ((await findModelVersion(db, modelVersionId))?.status === "APPROVED") return "approved";
  }
}

/**
 * Distributions of BALD, predictive entropy and (for RADS) utility over the WHOLE pool of this
 * round, kept in the round's stats: the statistics page draws the selected cases against them,
 * and the pool changes as cases get labelled, so they cannot be recomputed later.
 */
function poolHistograms(mc: McLogProbs, classWeights: unknown): PoolHistograms {
  const features = baldFeatures(mc);
  const bins = 20;
  const asHistogram = (values: Float64Array) => {
    const list = Array.from(values);
    return histogram(list, equalWidthEdges(list, bins));
  };
  const out: PoolHistograms = { bald: asHistogram(features.mutualInformation), entropy: asHistogram(features.entropy) };
  if (Array.isArray(classWeights) || classWeights instanceof Float64Array) {
    out.utility = asHistogram(caseUtility(features.mutualInformation, features.pseudoLabel, Float64Array.from(classWeights as ArrayLike<number>)));
  }
  return out;
}

/** Prediction rows (probabilities, label, confidence) of the active model for every embedded case of the project. */
async function storePredictions(
  worker: { db: Db },
  projectId: string,
  modelVersionId: string,
  head: Awaited<ReturnType<typeof loadHead>>,
  encoderVersion: string,
  keys: string[],
): Promise<number> {
  const all = await listProjectCases(worker.db, projectId);
  const { present, x } = await cachedEmbeddedRows(worker.db, all.map((c) => c.id), encoderVersion);
  const cases = all.filter((_, i) => present[i] === 1);
  const probs = await headPredictProba(head, x);
  const c = keys.length;
  const rows = cases.map((row, i) => {
    const p = Array.from(probs.subarray(i * c, (i + 1) * c));
    let best = 0;
    for (let j = 1; j < c; j++) if (p[j]! > p[best]!) best = j;
    return { caseId: row.id, probabilities: p, predictedLabel: keys[best]!, confidence: p[best]! };
  });
  // One transaction: a worker killed half-way must not leave half of the old set deleted or half
  // of the new one written.
  await worker.db.$transaction((tx) => replacePredictions(tx, modelVersionId, rows), { maxWait: 30_000, timeout: 300_000 });
  return rows.length;
}
