/**
 * The round does not wait for its stopping estimate (select.ts, file comment): with the estimate held
 * back by a gate around `roundStoppingEstimate`, a round computed after approval is published with
 * `remainingMinorityStatus: "estimating"` and the estimate is patched in when the gate opens; a
 * speculative run whose model is approved while its estimate is still being computed hands its round
 * over — the approval publishes that round (no second computation, exactly one round) and the
 * estimate follows; an estimate that fails leaves the round published and says "unavailable".
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it, vi } from "vitest";
import { parseRemainingMinority } from "@/contracts/remaining-minority";
import { createServiceContext } from "@/server/services/context";
import { submitAnnotation } from "@/server/services/annotation-service";
import { decideModel } from "@/server/services/review-service";
import { getSelectionStats } from "@/server/services/selection-stats";
import { createTestUser, testDb } from "@/server/testing/fixtures";
import { checkRetrainTriggers, enqueueLoopJob } from "./loop-triggers";
import { speculativeSelectDedupeKey } from "./select";
import { createLoopProject, loadMtsamplesTask, startLoopWorker, stopLoopWorker, waitForJobRun, waitForNewJobRun, type LoopCase, type LoopWorker } from "../testing/loop-fixtures";

/** What the next stopping estimate waits for before it starts (set per phase by the test). */
const gate = vi.hoisted(() => ({ wait: (): Promise<void> => Promise.resolve() }));

vi.mock("./stopping-estimate", async (importOriginal) => {
  const original = await importOriginal<typeof import("./stopping-estimate")>();
  return {
    ...original,
    roundStoppingEstimate: async (...args: Parameters<typeof original.roundStoppingEstimate>) => {
      await gate.wait();
      return original.roundStoppingEstimate(...args);
    },
  };
});

/** A gate that stays shut until `open()` (or fails when `fail()` is called). */
function shutGate() {
  let open!: () => void;
  let fail!: (error: Error) => void;
  const shut = new Promise<void>((resolve, reject) => {
    open = resolve;
    fail = reject;
  });
  shut.catch(() => undefined);
  gate.wait = () => shut;
  return { open, fail };
}

const db = testDb();
let loop: LoopWorker;

beforeAll(async () => {
  loop = await startLoopWorker(db, "select-estimate");
});

afterAll(async () => {
  gate.wait = () => Promise.resolve();
  await stopLoopWorker(loop);
});

type Ctx = ReturnType<typeof createServiceContext>;
type Stats = Record<string, unknown> & { remainingMinorityStatus?: string; remainingMinority?: unknown; speculative?: string };

async function poll<T>(what: string, probe: () => Promise<T | null | undefined>, timeoutMs = 180_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const value = await probe();
    if (value !== null && value !== undefined) return value;
    if (Date.now() > deadline) throw new Error(`${what}: nothing after ${timeoutMs} ms`);
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
}

async function labelRound(ctx: Ctx, roundId: string, truth: Map<string, LoopCase>) {
  const items = await db.queueItem.findMany({ where: { roundId }, orderBy: { rank: "asc" }, select: { caseId: true } });
  for (const item of items) {
    await submitAnnotation(ctx, { caseId: item.caseId, expectedVersion: 0, content: { labels: [truth.get(item.caseId)!.label], spans: [], uncertain: false, comment: "" }, timeSpentMs: 1000 });
  }
}

async function train(projectId: string, tag: string, speculate: boolean) {
  const queued = await enqueueLoopJob(loop.worker, { kind: "train", projectId, payload: { projectId, reason: "manual", speculate }, dedupeKey: `test:${projectId}:${tag}` });
  const run = await waitForJobRun(db, queued.jobRunId, 180_000);
  expect(run.status, run.error ?? "").toBe("SUCCEEDED");
  return (run.result as { modelVersionId: string }).modelVersionId;
}

const roundNumbered = (projectId: string, number: number) => db.selectionRound.findFirst({ where: { projectId, number }, include: { items: { orderBy: { rank: "asc" }, select: { caseId: true } } } });
const statsOf = async (roundId: string) => (await db.selectionRound.findUniqueOrThrow({ where: { id: roundId } })).stats as Stats;

