/**
 * TEST-ONLY seeding for playwright/review.spec.ts, run by the spec against the e2e platform's
 * temporary database (DATABASE_URL given by the spec). Never run against a real database: it
 * refuses any database that is not the embedded one on loopback.
 *
 *   tsx scripts/e2e-fixtures.ts candidates   → JSON { projectId, activeId, rejectId, approveId }
 *   tsx scripts/e2e-fixtures.ts round <modelVersionId> → JSON { roundId, number }
 *
 * `candidates`: in the demo project, an APPROVED model and two CANDIDATEs whose test metrics are
 * computed by workers/ml/metrics `evaluateClassifier` on synthetic predictions for the demo's real
 * TEST labels (server/testing/synthetic-models.ts), inserted through server/db/review-repo.ts.
 * `round`: the follow-up selection round of an approved model, as the select job writes it — the real
 * RADS strategy on MC-dropout log-probabilities (synthetic here: the fixture model has no weights),
 * through the real `writeSelectionRound` — and clinician annotations (the demo's truth) on the
 * selected cases and the pool's minority cases, so hit rate and what-if have labels to show.
 */
import { createDb, type Prisma } from "../server/db/client";
import { listLabelledTestCases, listUnqueuedPoolCases, listUsersByEmailSuffix, setRoundItemsStatus } from "../server/db/fixtures-repo";
import { findProjectByName } from "../server/db/projects-repo";
import { insertModelVersion, setModelReview } from "../server/db/review-repo";
import { insertAnnotationForFixture } from "../server/db/stats-repo";
import { equalWidthEdges, histogram } from "../server/services/stats-math";
import { writeSelectionRound } from "../server/services/selection-rounds";
import { syntheticMetrics } from "../server/testing/synthetic-models";
import { baldFeatures } from "../workers/ml/bald";
import { radsStrategy } from "../workers/ml/rads/rads-strategy";
import { createRng } from "../workers/ml/rng";
import { planDemoCases, DEMO_LABELS, DEMO_PROJECT_NAME } from "../prisma/demo/narratives";

const url = process.env.DATABASE_URL ?? "";
if (!/^postgres(ql)?:\/\/rads_app:[A-Za-z0-9_-]+@127\.0\.0\.1:\d+\/rads$/.test(url)) {
  console.error("e2e-fixtures: refusing to seed a database that is not the embedded e2e one (DATABASE_URL).");
  process.exit(2);
}
const db = createDb(url);
const CLASSES = DEMO_LABELS.map((l) => l.key);

async function demo() {
  const project = await findProjectByName(db, DEMO_PROJECT_NAME);
  if (!project) throw new Error("the demo project is missing");
  const users = new Map((await listUsersByEmailSuffix(db, "@demo.local")).map((u) => [u.email, u.id]));
  return { project, user: (email: string) => users.get(email)! };
}

async function candidates() {
  const { project, user } = await demo();
  // Only TEST cases with a known label are scored (other specs may import unlabelled TEST cases).
  const test = await listLabelledTestCases(db, project.id, [...CLASSES]);
  const labels = test.map((c) => CLASSES.indexOf(c.importedLabel as (typeof CLASSES)[number]));
  const model = (status: "APPROVED" | "CANDIDATE", skill: number[], seed: number, labelCount: number, rounds: number[], triggeredBy: string) =>
    db.$transaction((tx) =>
      insertModelVersion(tx, {
        projectId: project.id,
        status,
        encoderVersion: "builtin-hashed-text-v1-384",
        metrics: syntheticMetrics({ labels, numClasses: CLASSES.length, skill, seed }, [...CLASSES]) as unknown as Prisma.InputJsonValue,
        trainingSnapshot: { labelCount, rounds },
        params: { classes: CLASSES, fixture: "e2e" },
        triggeredById: user(triggeredBy),
      }),
    );
  const active = await model("APPROVED", [0.9, 0.8, 1, 1], 11, 12, [], "scientist@demo.local");
  await setModelReview(db, active.id, "APPROVED", { status: "APPROVED", reviewedById: user("reviewer@demo.local"), reviewNote: "First model (e2e fixture).", reviewedAt: new Date() });
  // Started by the reviewer (four eyes: they may reject it but not approve it), and worse on the minority classes.
  const reject = await model("CANDIDATE", [0.95, 0.9, 0, 0], 12, 16, [1], "reviewer@demo.local");
  const approve = await model("CANDIDATE", [0.9, 0.8, 1, 1], 11, 20, [1], "scientist@demo.local");
  return { projectId: project.id, activeId: active.id, activeVersion: active.version, rejectId: reject.id, rejectVersion: reject.version, approveId: approve.id, approveVersion: approve.version };
}

