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
import { getSelectionStats } from "@/server/services/selection-stats";
import { testDb } from "@/server/testing/fixtures";
import { enqueueLoopJob } from "./loop-triggers";
import { speculativeSelectDedupeKey } from "./select";
import { startLoopWorker, stopLoopWorker, type LoopWorker } from "../testing/loop-fixtures";
import { approve, coldStartRound, createLoopTestProject, expectJobSucceeds, labelRound, roundNumbered } from "../testing/loop-test-project";

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

async function train(projectId: string, tag: string, speculate: boolean) {
  const queued = await enqueueLoopJob(loop.worker, { kind: "train", projectId, payload: { projectId, reason: "manual", speculate }, dedupeKey: `test:${projectId}:${tag}` });
  const run = await expectJobSucceeds(db, queued.jobRunId, 180_000);
  return (run.result as { modelVersionId: string }).modelVersionId;
}

const statsOf = async (roundId: string) => (await db.selectionRound.findUniqueOrThrow({ where: { id: roundId } })).stats as Stats;

describe("the stopping estimate follows the published round", () => {
  it("publishes first and patches the estimate in; a speculative round handed over at approval is the one round; a failed estimate says unavailable", async () => {
    const project = await createLoopTestProject(db, {
      seed: 31,
      selectionParams: { strategy: "rads", budget: 12, mcPasses: 4, episodes: 6 },
      settings: { retrainEveryNLabels: 1000, fourEyes: false, head: { kind: "logistic" } },
      encoderDim: 64,
      seedPerClass: 2,
    });
    const { projectId, scientist } = project;
    const round1 = await coldStartRound(db, loop, projectId);

    // 1. Computed after approval (no speculative round): the round exists while its estimate is still held back.
    await labelRound(db, project, round1.id);
    const v1 = await train(projectId, "v1", false);
    let held = shutGate();
    const select1 = await approve(db, project, v1);
    const round2 = await poll("round 2", () => roundNumbered(db, projectId, 2));
    expect(round2.items).toHaveLength(12);
    expect(await statsOf(round2.id)).toMatchObject({ remainingMinority: null, remainingMinorityStatus: "estimating" });
    expect((await db.jobRun.findUniqueOrThrow({ where: { id: select1.id } })).status).toBe("RUNNING");
    // The selection page's data says so (the panel shows "estimating…" for it).
    expect((await getSelectionStats(scientist, { projectId })).rounds[0]).toMatchObject({ number: 2, remainingMinority: null, remainingMinorityStatus: "estimating" });
    held.open();
    const done1 = await expectJobSucceeds(db, select1.id, 180_000);
    expect(done1.result).toMatchObject({ roundId: round2.id, stoppingEstimate: "ready" });
    const s2 = await statsOf(round2.id);
    expect(s2.remainingMinorityStatus).toBe("ready");
    expect(parseRemainingMinority(s2.remainingMinority)).toMatchObject({ poolSize: s2.poolSize, basis: { method: "calibrated-bootstrap", modelVersion: 1 } });
    const view = (await getSelectionStats(scientist, { projectId })).rounds[0]!;
    expect(view).toMatchObject({ number: 2, remainingMinorityStatus: "ready" });
    expect(view.remainingMinority).toEqual(parseRemainingMinority(s2.remainingMinority));

    // 2. Speculative round, approved while its estimate is being computed: the speculative run hands the
    //    round over, the approval publishes exactly that round without computing one, the estimate follows.
    await labelRound(db, project, round2.id);
    held = shutGate();
    const v2 = await train(projectId, "v2", true);
    const early = path.join(loop.storageDir, `projects/${projectId}/speculative-round/${v2}.json`);
    // The selection is done (its round left as a blob) while the estimate waits at the gate.
    await poll("the speculative run's early round", async () => (fs.existsSync(early) ? true : null));
    const speculativeRun = (await db.jobRun.findUniqueOrThrow({ where: { dedupeKey: speculativeSelectDedupeKey(projectId, v2) } }));
    expect(speculativeRun.status).toBe("RUNNING");
    const earlyPicked = (JSON.parse(fs.readFileSync(early, "utf8")) as { round: { picked: { caseId: string }[] } }).round.picked.map((p) => p.caseId);
    const select2 = await approve(db, project, v2);
    const handedOver = await expectJobSucceeds(db, speculativeRun.id, 60_000);
    expect((handedOver.result as { round: { stats: Stats } }).round.stats.remainingMinorityStatus).toBe("estimating");
    const round3 = await poll("round 3", () => roundNumbered(db, projectId, 3));
    expect(round3.items.map((i) => i.caseId)).toEqual(earlyPicked);
    expect(await statsOf(round3.id)).toMatchObject({ speculative: "published", remainingMinority: null, remainingMinorityStatus: "estimating" });
    held.open();
    const done2 = await expectJobSucceeds(db, select2.id, 180_000);
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
    await labelRound(db, project, round3.id);
    const v3 = await train(projectId, "v3", false);
    held = shutGate();
    const select3 = await approve(db, project, v3);
    const round4 = await poll("round 4", () => roundNumbered(db, projectId, 4));
    held.fail(new Error("estimate failed in the test"));
    const done3 = await expectJobSucceeds(db, select3.id, 180_000);
    expect(done3.result).toMatchObject({ roundId: round4.id, stoppingEstimate: "unavailable", stoppingEstimateError: "estimate failed in the test" });
    expect(await statsOf(round4.id)).toMatchObject({ remainingMinority: null, remainingMinorityStatus: "unavailable" });
    expect(round4.items).toHaveLength(12);
  }, 900_000);
});
