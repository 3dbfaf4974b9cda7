/**
 * Selection rounds and their queue items. A round is "open" while it still has PENDING items;
 * the latest round is the one clinicians work from (server/services/queue-service.ts).
 */
import type { Prisma } from "./generated/client";
import { selectablePoolWhere } from "./selectable-pool";
import type { DbOrTx } from "./tx";

/**
 * Serialises round writers of one project (cold start at boot, the worker's select job, a second
 * web process) for the rest of the transaction, so "previous max + 1" cannot be taken twice and
 * an "is there an open round?" check stays true until the commit.
 */
export async function lockProjectRounds(tx: Prisma.TransactionClient, projectId: string): Promise<void> {
  await tx.$queryRaw`SELECT pg_advisory_xact_lock(727003, hashtext(${projectId}))::text AS locked`;
}

export async function maxRoundNumber(db: DbOrTx, projectId: string): Promise<number> {
  const row = await db.selectionRound.aggregate({ where: { projectId }, _max: { number: true } });
  return row._max.number ?? 0;
}

export function findProjectForSelection(db: DbOrTx, projectId: string) {
  return db.project.findUnique({
    where: { id: projectId },
    select: { id: true, selectionParams: true, encoderConfig: true, settings: true, labelSchema: true, minorityClasses: true, archivedAt: true },
  });
}

/** The latest round of the project that still has a PENDING item, or null. */
export function findOpenRound(db: DbOrTx, projectId: string) {
  return db.selectionRound.findFirst({
    where: { projectId, items: { some: { status: "PENDING" } } },
    orderBy: { number: "desc" },
    select: { id: true, number: true, strategy: true, coldStart: true },
  });
}

/**
 * The selectable pool (server/db/selectable-pool.ts: POOL, label not yet known, not waiting in an
 * open round, or put into the next round with priority): the candidates of a new round. Ordered by the source's case id
 * (stable across databases, unlike our cuids), so a seeded selection over them is reproducible.
 */
export function listSelectableCases(db: DbOrTx, projectId: string) {
  return db.case.findMany({
    where: selectablePoolWhere(projectId),
    orderBy: { externalId: "asc" },
    select: { id: true, narrative: true },
  });
}

/** Whether listSelectableCases would return anything (one row read, no narratives). */
export async function hasSelectableCase(db: DbOrTx, projectId: string): Promise<boolean> {
  const row = await db.case.findFirst({
    where: selectablePoolWhere(projectId),
    select: { id: true },
  });
  return row !== null;
}

export function listEmbeddings(db: DbOrTx, caseIds: string[], encoderVersion: string) {
  return db.embedding.findMany({
    where: { caseId: { in: caseIds }, encoderVersion },
    select: { caseId: true, dim: true, vector: true },
  });
}

export interface RoundRow {
  projectId: string;
  number: number;
  strategy: string;
  coldStart: boolean;
  modelVersionId: string | null;
  params: Prisma.InputJsonValue;
  stats: Prisma.InputJsonValue;
}

export async function insertRoundWithItems(
  tx: Prisma.TransactionClient,
  round: RoundRow,
  items: { caseId: string; rank: number; features: Prisma.InputJsonValue }[],
) {
  const created = await tx.selectionRound.create({ data: round, select: { id: true, number: true } });
  if (items.length) {
    await tx.queueItem.createMany({
      data: items.map((item) => ({ roundId: created.id, caseId: item.caseId, rank: item.rank, features: item.features, status: "PENDING" as const })),
    });
  }
  return created;
}

/** Ids per statement of countCasesInProject: PostgreSQL takes at most 32,767 bind parameters in one statement. */
const COUNT_CHUNK = 10_000;

/**
 * How many of `caseIds` (distinct) are cases of the project (a round may only queue its own project's cases);
 * counted in chunks of 10,000 ids, so a round of any size stays under PostgreSQL's bind-parameter limit (a round of
 * 36,000 cases failed with Prisma's P2029 as one statement).
 */
export async function countCasesInProject(db: DbOrTx, projectId: string, caseIds: string[]): Promise<number> {
  let found = 0;
  for (let start = 0; start < caseIds.length; start += COUNT_CHUNK) {
    found += await db.case.count({ where: { projectId, id: { in: caseIds.slice(start, start + COUNT_CHUNK) } } });
  }
  return found;
}