async function round(modelVersionId: string) {
  const { project, user } = await demo();
  const truth = new Map(planDemoCases().map((p) => [p.externalId, p.label]));
  // The demo's own cases only: their truth is known (other specs may have imported more).
  const pool = (await listUnqueuedPoolCases(db, project.id)).filter((p) => truth.has(p.externalId));
  // MC-dropout log-probs [N, K, 4] of a model that leans toward each case's truth, unsure on some.
  const rng = createRng(5);
  const k = 10;
  const c = CLASSES.length;
  const data = new Float32Array(pool.length * k * c);
  pool.forEach((p, i) => {
    const y = CLASSES.indexOf(truth.get(p.externalId)!);
    const spread = i % 3 === 0 ? 1.6 : 0.3;
    for (let kk = 0; kk < k; kk++) {
      const z = CLASSES.map((_, j) => (j === y ? 1.2 : 0) + spread * rng.normal());
      const max = Math.max(...z);
      const lse = max + Math.log(z.reduce((s, v) => s + Math.exp(v - max), 0));
      z.forEach((v, j) => (data[(i * k + kk) * c + j] = v - lse));
    }
  });
  const mc = { data, n: pool.length, k, c };
  const minority = project.minorityClasses.map((m) => CLASSES.indexOf(m as (typeof CLASSES)[number]));
  const budget = Math.min(6, pool.length);
  const result = radsStrategy({ agent: { episodes: 60 } }).select({ poolSize: pool.length, budget, mc, embeddings: null, labelledEmbeddings: null, minorityClasses: minority, rng: createRng(9) });
  const bald = baldFeatures(mc);
  const names = Object.keys(result.features);
  const written = await writeSelectionRound(db, {
    projectId: project.id,
    strategy: "rads",
    coldStart: false,
    modelVersionId,
    params: { strategy: "rads", budget, rho: 0.9, lambda: 0.01, mcPasses: k, episodes: 60, fixture: "e2e" },
    stats: {
      ...result.stats,
      classes: CLASSES,
      poolHistograms: {
        bald: histogram(Array.from(bald.mutualInformation), equalWidthEdges(Array.from(bald.mutualInformation), 8)),
        entropy: histogram(Array.from(bald.entropy), equalWidthEdges(Array.from(bald.entropy), 8)),
      },
    },
    items: Array.from(result.selected, (poolIndex, rank) => ({
      caseId: pool[poolIndex]!.id,
      rank: rank + 1,
      features: { ...Object.fromEntries(names.map((n) => [n, result.features[n]![rank]!])), pseudoLabelKey: CLASSES[result.features.pseudoLabel![rank]!] },
    })),
  });
  // A clinician labels the round (the demo's truth) and, earlier, the pool's minority cases.
  const clinician = user("clinician@demo.local");
  const selectedIds = new Set(Array.from(result.selected, (i) => pool[i]!.id));
  const toLabel = pool.filter((p) => selectedIds.has(p.id) || project.minorityClasses.includes(truth.get(p.externalId)!));
  for (const p of toLabel) await insertAnnotationForFixture(db, { caseId: p.id, authorId: clinician, version: 1, labels: [truth.get(p.externalId)!] });
  await setRoundItemsStatus(db, written.roundId, "DONE");
  return { roundId: written.roundId, number: written.number, selected: budget };
}

const [command, arg] = process.argv.slice(2);
const run = command === "candidates" ? candidates() : command === "round" && arg ? round(arg) : Promise.reject(new Error("usage: e2e-fixtures.ts candidates | round <modelVersionId>"));
run
  .then((out) => console.log(JSON.stringify(out)))
  .catch((error) => {
    console.error(`e2e-fixtures: ${(error as Error).message}`);
    process.exitCode = 1;
  })
  .finally(() => db.$disconnect());
