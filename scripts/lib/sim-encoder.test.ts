/**
 * `--featurizer <ONNX encoder>` of npm run simulate: which encoder a path names, and the embedding of
 * real chest X-rays (../shared/data/images/covid_chestxray) with the real MobileNetV2 int8 model
 * (../shared/models/mobilenetv2-12-int8) through the platform's own encoder (models/encoders).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ZOnnxImageEncoderConfig } from "@/contracts/encoder-config";
import { createOnnxImageEncoder } from "@/models/encoders/onnx-image-encoder";
import { embedWithOnnx, imagePaths, isOnnxFeaturizer, onnxEncoderConfig } from "./sim-encoder";

const MODEL_DIR = path.resolve("../shared/models/mobilenetv2-12-int8");
const XRAY_DIR = path.resolve("../shared/data/images/covid_chestxray");
const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "sim-encoder-"));
afterAll(() => fs.rmSync(tmp, { recursive: true, force: true }));

describe("onnxEncoderConfig", () => {
  it("reads a directory with one .onnx file (or the file) as an image encoder, one with tokenizer.json as a text encoder", () => {
    expect(onnxEncoderConfig(MODEL_DIR, null)).toMatchObject({ kind: "onnx-image", path: path.join(MODEL_DIR, "mobilenetv2-12-int8.onnx") });
    expect(onnxEncoderConfig(path.join(MODEL_DIR, "mobilenetv2-12-int8.onnx"), "output")).toMatchObject({ kind: "onnx-image", outputName: "output" });
    const textDir = path.join(tmp, "text");
    fs.mkdirSync(textDir);
    fs.writeFileSync(path.join(textDir, "tokenizer.json"), "{}");
    expect(onnxEncoderConfig(textDir, null)).toMatchObject({ kind: "onnx-text", path: textDir });
    expect(isOnnxFeaturizer("lsa")).toBe(false);
    expect(isOnnxFeaturizer(MODEL_DIR)).toBe(true);
  });

  it("names the problem: missing path, no model, several models, a non-.onnx file", () => {
    expect(() => onnxEncoderConfig(path.join(tmp, "nope"), null)).toThrow(/no such file or directory/);
    const empty = path.join(tmp, "empty");
    fs.mkdirSync(empty);
    expect(() => onnxEncoderConfig(empty, null)).toThrow(/neither tokenizer.json .* nor a .onnx file/);
    const two = path.join(tmp, "two");
    fs.mkdirSync(two);
    fs.writeFileSync(path.join(two, "a.onnx"), "");
    fs.writeFileSync(path.join(two, "b.onnx"), "");
    expect(() => onnxEncoderConfig(two, null)).toThrow(/2 .onnx files \(a.onnx, b.onnx\)/);
    expect(() => onnxEncoderConfig(path.join(XRAY_DIR, "labels.csv"), null)).toThrow(/must be a .onnx model/);
  });
});

describe("embedWithOnnx", () => {
  const files = fs.readFileSync(path.join(XRAY_DIR, "labels.csv"), "utf8").split("\n").slice(1, 4).map((line) => line.split(",")[0]!);

  it("embeds the image files of --image-col exactly as the platform's image encoder does", async () => {
    const config = onnxEncoderConfig(MODEL_DIR, null);
    const resolved = imagePaths(files, XRAY_DIR);
    const { x, description } = await embedWithOnnx(config, { imageFiles: resolved });
    expect([x.rows, x.cols]).toEqual([3, 1000]);
    expect(description).toMatch(/ONNX image encoder mobilenetv2-12-int8.onnx \(1000-d/);
    const encoder = await createOnnxImageEncoder(ZOnnxImageEncoderConfig.parse({ kind: "onnx-image", path: path.join(MODEL_DIR, "mobilenetv2-12-int8.onnx") }));
    const direct = await encoder.embed(resolved.map((f) => ({ bytes: new Uint8Array(fs.readFileSync(f)) })));
    direct.forEach((row, i) => expect(Array.from(x.data.subarray(i * 1000, (i + 1) * 1000))).toEqual(Array.from(row)));
    let norm = 0;
    for (let j = 0; j < 1000; j++) norm += x.data[j]! ** 2;
    expect(norm).toBeCloseTo(1, 5);
  }, 60_000);

  it("names a missing image file, and refuses texts for an image encoder", async () => {
    const config = onnxEncoderConfig(MODEL_DIR, null);
    await expect(embedWithOnnx(config, { imageFiles: [path.join(XRAY_DIR, "images/missing.png")] })).rejects.toThrow(/image file .*missing.png does not exist/);
    await expect(embedWithOnnx(config, { texts: ["a"] })).rejects.toThrow(/is an image encoder: give --image-col/);
    expect(() => imagePaths(["a.png", " "], XRAY_DIR)).toThrow(/case 2 has no image path/);
    expect(imagePaths(["images/a.png"], "/data")).toEqual(["/data/images/a.png"]);
  }, 60_000);
});
