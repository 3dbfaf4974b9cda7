/**
 * Data access of the project settings sections (selection/loop, encoder):
 * writes of the JSON configuration columns (read under project-admin-repo lockProjectRow), the pool size the budget
 * is checked against, and the few cases the encoder's "try it" embeds.
 */
import type { Prisma } from "./generated/client";
import { PROJECT_ACCESS_SELECT } from "./projects-repo";
import { selectablePoolWhere } from "./selectable-pool";
import type { DbOrTx } from "./tx";

export function writeProjectConfigColumns(
  tx: DbOrTx,
  projectId: string,
  data: { selectionParams?: Prisma.InputJsonValue; settings?: Prisma.InputJsonValue; encoderConfig?: Prisma.InputJsonValue },
) {
  return tx.project.update({ where: { id: projectId }, data, select: PROJECT_ACCESS_SELECT });
}

/** Cases a round can still pick: the selectable pool of server/db/selectable-pool.ts (the select job's and the cold start's candidates). */
export function countSelectablePool(db: DbOrTx, projectId: string) {
  return db.case.count({ where: selectablePoolWhere(projectId) });
}

/** The first `take` cases with a narrative (by id), for a text encoder's "try it". */
export function listNarrativeSample(db: DbOrTx, projectId: string, take: number) {
  return db.case.findMany({
    where: { projectId, narrative: { not: null } },
    orderBy: { id: "asc" },
    take,
    select: { id: true, externalId: true, narrative: true },
  });
}

/** How many of the project's cases have a narrative (what an LSA or built-in text encoder is fitted on). */
export function countNarratives(db: DbOrTx, projectId: string) {
  return db.case.count({ where: { projectId, narrative: { not: null } } });
}

/** The first `take` cases with images (by id) and their first image, for an image encoder's "try it". */
export function listImageSample(db: DbOrTx, projectId: string, take: number) {
  return db.case.findMany({
    where: { projectId, images: { some: {} } },
    orderBy: { id: "asc" },
    take,
    select: { id: true, externalId: true, images: { orderBy: { position: "asc" }, take: 1, select: { id: true, storageKey: true } } },
  });
}
