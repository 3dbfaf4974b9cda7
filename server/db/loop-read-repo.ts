/** Reads and writes of the loop's procedures, on behalf of a user: membership is in every where-clause. */
import type { DbOrTx } from "./tx";

/** What names "the labels as they are now" for a manual retrain: count and newest submitted annotation. */
export async function labelStateOfProject(db: DbOrTx, projectId: string) {
  const [count, latest] = await Promise.all([
    db.annotation.count({ where: { kind: "SUBMITTED", case: { projectId } } }),
    db.annotation.findFirst({ where: { kind: "SUBMITTED", case: { projectId } }, orderBy: { createdAt: "desc" }, select: { id: true } }),
  ]);
  return { count, latestId: latest?.id ?? "none" };
}
