/**
 * The one place onnxruntime sessions are created and cached (docs/ARCHITECTURE.md, models/).
 * A session is keyed by the model file's absolute path, size and mtime and the execution provider,
 * so a replaced file gets a new session and two encoders on one file share one.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import * as ort from "onnxruntime-node";
import type { OnnxExecutionProvider } from "@/contracts/encoder-config";

export { ort };

export class OnnxModelError extends Error {
  constructor(message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "OnnxModelError";
  }
}

const sessions = new Map<string, Promise<ort.InferenceSession>>();

function statModel(modelPath: string, what = "ONNX model"): { abs: string; stat: fs.Stats } {
  const abs = path.resolve(modelPath);
  let stat: fs.Stats;
  try {
    stat = fs.statSync(abs);
  } catch {
    throw new OnnxModelError(`${what} ${modelPath} does not exist (resolved to ${abs}).`);
  }
  if (!stat.isFile()) throw new OnnxModelError(`${what} ${modelPath} is not a file.`);
  return { abs, stat };
}

async function createSession(abs: string, provider: OnnxExecutionProvider): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(abs, { executionProviders: [provider], graphOptimizationLevel: "all" });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    if (provider === "cuda") {
      const cuda = ort.listSupportedBackends().find((b) => b.name === "cuda");
      throw new OnnxModelError(
        `ONNX_EXECUTION_PROVIDER=cuda, but the CUDA execution provider could not be loaded${cuda && !cuda.bundled ? " (this onnxruntime-node install has CPU binaries only)" : ""}: ` +
          `on a machine with CUDA 12 run \`ONNXRUNTIME_NODE_INSTALL=cuda12 npm rebuild onnxruntime-node\`, or set ONNX_EXECUTION_PROVIDER=cpu. Cause: ${reason}`,
        { cause: error },
      );
    }
    throw new OnnxModelError(`ONNX model ${abs} could not be loaded: ${reason}`, { cause: error });
  }
}

/** A cached inference session for `modelPath` on `provider` (default cpu). */
export async function getOnnxSession(modelPath: string, provider: OnnxExecutionProvider = "cpu"): Promise<ort.InferenceSession> {
  const { abs, stat } = statModel(modelPath);
  const key = `${abs}|${stat.size}|${stat.mtimeMs}|${provider}`;
  let session = sessions.get(key);
  if (!session) {
    session = createSession(abs, provider);
    // A failed load is not cached: the next call (after the file or provider is fixed) tries again.
    session.catch(() => sessions.delete(key));
    sessions.set(key, session);
  }
  return session;
}

const checksums = new Map<string, string>();

/** sha256 (hex) of a model or tokenizer file, cached per path+size+mtime: it enters encoder versions. */
export function fileSha256(file: string): string {
  const { abs, stat } = statModel(file, "File");
  const key = `${abs}|${stat.size}|${stat.mtimeMs}`;
  let hash = checksums.get(key);
  if (!hash) {
    hash = crypto.createHash("sha256").update(fs.readFileSync(abs)).digest("hex");
    checksums.set(key, hash);
  }
  return hash;
}

/** Releases every cached session (tests and benchmarks; the worker keeps them for its lifetime). */
export async function releaseOnnxSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  await Promise.all(all.map((s) => s.then((session) => session.release(), () => undefined)));
}

/** One graph input or output as onnxruntime reports it (symbolic dimensions as their names, e.g. "batch_size"). */
export interface OnnxValueInfo {
  name: string;
  /** Tensor element type ("float32", "int64", …) or null for a non-tensor value. */
  type: string | null;
  /** Dimensions; null for a non-tensor value or an unknown rank. */
  shape: (number | string)[] | null;
}

export interface OnnxModelDescription {
  inputs: OnnxValueInfo[];
  outputs: OnnxValueInfo[];
}

function valueInfo(meta: ort.InferenceSession.ValueMetadata): OnnxValueInfo {
  if (!meta.isTensor) return { name: meta.name, type: null, shape: null };
  return { name: meta.name, type: meta.type, shape: meta.shape.length ? [...meta.shape] : null };
}

/**
 * Opens `modelPath` on the CPU only to read its inputs and outputs (names, element types, shapes),
 * then releases the session (not cached: listing a models folder must not keep every file loaded).
 * @throws OnnxModelError when the file is missing, not a file, or not a model onnxruntime can load.
 */
export async function describeOnnxModel(modelPath: string): Promise<OnnxModelDescription> {
  const { abs } = statModel(modelPath);
  const session = await createSession(abs, "cpu");
  try {
    return { inputs: session.inputMetadata.map(valueInfo), outputs: session.outputMetadata.map(valueInfo) };
  } finally {
    await session.release();
  }
}
