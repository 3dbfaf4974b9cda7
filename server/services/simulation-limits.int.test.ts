/**
 * Issue 12, fault 12: what-if simulations could be started without limit (each one is minutes of
 * CPU on the worker). Now one may be queued or running per project, SIMULATIONS_MAX_ACTIVE on the
 * platform, and parallel starts cannot race past the count.
 */
import { afterAll, beforeEach, describe, expect, it } from "vitest";
import { createTestUser, refusal, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { createServiceContext, type Actor } from "./context";
import { stopJobClient } from "./enqueue-job";
import { SIMULATE_KIND, SIMULATIONS_MAX_ACTIVE, startSimulation } from "./simulation-service";

afterAll(async () => {
  await stopJobClient();
  await testDb().$disconnect();
});

// The shared test database has no worker: simulate runs other test files queued never finish.
// Integration files run one at a time (vitest.config.ts), so finishing them here disturbs no one.
beforeEach(async () => {
  await testDb().jobRun.updateMany({ where: { kind: SIMULATE_KIND, status: { in: ["QUEUED", "RUNNING"] } }, data: { status: "FAILED", error: "test cleanup" } });
});

const input = (projectId: string) => ({ projectId, strategies: ["random" as const], budgets: [5], rounds: 1, seeds: 1, episodes: 10, seedSize: 10 });

async function scientistWithProjects(count: number): Promise<{ scientist: Actor; projectIds: string[] }> {
  const scientist = await createTestUser("DATA_SCIENTIST");
  const projectIds: string[] = [];
  for (let i = 0; i < count; i++) projectIds.push((await createTestProject({ memberIds: [scientist.id], cases: 2 })).projectId);
  return { scientist, projectIds };
}

describe("what-if simulation limits", () => {
  it("allows one per project at a time, and SIMULATIONS_MAX_ACTIVE on the platform", async () => {
    const { scientist, projectIds } = await scientistWithProjects(SIMULATIONS_MAX_ACTIVE + 1);
    const ctx = () => createServiceContext(testDb(), scientist);
    const first = await startSimulation(ctx(), input(projectIds[0]!));
    expect((await refusal(startSimulation(ctx(), input(projectIds[0]!)))).kind).toBe("CONFLICT");
    for (let i = 1; i < SIMULATIONS_MAX_ACTIVE; i++) await startSimulation(ctx(), input(projectIds[i]!));
    const platformFull = await refusal(startSimulation(ctx(), input(projectIds[SIMULATIONS_MAX_ACTIVE]!)));
    expect(platformFull).toMatchObject({ kind: "THROTTLED" });
    expect(platformFull.message).toContain(`already runs ${SIMULATIONS_MAX_ACTIVE} what-if simulations`);
    // Once one finishes, its project may start again.
    await testDb().jobRun.update({ where: { id: first.jobRunId }, data: { status: "SUCCEEDED" } });
    await startSimulation(ctx(), input(projectIds[0]!));
    // A refused start wrote nothing.
    expect(await testDb().jobRun.count({ where: { kind: SIMULATE_KIND, projectId: projectIds[SIMULATIONS_MAX_ACTIVE]! } })).toBe(0);
  });

  it("lets exactly one of many parallel starts in a project through", async () => {
    const { scientist, projectIds } = await scientistWithProjects(1);
    const results = await Promise.allSettled(Array.from({ length: 8 }, () => startSimulation(createServiceContext(testDb(), scientist), input(projectIds[0]!))));
    expect(results.filter((r) => r.status === "fulfilled")).toHaveLength(1);
    expect(await testDb().jobRun.count({ where: { kind: SIMULATE_KIND, projectId: projectIds[0]! } })).toBe(1);
  });
});
