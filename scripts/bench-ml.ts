/**
 * npm run bench:ml [-- --quick] [--sizes 1000,10000,…] [--repeats n] [--budget B] [--no-train] [--no-rads] [--no-js-baseline]
 *
 * A benchmark, not a test: wall time and peak memory of one whole RADS round (K MC-dropout
 * passes of a trained head over the pool, BALD, agent training for the paper's 300 episodes,
 * the greedy pass) on synthetic 384-d embedding pools, and of training the head on 100,000 × 384.
 * Each measurement runs in its own child process, so its peak RSS (getrusage maxRSS) is its
 * own and not inflated by the cases before it. Prints a markdown table on stdout.
 */
import { spawn } from "node:child_process";
import { cpus, totalmem, platform, release } from "node:os";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { setWasmKernelsEnabled, wasmKernelsEnabled } from "../workers/ml/linalg";
import { mcDropoutLogProbs, trainHead } from "../workers/ml/mlp-head";
import { radsStrategy } from "../workers/ml/rads/rads-strategy";
import { createRng, type Rng } from "../workers/ml/rng";
import type { Matrix } from "../workers/ml/types";

const DIM = 384;

type BenchCase =
  | { kind: "rads"; n: number; mode: "exact" | "scaled"; repeats: number; budget: number; episodes: number; k: number }
  | { kind: "train"; n: number; epochs: number; repeats: number; kernels: "wasm" | "js" };

interface CaseResult {
  wallMs: number[];
  /** Per repeat, for RADS: the MC-dropout part and the selection part. */
  mcMs: number[];
  selectMs: number[];
  /** Peak resident set of the child process (setup included), MiB. */
  peakRssMiB: number;
  /** RSS after building the pool and head, before the timed part, MiB. */
  setupRssMiB: number;
  note: string;
}

/**
 * Synthetic embeddings: unit-norm 384-d rows, 5 % minority shifted along one random direction,
 * so the head learns something and MC dropout has a real boundary to disagree about.
 */
function syntheticPool(n: number, rng: Rng): { x: Matrix; y: Int32Array } {
  const data = new Float32Array(n * DIM);
  const y = new Int32Array(n);
  const dir = new Float32Array(DIM);
  let dn = 0;
  for (let j = 0; j < DIM; j++) dn += (dir[j] = rng.normal()) ** 2;
  for (let j = 0; j < DIM; j++) dir[j]! /= Math.sqrt(dn);
  for (let i = 0; i < n; i++) {
    y[i] = rng.next() < 0.05 ? 1 : 0;
    let norm = 0;
    for (let j = 0; j < DIM; j++) {
      // Minority shifted by 2 noise standard deviations along `dir`: overlapping classes, so the
      // head is uncertain near the boundary and BALD has something to rank.
      const v = rng.normal() * 0.05 + (y[i] === 1 ? 0.1 * dir[j]! : 0);
      data[i * DIM + j] = v;
      norm += v * v;
    }
    const inv = 1 / Math.sqrt(norm);
    for (let j = 0; j < DIM; j++) data[i * DIM + j]! *= inv;
  }
  return { x: { data, rows: n, cols: DIM }, y };
}

function rssMiB(): number {
  return process.memoryUsage().rss / 2 ** 20;
}

