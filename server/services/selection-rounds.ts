/**
 * Writing selection rounds: the one way a queue comes into being. The cold start at boot and the
 * worker's select job both end in `writeSelectionRound`, so numbering, validation and auditing
 * are the same whoever selected the cases.
 */
import { insertAuditEvent } from "../db/audit-repo";
import type { Db, Prisma } from "../db/client";
import {
  countCasesInProject,
  findOpenRound,
  findProjectForSelection,
  insertRoundWithItems,
  listEmbeddings,
  listSelectableCases,
  lockProjectRounds,
  maxRoundNumber,
} from "../db/rounds-repo";
import { DomainError } from "../errors";
import { logger } from "../log";
import { storedEncoderVersionFor } from "./embedding-service";
import type { EncoderConfig } from "@/contracts/encoder-config";
import { parseStoredProjectConfig } from "@/contracts/project-config";
import { createRng } from "@/workers/ml/rng";
import { getBaselineStrategy } from "@/workers/ml/strategies/registry";
import { featurize, fitTextFeaturizer } from "@/workers/ml/text-featurizer";
import type { Matrix } from "@/workers/ml/types";

export type JsonObject = Record<string, unknown>;

export interface SelectionRoundItem {
  caseId: string;
  /** 1-based position in the queue; must be unique within the round. */
  rank: number;
  /** Why the case was selected (BALD, entropy, utility, cluster size, ...), JSON-safe. */
  features: JsonObject;
}

export interface WriteSelectionRoundInput {
  projectId: string;
  strategy: string;
  coldStart: boolean;
  /** The approved model that drove the selection; null (or left out) for cold start and baselines. */
  modelVersionId?: string | null;
  params: JsonObject;
  stats: JsonObject;
  items: SelectionRoundItem[];
  /** Who asked for it (null: the system — boot or a scheduled job). */
  actorId?: string | null;
}

export interface WrittenRound {
  roundId: string;
  number: number;
  itemCount: number;
}

/** JSON.stringify drops undefined and turns NaN/Infinity into null; refuse those instead of storing surprises. */
function assertJsonSafe(value: unknown, where: string): void {
  if (typeof value === "number" && !Number.isFinite(value)) throw new DomainError("BAD_INPUT", `${where} is ${value}; round statistics must be finite numbers.`);
  if (value && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) assertJsonSafe(inner, `${where}.${key}`);
  }
}

function validateRound(input: WriteSelectionRoundInput): void {
  if (!input.strategy.trim()) throw new DomainError("BAD_INPUT", "A selection round needs a strategy name.", { field: "strategy" });
  const caseIds = new Set<string>();
  const ranks = new Set<number>();
  input.items.forEach((item, i) => {
    if (caseIds.has(item.caseId)) throw new DomainError("BAD_INPUT", `items[${i}].caseId ${item.caseId} is queued twice in one round.`, { field: "items" });
    if (!Number.isInteger(item.rank) || item.rank < 1) throw new DomainError("BAD_INPUT", `items[${i}].rank must be a positive integer (got ${item.rank}).`, { field: "items" });
    if (ranks.has(item.rank)) throw new DomainError("BAD_INPUT", `items[${i}].rank ${item.rank} is used twice in one round.`, { field: "items" });
    caseIds.add(item.caseId);
    ranks.add(item.rank);
    assertJsonSafe(item.features, `items[${i}].features`);
  });
  assertJsonSafe(input.params, "params");
  assertJsonSafe(input.stats, "stats");
}

async function writeInTransaction(tx: Prisma.TransactionClient, input: WriteSelectionRoundInput): Promise<WrittenRound> {
  const number = (await maxRoundNumber(tx, input.projectId)) + 1;
  const round = await insertRoundWithItems(
    tx,
    {
      projectId: input.projectId,
      number,
      strategy: input.strategy,
      coldStart: input.coldStart,
      modelVersionId: input.modelVersionId ?? null,
      params: input.params as Prisma.InputJsonValue,
      stats: input.stats as Prisma.InputJsonValue,
    },
    input.items.map((item) => ({ caseId: item.caseId, rank: item.rank, features: item.features as Prisma.InputJsonValue })),
  );
  await insertAuditEvent(tx, {
    actorId: input.actorId ?? null,
    actorRole: null,
    action: "selection.round-created",
    targetType: "SelectionRound",
    targetId: round.id,
    projectId: input.projectId,
    details: { number, strategy: input.strategy, coldStart: input.coldStart, items: input.items.length, modelVersionId: input.modelVersionId ?? null },
  });
  return { roundId: round.id, number, itemCount: input.items.length };
}

/**
 * Writes one round and its PENDING queue items in one transaction; the round number is the
 * project's previous maximum + 1 (taken under a per-project lock). Items must be cases of the
 * project, each once, with distinct positive ranks.
 */
export async function writeSelectionRound(db: Db, input: WriteSelectionRoundInput): Promise<WrittenRound> {
  validateRound(input);
  const caseIds = input.items.map((item) => item.caseId);
  if ((await countCasesInProject(db, input.projectId, caseIds)) !== caseIds.length) {
    throw new DomainError("BAD_INPUT", "A selection round may only queue cases of its own project.", { field: "items" });
  }
  const written = await db.$transaction(async (tx) => {
    await lockProjectRounds(tx, input.projectId);
    return writeInTransaction(tx, input);
  });
  logger.info("selection round written", { projectId: input.projectId, roundId: written.roundId, number: written.number, items: written.itemCount });
  return written;
}

/**
 * The Embedding.encoderVersion under which the cold start looks for stored vectors of the project's
 * encoder: derived from its kind (and dimension for the built-in).
 */
