/**
 * npx tsx scripts/bench-embedding-features.ts [-- --repeats 5] [--sizes 10000,100000] [--dim 100] [--rows R] [--no-reference]
 *
 * A micro-benchmark, not a test: wall time of the RADS embedding-space state features over the whole pool
 * (workers/ml/rads/embedding-features.ts), the blocked float32 products (`embeddingStateFeatures`) against the
 * scalar float64 loops they replaced (`embeddingStateFeaturesReference`), in the same process, alternating, with
 * the median of `--repeats` runs each. Shapes as the select job passes them (workers/jobs/select.ts
 * `featureSampling`): up to 10,000 cases, 1,000 labelled cases and a density reference set of 2,000; above
 * that both scaled down in proportion (100,000 cases: 200 and 200). 10 % of the labelled cases are minority.
 * With `--rows R`, only R seeded pool rows are computed (the `rows` option: what a round reads — its training
 * candidates and shortlist, ≈ 2,000 rows), else the whole pool. Also prints the largest difference between the
 * two on each shape. Prints a markdown table on stdout.
 */
import { parseArgs } from "node:util";
import { wasmKernelsEnabled } from "../workers/ml/linalg";
import { embeddingStateFeatures, embeddingStateFeaturesReference } from "../workers/ml/rads/embedding-features";
import { createRng, type Rng } from "../workers/ml/rng";
import type { Matrix } from "../workers/ml/types";

/** Mirrors workers/jobs/select.ts featureSampling (not imported: that module pulls in the job's database code). */
function sampling(n: number): { referenceLimit: number; labelled: number } {
  if (n <= 10_000) return { referenceLimit: 2000, labelled: 1000 };
  const scale = 10_000 / n;
  return { referenceLimit: Math.max(200, Math.round(2000 * scale)), labelled: Math.max(200, Math.round(1000 * scale)) };
}

function gaussian(rows: number, cols: number, rng: Rng): Matrix {
  return { data: Float32Array.from({ length: rows * cols }, () => rng.normal()), rows, cols };
}

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) >> 1]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};

function main(): void {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    options: {
      repeats: { type: "string", default: "5" },
      sizes: { type: "string", default: "10000,100000" },
      dim: { type: "string", default: "100" },
      rows: { type: "string" },
      "no-reference": { type: "boolean", default: false },
    },
  });
  const repeats = Number(values.repeats);
  const dim = Number(values.dim);
  const sizes = values.sizes.split(",").map(Number);
  if (!(Number.isInteger(repeats) && repeats >= 1)) throw new Error("--repeats: an integer >= 1");
  if (!(Number.isInteger(dim) && dim >= 1)) throw new Error("--dim: an integer >= 1");
  if (sizes.some((n) => !(Number.isInteger(n) && n >= 2))) throw new Error("--sizes: integers >= 2");
  const rowCount = values.rows === undefined ? null : Number(values.rows);
  if (rowCount !== null && !(Number.isInteger(rowCount) && rowCount >= 1)) throw new Error("--rows: an integer >= 1");
  process.stdout.write(`Embedding features, ${rowCount === null ? "whole pool" : `${rowCount} seeded rows`}, d = ${dim}, median of ${repeats} runs each (wasm kernels: ${wasmKernelsEnabled() ? "on" : "off"})\n\n`);
  process.stdout.write("| pool | labelled | reference | blocked float32 (s) | scalar reference (s) | speed-up | largest difference |\n|---|---|---|---|---|---|---|\n");
  for (const n of sizes) {
    const { referenceLimit, labelled: nl } = sampling(n);
    const rng = createRng(n);
    const pool = gaussian(n, dim, rng);
    const labelled = gaussian(nl, dim, rng);
    const labels = Int32Array.from({ length: nl }, (_, j) => (j % 10 === 0 ? 1 : 0));
    const options = { referenceLimit, ...(rowCount === null ? {} : { rows: Int32Array.from({ length: rowCount }, () => rng.int(n)) }) };
    const fast: number[] = [];
    const slow: number[] = [];
    let worst = 0;
    for (let r = 0; r < repeats; r++) {
      let t = performance.now();
      const a = embeddingStateFeatures(pool, labelled, labels, [1], createRng(r), options);
      fast.push((performance.now() - t) / 1000);
      if (values["no-reference"]) continue;
      t = performance.now();
      const b = embeddingStateFeaturesReference(pool, labelled, labels, [1], createRng(r), options);
      slow.push((performance.now() - t) / 1000);
      for (const key of ["distanceToMinority", "distanceToLabelled", "density"] as const) {
        for (let i = 0; i < n; i++) if (!Number.isNaN(b[key][i]!)) worst = Math.max(worst, Math.abs(a[key][i]! - b[key][i]!));
      }
    }
    const f = median(fast);
    const s = slow.length ? median(slow) : NaN;
    process.stdout.write(`| ${n.toLocaleString("en")} × ${dim} | ${nl} | ${referenceLimit} | ${f.toFixed(2)} | ${slow.length ? s.toFixed(2) : "—"} | ${slow.length ? `${(s / f).toFixed(1)}×` : "—"} | ${slow.length ? worst.toExponential(1) : "—"} |\n`);
  }
}

main();
