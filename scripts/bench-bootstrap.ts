/**
 * npx tsx scripts/bench-bootstrap.ts [--sizes 10000,100000] [--labelled 1000] [--members 10] [--repeats 2]
 *
 * A micro-benchmark, not a test: the logistic head's bootstrap uncertainty (workers/ml/heads/logistic.ts)
 * as the select job runs it — `bootstrapLogProbs` (members fitted over the resample's distinct rows,
 * scored as one stacked product) against `bootstrapLogProbsReference` (the first implementation:
 * members fitted over the drawn rows, scored one at a time) in one process, alternating, CPU time of
 * this thread. Data as bench:loop's approval benchmark: MTSamples (Neurology vs rest, ../shared/data),
 * the built-in featuriser at 384-d, `--labelled` labelled rows, a head at c = 10 (what cross-validation
 * chose there), a pool of noisy copies (σ = 0.01) of the other rows. Prints per size the CPU of each,
 * the largest difference of a probability and of BALD between them, and whether the 10 highest-BALD
 * cases are the same.
 */
import { parseArgs } from "node:util";
import { loadMtsamplesRows } from "@/workers/testing/loop-fixtures";
import { fitTextFeaturizer, featurize } from "@/workers/ml/text-featurizer";
import { bootstrapLogProbs, bootstrapLogProbsReference, trainLogisticHead } from "@/workers/ml/heads/logistic";
import { baldFeatures } from "@/workers/ml/bald";
import { createRng } from "@/workers/ml/rng";

const { values: flags } = parseArgs({
  options: {
    sizes: { type: "string", default: "10000,100000" },
    labelled: { type: "string", default: "1000" },
    members: { type: "string", default: "10" },
    repeats: { type: "string", default: "2" },
  },
});
const n = Number(flags.labelled);
const K = Number(flags.members);
const cpuMs = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1000;
};
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)]!;

const rows = loadMtsamplesRows({ count: Math.max(4000, n * 2), specialty: "Neurology", seed: 1 }).filter((r) => r.split === "POOL");
const state = fitTextFeaturizer(rows.map((r) => r.narrative), { dim: 384 });
const all = featurize(state, rows.map((r) => r.narrative));
const d = all.cols;
const x = { data: all.data.slice(0, n * d), rows: n, cols: d };
const y = Int32Array.from(rows.slice(0, n), (r) => (r.label === "minority" ? 1 : 0));
const model = trainLogisticHead(x, y, 2, { minorityClasses: [1], cvFolds: 0, defaultC: 10 }, createRng(1));

const lines = ["| pool | stacked (ms CPU) | reference (ms CPU) | speed-up | max abs Δ probability | max abs Δ BALD | same top 10 by BALD |", "| --- | --- | --- | --- | --- | --- | --- |"];
for (const size of flags.sizes.split(",").map(Number)) {
  const pool = { data: new Float32Array(size * d), rows: size, cols: d };
  const g = createRng(9);
  for (let i = 0; i < size; i++) {
    const src = n + (i % (all.rows - n));
    for (let j = 0; j < d; j++) pool.data[i * d + j] = all.data[src * d + j]! + 0.01 * g.normal();
  }
  const fast: number[] = [];
  const ref: number[] = [];
  let dp = 0;
  let db = 0;
  let sameTop = true;
  for (let r = 0; r < Number(flags.repeats); r++) {
    let t = cpuMs();
    const a = bootstrapLogProbsReference(model, pool, K, createRng(3 + r));
    ref.push(cpuMs() - t);
    t = cpuMs();
    const b = bootstrapLogProbs(model, pool, K, createRng(3 + r));
    fast.push(cpuMs() - t);
    for (let i = 0; i < a.data.length; i++) dp = Math.max(dp, Math.abs(Math.exp(a.data[i]!) - Math.exp(b.data[i]!)));
    const fa = baldFeatures(a).mutualInformation;
    const fb = baldFeatures(b).mutualInformation;
    for (let i = 0; i < fa.length; i++) db = Math.max(db, Math.abs(fa[i]! - fb[i]!));
    const top = (f: Float64Array) => Array.from(f.keys()).sort((p, q) => f[q]! - f[p]!).slice(0, 10).join(",");
    sameTop &&= top(fa) === top(fb);
  }
  lines.push(`| ${size.toLocaleString("en")} | ${median(fast).toFixed(0)} | ${median(ref).toFixed(0)} | ${(median(ref) / median(fast)).toFixed(1)}× | ${dp.toExponential(1)} | ${db.toExponential(1)} | ${sameTop ? "yes" : "no"} |`);
}
process.stdout.write(`${n} labelled × ${d}, ${K} members, medians of ${flags.repeats}\n\n${lines.join("\n")}\n`);
