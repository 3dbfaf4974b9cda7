/**
 * The image path with the REAL MobileNetV2 int8 model (../shared/models/mobilenetv2-12-int8/) and
 * real chest X-rays (../shared/data/images/covid_chestxray/) and DICOM (../shared/data/dicom/).
 */
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZOnnxImageEncoderConfig } from "@/contracts/encoder-config";
import { releaseOnnxSessions } from "../onnx-sessions";
import { createOnnxImageEncoder, type OnnxImageEncoder } from "./onnx-image-encoder";

const MODEL_DIR = path.resolve("../shared/models/mobilenetv2-12-int8");
const MODEL = path.join(MODEL_DIR, "mobilenetv2-12-int8.onnx");
const XRAYS = path.resolve("../shared/data/images/covid_chestxray/images");
const reference = JSON.parse(fs.readFileSync(path.join(MODEL_DIR, "reference_output_zeros.json"), "utf8")) as {
  top5: { index: number; logit: number }[];
  first5_logits: number[];
  sum: number;
};
let encoder: OnnxImageEncoder;

beforeAll(async () => {
  encoder = await createOnnxImageEncoder(ZOnnxImageEncoderConfig.parse({ kind: "onnx-image", path: MODEL }));
});
afterAll(() => releaseOnnxSessions());

const norm = (v: Float32Array) => Math.sqrt(v.reduce((s, x) => s + x * x, 0));

describe("ONNX image encoder (real MobileNetV2 int8)", () => {
  it("discovers input, output and width; the version names model checksum, output and preprocessing", () => {
    expect(encoder.inputName).toBe("input");
    expect(encoder.outputName).toBe("output");
    expect(encoder.dim).toBe(1000);
    expect(encoder.version).toMatch(/^onnx-image:model-cc028fe6cae7bc11:out-output:pre-[0-9a-f]{12}:l2$/);
  });

  it("an all-zeros input reproduces reference_output_zeros.json (top-1 619, logit ≈ 5.60506)", async () => {
    const out = await encoder.runRaw(new Float32Array(3 * 224 * 224), 1);
    expect(out.dims).toEqual([1, 1000]);
    const order = Array.from(out.data.keys()).sort((a, b) => out.data[b]! - out.data[a]! || a - b);
    expect(order[0]).toBe(619);
    expect(out.data[619]).toBeCloseTo(5.60506, 4);
    reference.top5.forEach((t) => expect(out.data[t.index]).toBeCloseTo(t.logit, 4));
    reference.first5_logits.forEach((v, i) => expect(out.data[i]).toBeCloseTo(v, 4));
    expect(out.data.reduce((s, x) => s + x, 0)).toBeCloseTo(reference.sum, 2);
    // The embedding of the same input is that logit vector, L2-normalised.
    const [v] = await encoder.embedPrepared([new Float32Array(3 * 224 * 224)]);
    const n = norm(out.data);
    expect(v![619]).toBeCloseTo(out.data[619]! / n, 6);
    expect(norm(v!)).toBeCloseTo(1, 5);
  });

  it("embeds real chest X-rays (grey JPEG, RGB JPEG, RGB PNG): unit vectors, batch = one at a time", async () => {
    const files = ["6b3bdbc31f65230b8cdcc3cef5f8ba8a-40ac-0.jpg", "covid-19-pneumonia-8.jpg", "1-s2.0-S0085253820303616-gr1_lrg-b.png"];
    const images = files.map((file) => ({ bytes: new Uint8Array(fs.readFileSync(path.join(XRAYS, file))), label: file }));
    const batch = await encoder.embed(images);
    expect(batch).toHaveLength(3);
    for (const v of batch) {
      expect(v).toHaveLength(1000);
      expect(v.every(Number.isFinite)).toBe(true);
      expect(norm(v)).toBeCloseTo(1, 5);
    }
    const [single] = await encoder.embed([images[1]!]);
    single!.forEach((x, i) => expect(batch[1]![i]).toBeCloseTo(x, 5));
    // Different X-rays give different vectors.
    expect(batch[0]).not.toEqual(batch[1]);
  });

  it("embeds uncompressed and JPEG 2000 DICOM, and names the image when one cannot be decoded", async () => {
    const ct = { bytes: new Uint8Array(fs.readFileSync(path.resolve("../shared/data/dicom/CT_small.dcm"))), label: "ct-1" };
    const j2k = { bytes: new Uint8Array(fs.readFileSync(path.resolve("../shared/data/dicom/MR2_J2KR.dcm"))), label: "mr-j2k" };
    const vectors = await encoder.embed([ct, j2k]);
    for (const v of vectors) expect(norm(v!)).toBeCloseTo(1, 5);
    const truncated = { bytes: new Uint8Array(fs.readFileSync(path.resolve("../shared/data/dicom/MR_truncated.dcm"))), label: "img-42" };
    await expect(encoder.embed([ct, truncated])).rejects.toThrow(/image img-42: DICOM: the file ends in the middle of a data element/);
  });

  it("refuses an unknown output, a missing model and a crop size the model cannot take", async () => {
    await expect(createOnnxImageEncoder(ZOnnxImageEncoderConfig.parse({ kind: "onnx-image", path: MODEL, outputName: "features" }))).rejects.toThrow(/has no output "features" \(outputs: output\)/);
    await expect(createOnnxImageEncoder(ZOnnxImageEncoderConfig.parse({ kind: "onnx-image", path: "../shared/models/missing.onnx" }))).rejects.toThrow(/ONNX model \.\.\/shared\/models\/missing\.onnx does not exist/);
    const wrongCrop = ZOnnxImageEncoderConfig.parse({ kind: "onnx-image", path: MODEL, preprocess: { resizeShortSide: 160, cropSize: 128 } });
    await expect(createOnnxImageEncoder(wrongCrop)).rejects.toThrow(/failed on a \[1, 3, 128, 128\] input \(does cropSize match the model\?\)/);
  });
});