describe("the stopping estimate follows the published round", () => {
  it("publishes first and patches the estimate in; a speculative round handed over at approval is the one round; a failed estimate says unavailable", async () => {
    const clinicianUser = await createTestUser("CLINICIAN");
    const reviewerUser = await createTestUser("REVIEWER");
    const scientistUser = await createTestUser("DATA_SCIENTIST");
    const cases = loadMtsamplesTask({ size: 300, specialty: "Neurology", minorityShare: 0.1, seed: 31 });
    const { projectId, truth } = await createLoopProject(db, cases, {
      memberIds: [clinicianUser.id, reviewerUser.id, scientistUser.id],
      selectionParams: { strategy: "rads", budget: 12, mcPasses: 4, episodes: 6 },
      settings: { retrainEveryNLabels: 1000, fourEyes: false, head: { kind: "logistic" } },
      encoderDim: 64,
      seedPerClass: 2,
    });
    const clinician = createServiceContext(db, clinicianUser);
    const reviewer = createServiceContext(db, reviewerUser);
    const scientist = createServiceContext(db, scientistUser);
    let since = new Date();
    await checkRetrainTriggers(loop.worker, projectId);
    const cold = await waitForJobRun(db, (await waitForNewJobRun(db, projectId, "select", since)).id);
    expect(cold.status, cold.error ?? "").toBe("SUCCEEDED");
    const round1 = (await roundNumbered(projectId, 1))!;

    // 1. Computed after approval (no speculative round): the round exists while its estimate is still held back.
    await labelRound(clinician, round1.id, truth);
    const v1 = await train(projectId, "v1", false);
    let held = shutGate();
    since = new Date();
    await decideModel(reviewer, { modelVersionId: v1, decision: "approve", note: "ok" });
    const select1 = await waitForNewJobRun(db, projectId, "select", since);
    const round2 = await poll("round 2", () => roundNumbered(projectId, 2));
    expect(round2.items).toHaveLength(12);
    expect(await statsOf(round2.id)).toMatchObject({ remainingMinority: null, remainingMinorityStatus: "estimating" });
    expect((await db.jobRun.findUniqueOrThrow({ where: { id: select1.id } })).status).toBe("RUNNING");
    // The selection page's data says so (the panel shows "estimating…" for it).
    expect((await getSelectionStats(scientist, { projectId })).rounds[0]).toMatchObject({ number: 2, remainingMinority: null, remainingMinorityStatus: "estimating" });
    held.open();
    const done1 = await waitForJobRun(db, select1.id, 180_000);
    expect(done1.status, done1.error ?? "").toBe("SUCCEEDED");
    expect(done1.result).toMatchObject({ roundId: round2.id, stoppingEstimate: "ready" });
    const s2 = await statsOf(round2.id);
    expect(s2.remainingMinorityStatus).toBe("ready");
    expect(parseRemainingMinority(s2.remainingMinority)).toMatchObject({ poolSize: s2.poolSize, basis: { method: "calibrated-bootstrap", modelVersion: 1 } });
    const view = (await getSelectionStats(scientist, { projectId })).rounds[0]!;
    expect(view).toMatchObject({ number: 2, remainingMinorityStatus: "ready" });
    expect(view.remainingMinority).toEqual(parseRemainingMinority(s2.remainingMinority));

    // 2. Speculative round, approved while its estimate is being computed: the speculative run hands the
    //    round over, the approval publishes exactly that round without computing one, the estimate follows.
    await labelRound(clinician, round2.id, truth);
    held = shutGate();
    const v2 = await train(projectId, "v2", true);
    const early = path.join(loop.storageDir, `projects/${projectId}/speculative-round/${v2}.json`);
    // The selection is done (its round left as a blob) while the estimate waits at the gate.
    await poll("the speculative run's early round", async () => (fs.existsSync(early) ? true : null));
    const speculativeRun = (await db.jobRun.findUniqueOrThrow({ where: { dedupeKey: speculativeSelectDedupeKey(projectId, v2) } }));
    expect(speculativeRun.status).toBe("RUNNING");
    const earlyPicked = (JSON.parse(fs.readFileSync(early, "utf8")) as { round: { picked: { caseId: string }[] } }).round.picked.map((p) => p.caseId);
    since = new Date();
    await decideModel(reviewer, { modelVersionId: v2, decision: "approve", note: "ok" });
    const handedOver = await waitForJobRun(db, speculativeRun.id, 60_000);
    expect(handedOver.status, handedOver.error ?? "").toBe("SUCCEEDED");
    expect((handedOver.result as { round: { stats: Stats } }).round.stats.remainingMinorityStatus).toBe("estimating");
    const select2 = await waitForNewJobRun(db, projectId, "select", since);
    const round3 = await poll("round 3", () => roundNumbered(projectId, 3));
    expect(round3.items.map((i) => i.caseId)).toEqual(earlyPicked);
    expect(await statsOf(round3.id)).toMatchObject({ speculative: "published", remainingMinority: null, remainingMinorityStatus: "estimating" });
    held.open();
    const done2 = await waitForJobRun(db, select2.id, 180_000);
    expect(done2.status, done2.error ?? "").toBe("SUCCEEDED");
    const result2 = done2.result as { roundId: string; speculative: string; stoppingEstimate: string; timings: Record<string, number> };
    expect(result2).toMatchObject({ roundId: round3.id, speculative: "published", stoppingEstimate: "ready" });
    // The approval's run computed nothing: no uncertainty or strategy stage.
    expect(result2.timings.strategy).toBeUndefined();
    expect(result2.timings.uncertainty).toBeUndefined();
    const s3 = await statsOf(round3.id);
    expect(s3.remainingMinorityStatus).toBe("ready");
    expect(parseRemainingMinority(s3.remainingMinority)).toMatchObject({ poolSize: s3.poolSize, basis: { modelVersion: 2 } });
    expect(await db.selectionRound.count({ where: { projectId, modelVersionId: v2 } })).toBe(1);
    expect(await db.selectionRound.count({ where: { projectId } })).toBe(3);
    for (const dir of ["speculative-round", "stopping-estimate", "rads-agent/speculative"]) {
      const full = path.join(loop.storageDir, `projects/${projectId}/${dir}`);
      expect(fs.existsSync(full) ? fs.readdirSync(full) : [], dir).toEqual([]);
    }

    // 3. The estimate fails: the round stays published and says so; the job still succeeds.
    await labelRound(clinician, round3.id, truth);
    const v3 = await train(projectId, "v3", false);
    held = shutGate();
    since = new Date();
    await decideModel(reviewer, { modelVersionId: v3, decision: "approve", note: "ok" });
    const select3 = await waitForNewJobRun(db, projectId, "select", since);
    const round4 = await poll("round 4", () => roundNumbered(projectId, 4));
    held.fail(new Error("estimate failed in the test"));
    const done3 = await waitForJobRun(db, select3.id, 180_000);
    expect(done3.status, done3.error ?? "").toBe("SUCCEEDED");
    expect(done3.result).toMatchObject({ roundId: round4.id, stoppingEstimate: "unavailable", stoppingEstimateError: "estimate failed in the test" });
    expect(await statsOf(round4.id)).toMatchObject({ remainingMinority: null, remainingMinorityStatus: "unavailable" });
    expect(round4.items).toHaveLength(12);
  }, 900_000);
});
