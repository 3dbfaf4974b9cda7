/**
 * npm run bench:embed [-- --texts 256] [--images 48] [--batch 32] [--repeats 3]
 *
 * A benchmark, not a test: embedding throughput (cases/s) of the three encoder paths on real data,
 * each beside a baseline measured in the same run on the same batches, so the cost of our own
 * tokenisation / decoding / preprocessing is visible:
 *   (i)   ONNX text: the real MiniLM tokenizer (../shared/models/all-MiniLM-L6-v2-tokenizer) and a
 *         toy BERT-shaped graph (Gather word + type tables, 384-d; models/encoders/testing) on real
 *         MTSamples narratives — the real MiniLM weights are absent, so the model part is far cheaper
 *         than a 6-layer transformer and this row measures our tokenizer + pooling overhead, not
 *         MiniLM's speed. Baseline: session.run alone on the pre-tokenised batches.
 *   (ii)  built-in featuriser (hashed TF-IDF, 384-d) on the same narratives. Baseline: featurize()
 *         alone (there is no onnxruntime in this path; the difference is the Encoder wrapper).
 *   (iii) MobileNetV2 int8 (../shared/models/mobilenetv2-12-int8) on real chest X-rays (JPEG/PNG
 *         bytes in memory → decode → resize/crop/normalise → run). Baseline: session.run alone on
 *         the preprocessed [batch, 3, 224, 224] tensors.
 * Every figure is the median of --repeats timed passes after one untimed warm-up pass.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { ZOnnxImageEncoderConfig } from "../contracts/encoder-config";
import { fitBuiltinTextEncoder } from "../models/encoders/builtin-text-encoder";
import { decodeImage } from "../models/encoders/image-decode";
import { createOnnxImageEncoder } from "../models/encoders/onnx-image-encoder";
import { createOnnxTextEncoder } from "../models/encoders/onnx-text-encoder";
import { writeToyTextEncoderDir } from "../models/encoders/testing/toy-text-encoder";
import { ort, releaseOnnxSessions } from "../models/onnx-sessions";
import { featurize } from "../workers/ml/text-featurizer";
import { readTable, requireColumn } from "./lib/table";

const SHARED = path.resolve("../shared");
const TOKENIZER = path.join(SHARED, "models/all-MiniLM-L6-v2-tokenizer/tokenizer.json");
const MOBILENET = path.join(SHARED, "models/mobilenetv2-12-int8/mobilenetv2-12-int8.onnx");
const MTSAMPLES = path.join(SHARED, "data/text/mtsamples/mtsamples.csv");
const XRAYS = path.join(SHARED, "data/images/covid_chestxray/images");

const { values: args } = parseArgs({
  options: {
    texts: { type: "string", default: "256" },
    images: { type: "string", default: "48" },
    batch: { type: "string", default: "32" },
    repeats: { type: "string", default: "3" },
  },
});
const nTexts = Number(args.texts);
const nImages = Number(args.images);
const batchSize = Number(args.batch);
const repeats = Math.max(3, Number(args.repeats));

function batches<T>(items: T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += batchSize) out.push(items.slice(i, i + batchSize));
  return out;
}

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

/** Median wall time (ms) of `repeats` passes after one warm-up. */
async function time(pass: () => Promise<void>): Promise<number> {
  await pass();
  const ms: number[] = [];
  for (let r = 0; r < repeats; r++) {
    const t0 = performance.now();
    await pass();
    ms.push(performance.now() - t0);
  }
  return median(ms);
}

interface Row {
  path: string;
  cases: number;
  fullMs: number;
  baselineName: string;
  baselineMs: number;
  note: string;
}

const rows: Row[] = [];
const log = (line: string) => process.stderr.write(`${line}\n`);

// Real narratives (non-empty transcriptions, file order).
const table = readTable(MTSAMPLES);
const textCol = requireColumn(table, "transcription", "text");
const texts = table.rows.map((r) => r[textCol] ?? "").filter((t) => t.trim()).slice(0, nTexts);

