/**
 * The registry of trained heads: which ONNX file belongs to a model version, whether its bytes are
 * the ones registered (sha256), and the onnxruntime session that runs it. Sessions for trained
 * heads are created and cached only here (encoder files: models/onnx-sessions.ts), keyed by the
 * artefact's checksum — a version's bytes never change, so a cached session never goes stale.
 *
 * Inference helpers mirror workers/ml/mlp-head.ts: `headPredictProba` = predictProba and
 * `headMcDropoutLogProbs` = mcDropoutLogProbs, including the order in which dropout masks are drawn
 * from the seeded Rng, so both paths give the same numbers (models/onnx/head-onnx.test.ts).
 */
import crypto from "node:crypto";
import type { OnnxExecutionProvider } from "@/contracts/encoder-config";
import type { Rng } from "@/workers/ml/rng";
import type { Matrix, McLogProbs } from "@/workers/ml/types";
import { dropoutMaskInput, HEAD_INPUT, HEAD_LOG_PROBABILITIES, HEAD_PROBABILITIES } from "./onnx/head-export";
import { ort, OnnxModelError } from "./onnx-sessions";

/** What a caller needs to know about a head to feed it (from the model card / ModelVersion.params). */
export interface HeadShape {
  inputDim: number;
  hidden: number[];
  numClasses: number;
  dropout: number;
}

export interface LoadedHead {
  session: ort.InferenceSession;
  shape: HeadShape;
  checksum: string;
  provider: OnnxExecutionProvider;
}

/** Rows per onnxruntime call: the same chunking as workers/ml, which the mask-draw order depends on. */
export const HEAD_CHUNK = 256;

const sessions = new Map<string, Promise<ort.InferenceSession>>();

export function sha256Hex(bytes: Uint8Array): string {
  return crypto.createHash("sha256").update(bytes).digest("hex");
}

async function createSession(bytes: Uint8Array, provider: OnnxExecutionProvider, label: string): Promise<ort.InferenceSession> {
  try {
    return await ort.InferenceSession.create(bytes, { executionProviders: [provider], graphOptimizationLevel: "all" });
  } catch (error) {
    const reason = error instanceof Error ? error.message.split("\n")[0] : String(error);
    throw new OnnxModelError(
      provider === "cuda"
        ? `ONNX_EXECUTION_PROVIDER=cuda, but head ${label} could not be loaded on CUDA (reinstall onnxruntime-node with ONNXRUNTIME_NODE_INSTALL=cuda12, or set ONNX_EXECUTION_PROVIDER=cpu): ${reason}`
        : `Head ${label} could not be loaded by onnxruntime: ${reason}`,
      { cause: error },
    );
  }
}

/**
 * The session of a head whose registered checksum is `checksum`; `load` fetches the bytes (from the
 * blob store) only on a cache miss, and they must hash to `checksum` — a file changed or truncated
 * after registration is refused rather than silently driving selection.
 */
export async function loadHead(
  ref: { artifactKey: string; checksum: string; shape: HeadShape },
  load: (key: string) => Promise<Uint8Array>,
  provider: OnnxExecutionProvider = "cpu",
): Promise<LoadedHead> {
  const cacheKey = `${ref.checksum}|${provider}`;
  let session = sessions.get(cacheKey);
  if (!session) {
    session = (async () => {
      const bytes = await load(ref.artifactKey);
      const actual = sha256Hex(bytes);
      if (actual !== ref.checksum) throw new OnnxModelError(`Head ${ref.artifactKey}: checksum ${actual.slice(0, 12)}… does not match the registered ${ref.checksum.slice(0, 12)}…`);
      return createSession(bytes, provider, ref.artifactKey);
    })();
    session.catch(() => sessions.delete(cacheKey));
    sessions.set(cacheKey, session);
  }
  return { session: await session, shape: ref.shape, checksum: ref.checksum, provider };
}

/** A session straight from bytes, uncached (tests, and the train job's check of its own export). */
export async function sessionFromBytes(bytes: Uint8Array, shape: HeadShape, provider: OnnxExecutionProvider = "cpu"): Promise<LoadedHead> {
  return { session: await createSession(bytes, provider, "(in memory)"), shape, checksum: sha256Hex(bytes), provider };
}