export function projectEncoderVersion(encoderConfig: EncoderConfig): string {
  return encoderConfig.kind === "builtin" ? `builtin-hashed-text-v1-${encoderConfig.dim}` : encoderConfig.kind;
}

function vectorFromBytes(bytes: Uint8Array, dim: number, out: Float32Array, offset: number): boolean {
  if (bytes.byteLength !== dim * 4) return false;
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let j = 0; j < dim; j++) out[offset + j] = view.getFloat32(j * 4, true);
  return true;
}

/**
 * Embeddings of `cases` in their order: the stored vectors of the project's encoder when every
 * case has one of one width (a mix of two spaces would make distances meaningless), otherwise
 * the built-in featuriser fitted on these narratives.
 */
async function embeddingsFor(db: Db, projectId: string, cases: { id: string; narrative: string | null }[], encoderConfig: EncoderConfig): Promise<{ matrix: Matrix; source: string }> {
  // The version the project's last embed run wrote (one naming function for every reader and writer:
  // models/encoders/encoder-version.ts); before any embed run, the legacy kind-derived name.
  const encoderVersion = (await storedEncoderVersionFor(db, projectId, encoderConfig)) ?? projectEncoderVersion(encoderConfig);
  const stored = await listEmbeddings(db, cases.map((c) => c.id), encoderVersion);
  const dim = stored[0]?.dim ?? 0;
  if (stored.length === cases.length && dim > 0 && stored.every((row) => row.dim === dim)) {
    const byCase = new Map(stored.map((row) => [row.caseId, row]));
    const data = new Float32Array(cases.length * dim);
    const complete = cases.every((c, i) => vectorFromBytes(byCase.get(c.id)!.vector, dim, data, i * dim));
    if (complete) return { matrix: { data, rows: cases.length, cols: dim }, source: `stored embeddings (${encoderVersion})` };
  }
  const texts = cases.map((c) => c.narrative ?? "");
  const state = fitTextFeaturizer(texts, encoderConfig.kind === "builtin" ? { dim: encoderConfig.dim } : {});
  return { matrix: featurize(state, texts), source: "built-in text featuriser fitted on the pool narratives" };
}

export type ColdStartResult =
  | ({ created: true } & WrittenRound)
  | { created: false; reason: "open-round"; roundId: string; number: number }
  | { created: false; reason: "empty-pool" }
  | { created: false; reason: "archived" };

/**
 * The first queue of a project with no model: if no round is open, runs the cold-start strategy
 * (k-means strata over embeddings, workers/ml/strategies/cold-start.ts) over the selectable pool
 * (server/db/selectable-pool.ts: a case imported with a label is never queued) with budget =
 * selectionParams.budget and writes it as a cold-start round. A project whose POOL holds only
 * labelled cases gets none ("empty-pool") until unlabelled cases are imported. Idempotent: with
 * a round open (also one another process wrote meanwhile) it writes nothing; an archived project
 * is out of every queue and gets no round. A system action: no caller, no access check.
 * `options.stats` are kept in the round's stats beside the strategy's (e.g. `reason`: the one line
 * the selection page shows for why this round is a cold start, workers/jobs/select.ts).
 * @throws DomainError NOT_FOUND; ProjectConfigError when the stored configuration does not parse
 */
export async function createColdStartRound(db: Db, projectId: string, options: { seed: number; actorId?: string | null; stats?: Record<string, unknown> }): Promise<ColdStartResult> {
  const project = await findProjectForSelection(db, projectId);
  if (!project) throw new DomainError("NOT_FOUND", "No such project.");
  if (project.archivedAt) return { created: false, reason: "archived" };
  const config = parseStoredProjectConfig(project);
  const open = await findOpenRound(db, projectId);
  if (open) return { created: false, reason: "open-round", roundId: open.id, number: open.number };
  const budget = config.selectionParams.budget;
  const cases = await listSelectableCases(db, projectId);
  if (cases.length === 0) return { created: false, reason: "empty-pool" };

  const { matrix, source } = await embeddingsFor(db, projectId, cases, config.encoderConfig);
  const result = getBaselineStrategy("cold-start").select({
    poolSize: cases.length,
    budget,
    mc: null,
    embeddings: matrix,
    labelledEmbeddings: null,
    minorityClasses: [],
    rng: createRng(options.seed),
  });
  const featureNames = Object.keys(result.features);
  const items: SelectionRoundItem[] = Array.from(result.selected, (poolIndex, i) => ({
    caseId: cases[poolIndex]!.id,
    rank: i + 1,
    features: Object.fromEntries(featureNames.map((name) => [name, result.features[name]![i]!])),
  }));
  const input: WriteSelectionRoundInput = {
    projectId,
    strategy: "cold-start",
    coldStart: true,
    modelVersionId: null,
    params: { budget, seed: options.seed, embeddings: source },
    stats: { ...result.stats, embeddings: source, ...options.stats },
    items,
    actorId: options.actorId ?? null,
  };
  validateRound(input);

  const outcome = await db.$transaction(async (tx): Promise<ColdStartResult> => {
    await lockProjectRounds(tx, projectId);
    // Another process may have opened a round while this one computed embeddings.
    const raced = await findOpenRound(tx, projectId);
    if (raced) return { created: false, reason: "open-round", roundId: raced.id, number: raced.number };
    return { created: true, ...(await writeInTransaction(tx, input)) };
  });
  if (outcome.created) logger.info("cold-start round written", { projectId, roundId: outcome.roundId, number: outcome.number, items: outcome.itemCount });
  return outcome;
}