function runCase(c: BenchCase): CaseResult {
  const rng = createRng(20240601);
  if (c.kind === "train") {
    // The JS-kernel row is the baseline the wasm SIMD kernels are measured against in the same run.
    setWasmKernelsEnabled(c.kernels === "wasm");
    if (c.kernels === "wasm" && !wasmKernelsEnabled()) throw new Error("WebAssembly SIMD kernels are not available in this runtime");
    const { x, y } = syntheticPool(c.n, rng);
    const setupRssMiB = rssMiB();
    const wallMs: number[] = [];
    let epochs = 0;
    for (let r = 0; r < c.repeats; r++) {
      const t0 = performance.now();
      // patience = epochs so all epochs run: the point is the cost of 20 epochs, not early stopping.
      const { report } = trainHead(x, y, 2, { maxEpochs: c.epochs, patience: c.epochs }, createRng(r + 1));
      wallMs.push(performance.now() - t0);
      epochs = report.epochsRun;
    }
    return { wallMs, mcMs: [], selectMs: [], peakRssMiB: process.resourceUsage().maxRSS / 1024, setupRssMiB, note: `${epochs} epochs, default head (hidden [64], batch 64, 15 % validation), ${c.kernels === "wasm" ? "wasm SIMD kernels" : "JS kernels (baseline)"}` };
  }
  // Pool plus a head trained on 500 labelled cases (setup, not timed).
  const { x, y } = syntheticPool(c.n, rng);
  const labelled = syntheticPool(500, rng);
  const head = trainHead(labelled.x, labelled.y, 2, { maxEpochs: 20 }, rng.fork()).weights;
  void y;
  const setupRssMiB = rssMiB();
  const strategy = radsStrategy({ mode: c.mode, agent: { episodes: c.episodes } });
  const wallMs: number[] = [];
  const mcMs: number[] = [];
  const selectMs: number[] = [];
  let note = "";
  for (let r = 0; r < c.repeats; r++) {
    const rr = createRng(1000 + r);
    const t0 = performance.now();
    const mc = mcDropoutLogProbs(head, x, c.k, rr.fork());
    const t1 = performance.now();
    const res = strategy.select({ poolSize: c.n, budget: c.budget, mc, embeddings: x, labelledEmbeddings: labelled.x, minorityClasses: [1], rng: rr.fork() });
    const t2 = performance.now();
    mcMs.push(t1 - t0);
    selectMs.push(t2 - t1);
    wallMs.push(t2 - t0);
    const st = res.stats;
    note = `env steps ${String(st.envSteps)}, gradient steps ${String(st.gradientSteps)}${st.candidates !== undefined ? `, candidates ${String(st.candidates)}, walk ${String(st.subPoolSize)}` : ""}`;
  }
  return { wallMs, mcMs, selectMs, peakRssMiB: process.resourceUsage().maxRSS / 1024, setupRssMiB, note };
}

function runInChild(c: BenchCase): Promise<CaseResult> {
  return new Promise((resolve, reject) => {
    const script = fileURLToPath(import.meta.url);
    const child = spawn(process.execPath, [...process.execArgv, script, "--case", JSON.stringify(c)], { stdio: ["ignore", "pipe", "inherit"] });
    let out = "";
    child.stdout.on("data", (chunk: Buffer) => (out += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      if (code !== 0) return reject(new Error(`case ${JSON.stringify(c)} exited with code ${code}`));
      resolve(JSON.parse(out.trim().split("\n").pop()!) as CaseResult);
    });
  });
}

