/**
 * The one place that names an encoder's version: the `Embedding.encoderVersion` key under which the
 * embed job stores vectors and under which every reader (train, select, the what-if, the cold start)
 * looks them up. Each encoder calls `encoderVersion` with what actually determines its vectors; a
 * reader that needs the version of the project's *current* encoder builds that encoder and reads its
 * `version` (workers/jobs/embed.ts `resolveEncoderVersion`), never a name derived from the config alone
 * (the config does not know the model's checksum or the fitted IDF).
 *
 * Formats (unchanged since the first embed job, so stored vectors stay valid):
 * - builtin:    `builtin-hashed-text-v<featuriser version>-d<dim>-c<min>-<max>-<bi|nobi>-n<docs>-idf-<sha16 of the IDF | none>`
 * - lsa:        `lsa-text-v<state version>-d<dim>-n<texts fitted>-t<terms>-<sha16 of the serialised fitted state>`
 * - onnx-text:  `onnx-text:model-<sha16>:tok-<sha16>:max<maxLength>:out-<output>:mean-l2`
 * - onnx-image: `onnx-image:model-<sha16>:out-<output>:pre-<sha12 of the preprocessing>:l2`
 */
import crypto from "node:crypto";
import type { ImagePreprocess } from "@/contracts/encoder-config";
import type { TextFeaturizerState } from "@/workers/ml/text-featurizer";
import { serializeLsaState, type LsaState } from "@/workers/ml/text/lsa";

export type EncoderVersionParts =
  | { kind: "builtin"; state: TextFeaturizerState }
  /** The fitted LSA state: the version hashes all of it (vocabulary, IDF, projection), so vectors and the stored fit match. */
  | { kind: "lsa"; state: LsaState }
  /** `modelSha256`/`tokenizerSha256`: hex sha256 of the files; `maxLength`/`outputName` as resolved (defaults filled in). */
  | { kind: "onnx-text"; modelSha256: string; tokenizerSha256: string; maxLength: number; outputName: string }
  | { kind: "onnx-image"; modelSha256: string; outputName: string; preprocess: ImagePreprocess };

/** JSON with object keys sorted at every level, so equal preprocessing hashes equally. */
function stableJson(value: unknown): string {
  return JSON.stringify(value, (_key, v: unknown) =>
    v && typeof v === "object" && !Array.isArray(v) ? Object.fromEntries(Object.entries(v as Record<string, unknown>).sort(([a], [b]) => a.localeCompare(b))) : v,
  );
}

const sha = (data: string | Uint8Array) => crypto.createHash("sha256").update(data).digest("hex");

/** The encoderVersion of the vectors an encoder with these parts produces (formats in the module comment). */
export function encoderVersion(parts: EncoderVersionParts): string {
  switch (parts.kind) {
    case "builtin": {
      const s = parts.state;
      const idf = s.idf === null ? "none" : sha(new Uint8Array(new Float64Array(s.idf).buffer)).slice(0, 16);
      return `builtin-hashed-text-v${s.version}-d${s.dim}-c${s.minCharN}-${s.maxCharN}-${s.wordBigrams ? "bi" : "nobi"}-n${s.docCount}-idf-${idf}`;
    }
    case "lsa": {
      const s = parts.state;
      return `lsa-text-v${s.version}-d${s.dim}-n${s.tfidf.docCount}-t${s.tfidf.terms.length}-${sha(serializeLsaState(s)).slice(0, 16)}`;
    }
    case "onnx-text":
      return ["onnx-text", `model-${parts.modelSha256.slice(0, 16)}`, `tok-${parts.tokenizerSha256.slice(0, 16)}`, `max${parts.maxLength}`, `out-${parts.outputName}`, "mean-l2"].join(":");
    case "onnx-image":
      return ["onnx-image", `model-${parts.modelSha256.slice(0, 16)}`, `out-${parts.outputName}`, `pre-${sha(stableJson(parts.preprocess)).slice(0, 12)}`, "l2"].join(":");
  }
}

/** The encoder kind a stored version string names (null for a string no encoder writes). */
export function encoderKindOfVersion(version: string): EncoderVersionParts["kind"] | null {
  if (version.startsWith("builtin-hashed-text-")) return "builtin";
  if (version.startsWith("lsa-text-")) return "lsa";
  if (version.startsWith("onnx-text:")) return "onnx-text";
  if (version.startsWith("onnx-image:")) return "onnx-image";
  return null;
}

/** Whether `version` is a built-in featuriser version of width `dim` (any fitted IDF). */
export function isBuiltinVersionOfWidth(version: string, dim: number): boolean {
  return encoderKindOfVersion(version) === "builtin" && version.includes(`-d${dim}-`);
}
