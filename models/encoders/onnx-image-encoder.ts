/**
 * ONNX image encoder: decode (PNG/JPEG/DICOM) → preprocess from the encoder's config → one
 * session.run per batch → the chosen output (the first by default, or an intermediate one the
 * graph exposes, e.g. a pooled feature layer) flattened per image and L2-normalised.
 */
import type { ImagePreprocess, OnnxExecutionProvider, OnnxImageEncoderConfig } from "@/contracts/encoder-config";
import { ZImagePreprocess } from "@/contracts/encoder-config";
import { fileSha256, getOnnxSession, OnnxModelError, ort } from "../onnx-sessions";
import { decodeImage } from "./image-decode";
import { preprocessImage } from "./image-preprocess";
import { encoderVersion } from "./encoder-version";
import { l2NormalizeInPlace, type ImageEncoder } from "./types";

export interface OnnxImageEncoder extends ImageEncoder {
  readonly preprocess: ImagePreprocess;
  readonly inputName: string;
  readonly outputName: string;
  readonly session: ort.InferenceSession;
  /** Raw outputs for a stacked [n, 3, crop, crop] tensor (the benchmark's baseline; tests). */
  runRaw(data: Float32Array, n: number): Promise<{ data: Float32Array; dims: readonly number[] }>;
}

export async function createOnnxImageEncoder(config: OnnxImageEncoderConfig, provider: OnnxExecutionProvider = "cpu"): Promise<OnnxImageEncoder> {
  const preprocess = ZImagePreprocess.parse(config.preprocess);
  const session = await getOnnxSession(config.path, provider);
  if (session.inputNames.length !== 1) {
    throw new OnnxModelError(`Image encoder ${config.path} must have exactly one input (has: ${session.inputNames.join(", ")}).`);
  }
  const inputName = session.inputNames[0]!;
  const outputName = config.outputName ?? session.outputNames[0]!;
  if (!session.outputNames.includes(outputName)) {
    throw new OnnxModelError(`Image encoder ${config.path} has no output "${outputName}" (outputs: ${session.outputNames.join(", ")}).`);
  }
  const crop = preprocess.cropSize;
  const perImage = 3 * crop * crop;

  const runRaw = async (data: Float32Array, n: number) => {
    let result: ort.InferenceSession.OnnxValueMapType;
    try {
      result = await session.run({ [inputName]: new ort.Tensor("float32", data, [n, 3, crop, crop]) }, [outputName]);
    } catch (error) {
      throw new OnnxModelError(`Image encoder ${config.path} failed on a [${n}, 3, ${crop}, ${crop}] input (does cropSize match the model?): ${error instanceof Error ? error.message.split("\n")[0] : String(error)}`, { cause: error });
    }
    const out = result[outputName]!;
    if (out.type !== "float32") throw new OnnxModelError(`Image encoder output ${outputName} is ${out.type}, expected float32.`);
    const copy = { data: (out.data as Float32Array).slice(), dims: out.dims };
    out.dispose();
    return copy;
  };

  const embedPrepared = async (batch: readonly Float32Array[]): Promise<Float32Array[]> => {
    if (batch.length === 0) return [];
    const data = new Float32Array(batch.length * perImage);
    batch.forEach((img, i) => {
      if (img.length !== perImage) throw new RangeError(`prepared image ${i} has ${img.length} values, expected ${perImage}`);
      data.set(img, i * perImage);
    });
    const out = await runRaw(data, batch.length);
    if (out.dims[0] !== batch.length) throw new OnnxModelError(`Image encoder output ${outputName} has batch ${out.dims[0]}, expected ${batch.length}.`);
    const width = out.data.length / batch.length;
    return batch.map((_, i) => l2NormalizeInPlace(out.data.slice(i * width, (i + 1) * width)));
  };

  const prepare = (image: { bytes: Uint8Array; label?: string }): Float32Array =>
    preprocessImage(decodeImage(image.bytes, { label: image.label, dicomWindow: preprocess.dicomWindow }), preprocess);

  // A probe on a zero input finds the width and proves the graph runs with this crop size.
  const probe = await embedPrepared([new Float32Array(perImage)]);
  const version = encoderVersion({ kind: "onnx-image", modelSha256: fileSha256(config.path), outputName, preprocess });

  return {
    kind: "image",
    version,
    dim: probe[0]!.length,
    preprocess,
    inputName,
    outputName,
    session,
    runRaw,
    prepare,
    embedPrepared,
    async embed(batch) {
      return embedPrepared(batch.map(prepare));
    },
  };
}