function median(v: number[]): number {
  const s = v.slice().sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

const sec = (ms: number) => (ms / 1000).toFixed(ms < 10_000 ? 2 : 1);

async function main(): Promise<void> {
  const { values } = parseArgs({
    args: process.argv.slice(2),
    strict: true,
    options: {
      case: { type: "string" },
      quick: { type: "boolean" },
      sizes: { type: "string" },
      repeats: { type: "string" },
      budget: { type: "string" },
      episodes: { type: "string" },
      "no-train": { type: "boolean" },
      "no-rads": { type: "boolean" },
      "no-js-baseline": { type: "boolean" },
      help: { type: "boolean" },
    },
  });
  if (values.case) {
    process.stdout.write(`${JSON.stringify(runCase(JSON.parse(values.case) as BenchCase))}\n`);
    return;
  }
  if (values.help) {
    process.stdout.write("Usage: npm run bench:ml -- [--quick] [--sizes 1000,10000,50000,100000] [--repeats 3] [--budget 10] [--episodes 300] [--no-train] [--no-rads] [--no-js-baseline]\n");
    return;
  }
  const quick = values.quick ?? false;
  const sizes = (values.sizes ?? (quick ? "1000,10000" : "1000,10000,50000,100000")).split(",").map(Number);
  if (sizes.some((n) => !Number.isInteger(n) || n < 100)) throw new Error("--sizes: integers >= 100");
  const repeats = Number(values.repeats ?? (quick ? 1 : 3));
  const budget = Number(values.budget ?? 10);
  const episodes = Number(values.episodes ?? 300);
  const k = 10;

  const cpu = cpus();
  process.stdout.write(
    [
      `Environment: node ${process.version}, ${platform()} ${release()}, ${cpu.length} × ${cpu[0]?.model.trim() ?? "unknown CPU"}, ${(totalmem() / 2 ** 30).toFixed(1)} GiB RAM`,
      `RADS round = MC dropout (K = ${k}) of a trained head (384 → 64 → 2) over the pool + BALD + ${episodes} agent episodes + greedy pass; B = ${budget}; one child process per case; wall = median of the repeats.`,
      "",
    ].join("\n") + "\n",
  );

  const cases: { label: string; c: BenchCase }[] = [];
  if (!values["no-rads"]) {
    // Exact mode only on the smallest pool: it walks the whole pool every episode.
    cases.push({ label: "RADS round, exact", c: { kind: "rads", n: sizes[0]!, mode: "exact", repeats, budget, episodes, k } });
    for (const n of sizes) {
      // Large pools get fewer repeats where one round takes minutes.
      const r = n >= 50_000 ? Math.min(repeats, quick ? 1 : 2) : repeats;
      cases.push({ label: "RADS round, scaled", c: { kind: "rads", n, mode: "scaled", repeats: r, budget, episodes, k } });
    }
  }
  if (!values["no-train"]) {
    const train = { kind: "train" as const, n: quick ? 20_000 : 100_000, epochs: quick ? 5 : 20 };
    cases.push({ label: "head training", c: { ...train, repeats: quick ? 1 : repeats, kernels: "wasm" } });
    // One repeat of the slow JS baseline (~45 s at full size).
    if (!values["no-js-baseline"]) cases.push({ label: "head training, JS kernels", c: { ...train, repeats: 1, kernels: "js" } });
  }

  const rows: string[][] = [];
  let prevScaled: { n: number; ms: number } | null = null;
  for (const { label, c } of cases) {
    process.stderr.write(`running ${label} on ${c.n.toLocaleString("en")} cases (${c.repeats} repeat${c.repeats > 1 ? "s" : ""})…\n`);
    const r = await runInChild(c);
    const wall = median(r.wallMs);
    let growth = "";
    if (c.kind === "rads" && c.mode === "scaled") {
      if (prevScaled) {
        // Exponent of a power law through the two points: 1 = linear in pool size.
        const exponent = Math.log(wall / prevScaled.ms) / Math.log(c.n / prevScaled.n);
        growth = `×${(wall / prevScaled.ms).toFixed(2)} for ×${(c.n / prevScaled.n).toFixed(0)} cases (n^${exponent.toFixed(2)})`;
      }
      prevScaled = { n: c.n, ms: wall };
    }
    rows.push([
      label,
      c.kind === "rads" ? `${c.n.toLocaleString("en")} × 384` : `${c.n.toLocaleString("en")} × 384, ${c.epochs} epochs`,
      String(c.repeats),
      sec(wall),
      r.wallMs.length > 1 ? `${sec(Math.min(...r.wallMs))}–${sec(Math.max(...r.wallMs))}` : "–",
      r.mcMs.length ? sec(median(r.mcMs)) : "–",
      r.selectMs.length ? sec(median(r.selectMs)) : "–",
      r.peakRssMiB.toFixed(0),
      r.setupRssMiB.toFixed(0),
      growth,
      r.note,
    ]);
  }
  const header = ["case", "pool / data", "repeats", "wall s (median)", "min–max s", "MC dropout s", "selection s", "peak RSS MiB", "RSS after setup MiB", "growth vs previous size", "notes"];
  const widths = header.map((h, i) => Math.max(h.length, ...rows.map((row) => row[i]!.length)));
  const fmt = (cells: string[]) => `| ${cells.map((x, i) => x.padEnd(widths[i]!)).join(" | ")} |`;
  process.stdout.write([fmt(header), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(fmt)].join("\n") + "\n");
}

main().catch((err: unknown) => {
  process.stderr.write(`bench-ml: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
