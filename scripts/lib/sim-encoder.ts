/**
 * `npm run simulate -- --featurizer <ONNX encoder>`: the platform's own ONNX encoders
 * (models/encoders: createEncoder, the same decode → preprocess → session path as the embed job)
 * run over the simulation's cases, so the comparison runs on image sets and on ONNX text encoders
 * without a separate embedding step.
 *
 * Which encoder a path names (`onnxEncoderConfig`):
 * - a directory with `tokenizer.json` → text encoder (onnx-text: WordPiece tokenizer + model.onnx or
 *   onnx/model.onnx, mean-pooled), fed the --text-col texts;
 * - a `.onnx` file, or a directory with exactly one `.onnx` file and no tokenizer → image encoder
 *   (onnx-image: ImageNet-style preprocessing by default), fed the image files named in --image-col
 *   (paths relative to the data file's folder, or absolute).
 */
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { basename, isAbsolute, join, resolve } from "node:path";
import { ZOnnxImageEncoderConfig, ZOnnxTextEncoderConfig, type OnnxImageEncoderConfig, type OnnxTextEncoderConfig } from "../../contracts/encoder-config";
import { createEncoder } from "../../models/encoders/create-encoder";
import type { Matrix } from "../../workers/ml/types";

export type OnnxEncoderChoice = OnnxTextEncoderConfig | OnnxImageEncoderConfig;

/** Whether a --featurizer value names an ONNX encoder (anything but the built-in names). */
export function isOnnxFeaturizer(featurizer: string): boolean {
  return featurizer !== "lsa" && featurizer !== "builtin";
}

/**
 * The encoder configuration a --featurizer path names (file comment).
 * @param outputName the model output to use (--encoder-output), default the encoder's own choice.
 * @throws Error naming the path when it does not exist, holds no .onnx file, or several and no tokenizer.
 */
export function onnxEncoderConfig(path: string, outputName: string | null): OnnxEncoderChoice {
  if (!existsSync(path)) throw new Error(`--featurizer ${path}: no such file or directory (expected lsa, builtin, an ONNX encoder directory or a .onnx file)`);
  const output = outputName === null ? {} : { outputName };
  if (statSync(path).isFile()) {
    if (!/\.onnx$/i.test(path)) throw new Error(`--featurizer ${path}: a file must be a .onnx model (an image encoder); a text encoder is a directory with tokenizer.json`);
    return ZOnnxImageEncoderConfig.parse({ kind: "onnx-image", path, ...output });
  }
  if (existsSync(join(path, "tokenizer.json"))) return ZOnnxTextEncoderConfig.parse({ kind: "onnx-text", path, ...output });
  const models = readdirSync(path).filter((f) => /\.onnx$/i.test(f)).sort();
  if (models.length === 0) throw new Error(`--featurizer ${path}: the directory has neither tokenizer.json (text encoder) nor a .onnx file (image encoder)`);
  if (models.length > 1) throw new Error(`--featurizer ${path}: the directory holds ${models.length} .onnx files (${models.join(", ")}); name one of them`);
  return ZOnnxImageEncoderConfig.parse({ kind: "onnx-image", path: join(path, models[0]!), ...output });
}

/** The image file of each case: `cells` are the --image-col values, relative to `baseDir` unless absolute. */
export function imagePaths(cells: readonly string[], baseDir: string): string[] {
  return cells.map((c, i) => {
    const p = c.trim();
    if (p === "") throw new Error(`--image-col: case ${i + 1} has no image path`);
    return isAbsolute(p) ? p : resolve(baseDir, p);
  });
}

/**
 * Embeds every case with the encoder: texts for a text encoder, image files for an image encoder,
 * in batches of 16, one unit-length row per case.
 * @throws Error naming the image file that is missing or cannot be decoded, or the model problem.
 */
export async function embedWithOnnx(
  config: OnnxEncoderChoice,
  cases: { texts: readonly string[] } | { imageFiles: readonly string[] },
  log: (line: string) => void = () => undefined,
): Promise<{ x: Matrix; description: string }> {
  const encoder = await createEncoder(config);
  const n = "texts" in cases ? cases.texts.length : cases.imageFiles.length;
  const data = new Float32Array(n * encoder.dim);
  const batch = 16;
  for (let from = 0; from < n; from += batch) {
    const to = Math.min(n, from + batch);
    let rows: Float32Array[];
    if (encoder.kind === "text") {
      if (!("texts" in cases)) throw new Error(`--featurizer ${config.path} is a text encoder: give --text-col, not --image-col`);
      rows = await encoder.embed(cases.texts.slice(from, to));
    } else {
      if (!("imageFiles" in cases)) throw new Error(`--featurizer ${config.path} is an image encoder: give --image-col (the column with each case's image file)`);
      const images = cases.imageFiles.slice(from, to).map((file) => {
        if (!existsSync(file)) throw new Error(`--image-col: image file ${file} does not exist`);
        return { bytes: new Uint8Array(readFileSync(file)), label: basename(file) };
      });
      rows = await encoder.embed(images);
    }
    rows.forEach((row, j) => data.set(row, (from + j) * encoder.dim));
    if (to === n || (to / batch) % 5 === 0) log(`  embedded ${to}/${n} cases`);
  }
  const what = config.kind === "onnx-text" ? "ONNX text encoder" : "ONNX image encoder";
  const output = config.outputName ? `, output ${config.outputName}` : "";
  return { x: { data, rows: n, cols: encoder.dim }, description: `${what} ${basename(config.path)} (${encoder.dim}-d${output}, L2-normalised; version ${encoder.version.slice(0, 24)})` };
}