// (i) ONNX text path.
{
  log(`onnx-text: ${texts.length} narratives, batch ${batchSize}`);
  const dir = writeToyTextEncoderDir(TOKENIZER, { dim: 384 });
  const encoder = await createOnnxTextEncoder({ kind: "onnx-text", path: dir });
  const textBatches = batches(texts);
  const fullMs = await time(async () => {
    for (const b of textBatches) await encoder.embed(b);
  });
  const encoded = textBatches.map((b) => encoder.tokenizer.encodeBatch(b, encoder.maxLength));
  const feeds = encoded.map((e) => encoder.feeds(e));
  const rawMs = await time(async () => {
    for (const f of feeds) {
      const out = await encoder.session.run(f);
      for (const t of Object.values(out)) (t as ort.Tensor).dispose();
    }
  });
  const tokMs = await time(async () => {
    for (const b of textBatches) encoder.tokenizer.encodeBatch(b, encoder.maxLength);
  });
  const meanLen = encoded.reduce((s, e) => s + e.lengths.reduce((a, b) => a + b, 0), 0) / texts.length;
  rows.push({
    path: "ONNX text: real MiniLM tokenizer + toy Gather graph (384-d), max 128 tokens",
    cases: texts.length,
    fullMs,
    baselineName: "session.run on pre-tokenised batches",
    baselineMs: rawMs,
    note: `tokenisation alone ${(texts.length / (tokMs / 1000)).toFixed(0)} texts/s; mean ${meanLen.toFixed(0)} tokens/text; toy graph ≠ MiniLM cost`,
  });
  fs.rmSync(dir, { recursive: true, force: true });
}

// (ii) Built-in featuriser.
{
  log(`builtin: ${texts.length} narratives`);
  const encoder = fitBuiltinTextEncoder(texts, { dim: 384 });
  const textBatches = batches(texts);
  const fullMs = await time(async () => {
    for (const b of textBatches) await encoder.embed(b);
  });
  const rawMs = await time(async () => {
    for (const b of textBatches) featurize(encoder.state, b);
  });
  const fitMs = await time(async () => {
    fitBuiltinTextEncoder(texts, { dim: 384 });
  });
  rows.push({
    path: "built-in hashed TF-IDF featuriser (384-d)",
    cases: texts.length,
    fullMs,
    baselineName: "featurize() alone (no onnxruntime here)",
    baselineMs: rawMs,
    note: `IDF fit on the ${texts.length} texts: ${fitMs.toFixed(0)} ms`,
  });
}

// (iii) MobileNetV2 on real X-rays.
{
  const files = fs.readdirSync(XRAYS).filter((f) => /\.(jpe?g|png)$/i.test(f)).sort().slice(0, nImages);
  log(`onnx-image: ${files.length} X-rays`);
  const images = files.map((f) => ({ bytes: new Uint8Array(fs.readFileSync(path.join(XRAYS, f))), label: f }));
  const encoder = await createOnnxImageEncoder(ZOnnxImageEncoderConfig.parse({ kind: "onnx-image", path: MOBILENET }));
  const imageBatches = batches(images);
  const fullMs = await time(async () => {
    for (const b of imageBatches) await encoder.embed(b);
  });
  const prepared = imageBatches.map((b) => {
    const data = new Float32Array(b.length * 3 * 224 * 224);
    b.forEach((img, i) => data.set(encoder.prepare(img), i * 3 * 224 * 224));
    return { data, n: b.length };
  });
  const rawMs = await time(async () => {
    for (const p of prepared) {
      const out = await encoder.session.run({ [encoder.inputName]: new ort.Tensor("float32", p.data, [p.n, 3, 224, 224]) });
      for (const t of Object.values(out)) (t as ort.Tensor).dispose();
    }
  });
  const prepMs = await time(async () => {
    for (const img of images) encoder.prepare(img);
  });
  const decodeMs = await time(async () => {
    for (const img of images) decodeImage(img.bytes, { label: img.label });
  });
  rows.push({
    path: "ONNX image: MobileNetV2 int8, real chest X-rays (JPEG/PNG, 298–2972 px)",
    cases: images.length,
    fullMs,
    baselineName: "session.run on preprocessed [B,3,224,224]",
    baselineMs: rawMs,
    note: `decode + preprocess alone ${(images.length / (prepMs / 1000)).toFixed(1)} images/s, of which decode (jpeg-js/pngjs) alone ${(images.length / (decodeMs / 1000)).toFixed(1)} images/s`,
  });
}

await releaseOnnxSessions();

const rate = (n: number, ms: number) => (n / (ms / 1000)).toFixed(n / (ms / 1000) >= 100 ? 0 : 1);
const cpu = os.cpus()[0]?.model.trim() ?? "unknown CPU";
console.log(`Embedding throughput — ${os.cpus().length} × ${cpu}, node ${process.version}, onnxruntime-node CPU, batch ${batchSize}, median of ${repeats} passes (after a warm-up)\n`);
console.log("| path | cases | full pipeline (cases/s) | baseline | baseline (cases/s) | outside onnxruntime / featurize | notes |");
console.log("| --- | ---: | ---: | --- | ---: | ---: | --- |");
for (const r of rows) {
  const overhead = Math.max(0, 1 - r.baselineMs / r.fullMs);
  console.log(`| ${r.path} | ${r.cases} | ${rate(r.cases, r.fullMs)} | ${r.baselineName} | ${rate(r.cases, r.baselineMs)} | ${(overhead * 100).toFixed(0)} % | ${r.note} |`);
}