function assertInput(head: LoadedHead, x: Matrix): void {
  if (x.cols !== head.shape.inputDim) throw new OnnxModelError(`The head expects ${head.shape.inputDim}-d embeddings, got ${x.cols}-d (embeddings of another encoder?)`);
}

/** Class probabilities [N, C] with dropout off (masks of ones broadcast over the batch). */
export async function headPredictProba(head: LoadedHead, x: Matrix): Promise<Float32Array> {
  assertInput(head, x);
  const c = head.shape.numClasses;
  const out = new Float32Array(x.rows * c);
  const ones = head.shape.hidden.map((h) => new ort.Tensor("float32", new Float32Array(h).fill(1), [1, h]));
  for (let s = 0; s < x.rows; s += HEAD_CHUNK) {
    const bs = Math.min(HEAD_CHUNK, x.rows - s);
    const feeds: Record<string, ort.Tensor> = { [HEAD_INPUT]: new ort.Tensor("float32", x.data.subarray(s * x.cols, (s + bs) * x.cols), [bs, x.cols]) };
    ones.forEach((t, l) => (feeds[dropoutMaskInput(l)] = t));
    const result = await head.session.run(feeds, [HEAD_PROBABILITIES]);
    out.set(result[HEAD_PROBABILITIES]!.data as Float32Array, s * c);
  }
  return out;
}

/**
 * MC-dropout log-probabilities [N, K, C] through onnxruntime. Per chunk of HEAD_CHUNK rows the chunk
 * is tiled K times (pass-major) and each hidden layer gets a [K·bs, H] mask; masks are drawn pass by
 * pass, layer by layer, row-major — the order of workers/ml mcDropoutLogProbs, so the same Rng seed
 * gives the same result on both paths.
 */
export async function headMcDropoutLogProbs(head: LoadedHead, x: Matrix, k: number, rng: Rng): Promise<McLogProbs> {
  if (!Number.isInteger(k) || k < 2) throw new OnnxModelError(`MC dropout needs K >= 2 passes, got ${k}`);
  assertInput(head, x);
  const { hidden, dropout: p, numClasses: c } = head.shape;
  const d = x.cols;
  const n = x.rows;
  const out = new Float32Array(n * k * c);
  const keep = 1 / (1 - p);
  const tiled = new Float32Array(HEAD_CHUNK * k * d);
  const masks = hidden.map((h) => new Float32Array(HEAD_CHUNK * k * h));
  for (let s = 0; s < n; s += HEAD_CHUNK) {
    const bs = Math.min(HEAD_CHUNK, n - s);
    const chunk = x.data.subarray(s * d, (s + bs) * d);
    for (let kk = 0; kk < k; kk++) {
      tiled.set(chunk, kk * bs * d);
      hidden.forEach((h, l) => {
        const mask = masks[l]!;
        const base = kk * bs * h;
        for (let i = 0; i < bs * h; i++) mask[base + i] = p === 0 ? 1 : rng.next() < p ? 0 : keep;
      });
    }
    const rows = bs * k;
    const feeds: Record<string, ort.Tensor> = { [HEAD_INPUT]: new ort.Tensor("float32", tiled.subarray(0, rows * d), [rows, d]) };
    hidden.forEach((h, l) => (feeds[dropoutMaskInput(l)] = new ort.Tensor("float32", masks[l]!.subarray(0, rows * h), [rows, h])));
    const result = await head.session.run(feeds, [HEAD_LOG_PROBABILITIES]);
    const logp = result[HEAD_LOG_PROBABILITIES]!.data as Float32Array;
    for (let kk = 0; kk < k; kk++) {
      for (let r = 0; r < bs; r++) {
        const src = (kk * bs + r) * c;
        const dst = ((s + r) * k + kk) * c;
        for (let j = 0; j < c; j++) out[dst + j] = logp[src + j]!;
      }
    }
  }
  return { data: out, n, k, c };
}

/** Releases the cached head sessions (tests and benchmarks). */
export async function releaseHeadSessions(): Promise<void> {
  const all = [...sessions.values()];
  sessions.clear();
  await Promise.all(all.map((s) => s.then((session) => session.release(), () => undefined)));
}
