/**
 * Encoder settings against real files: the MobileNetV2 int8 model and the MiniLM tokenizer in
 * ../shared/models (the MODELS_DIR of these tests), three chest X-rays from
 * ../shared/data/images/covid_chestxray/images, and a temporary models folder holding a toy ONNX
 * text encoder (models/encoders/testing), a file that is not ONNX, and a symlink leading outside.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { EncoderConfig } from "@/contracts/encoder-config";
import { buildToyTextEncoder } from "@/models/encoders/testing/toy-text-encoder";
import { releaseOnnxSessions } from "@/models/onnx-sessions";
import { embedJob } from "@/workers/jobs/embed";
import { executeJobRun } from "@/workers/jobs/job-runtime";
import { testWorkerContext } from "@/workers/testing/loop-fixtures";
import { createLocalBlobStore, type BlobStore } from "../storage/blob-store";
import { createTestUser, testDb, refusal } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { createServiceContext } from "./context";
import { getEncoderSettings, listEncoderModels, resolveEncoderConfig, tryEncoder, updateEncoder } from "./encoder-service";
import { stopJobClient } from "./enqueue-job";

const SHARED_MODELS = "../shared/models";
const MOBILENET = "mobilenetv2-12-int8/mobilenetv2-12-int8.onnx";
const TOKENIZER_DIR = "all-MiniLM-L6-v2-tokenizer";
const XRAYS = "../shared/data/images/covid_chestxray/images";

const db = testDb();
let tempModels: string;
let storageDir: string;
let store: BlobStore;

const image = (p: string, extra: Partial<Extract<EncoderConfig, { kind: "onnx-image" }>> = {}): EncoderConfig => ({
  kind: "onnx-image",
  path: p,
  preprocess: { resizeShortSide: 256, cropSize: 224, mean: [0.485, 0.456, 0.406], std: [0.229, 0.224, 0.225] },
  ...extra,
});

beforeAll(() => {
  tempModels = fs.mkdtempSync(path.join(os.tmpdir(), "rads-models-"));
  fs.mkdirSync(path.join(tempModels, "toy-text"));
  fs.copyFileSync(path.join(SHARED_MODELS, TOKENIZER_DIR, "tokenizer.json"), path.join(tempModels, "toy-text", "tokenizer.json"));
  fs.writeFileSync(path.join(tempModels, "toy-text", "model.onnx"), buildToyTextEncoder({ vocabSize: 30_522, dim: 16 }));
  fs.writeFileSync(path.join(tempModels, "garbage.onnx"), "this is not a protobuf model");
  fs.symlinkSync(path.resolve(SHARED_MODELS, MOBILENET), path.join(tempModels, "outside.onnx"));
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-encoder-store-"));
  store = createLocalBlobStore(storageDir);
});

afterAll(async () => {
  await stopJobClient();
  await releaseOnnxSessions();
  fs.rmSync(tempModels, { recursive: true, force: true });
  fs.rmSync(storageDir, { recursive: true, force: true });
  await db.$disconnect();
});

/** A project of three image cases (real chest X-rays in the blob store). */
async function imageProject(memberIds: string[]) {
  const { projectId, caseIds } = await createTestProject({ memberIds, cases: 3 });
  const files = fs.readdirSync(XRAYS).filter((f) => f.endsWith(".jpg")).sort().slice(0, 3);
  for (const [i, file] of files.entries()) {
    const bytes = fs.readFileSync(path.join(XRAYS, file));
    const key = `images/test/${path.basename(storageDir)}-${i}.jpg`;
    await store.put(key, bytes);
    await db.caseImage.create({ data: { caseId: caseIds[i]!, storageKey: key, mimeType: "image/jpeg", sha256: `sha-${i}-${projectId}` } });
  }
  return { projectId, caseIds };
}

describe("encoder models folder (MODELS_DIR)", () => {
  it("lists each .onnx file with its inputs and outputs as onnxruntime reports them", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 1 });
    const listing = await listEncoderModels(createServiceContext(db, scientist), { projectId }, { modelsDir: SHARED_MODELS });
    expect(listing.configured).toBe(true);
    const mobilenet = listing.files.find((f) => f.path === MOBILENET);
    expect(mobilenet).toEqual({
      path: MOBILENET,
      sizeBytes: 3_655_033,
      inputs: [{ name: "input", type: "float32", shape: ["batch_size", 3, 224, 224] }],
      outputs: [{ name: "output", type: "float32", shape: ["batch_size", 1000] }],
      looksLike: "onnx-image",
      error: null,
    });
    // The MiniLM folder has a tokenizer but no weights.
    expect(listing.textEncoderDirs).toContainEqual({ path: TOKENIZER_DIR, modelFile: null });

    const temp = await listEncoderModels(createServiceContext(db, scientist), { projectId }, { modelsDir: tempModels });
    expect(temp.files.map((f) => f.path)).toEqual(["garbage.onnx", "toy-text/model.onnx"]);
    expect(temp.files[0]).toMatchObject({ error: "onnxruntime cannot load this file as an ONNX model", inputs: [] });
    expect(temp.files[1]).toMatchObject({ looksLike: "onnx-text", outputs: [{ name: "last_hidden_state", type: "float32", shape: ["batch", "sequence", 16] }] });
    expect(temp.textEncoderDirs).toEqual([{ path: "toy-text", modelFile: "model.onnx" }]);

    const none = await listEncoderModels(createServiceContext(db, scientist), { projectId }, { modelsDir: null });
    expect(none).toMatchObject({ configured: false, files: [] });
  });

  it("refuses what is not an ONNX encoder inside MODELS_DIR, naming the field", async () => {
    const deps = { modelsDir: SHARED_MODELS };
    const field = async (config: EncoderConfig, d: { modelsDir: string | null } = deps) => {
      const r = await refusal(resolveEncoderConfig(config, d));
      expect(r.kind).toBe("BAD_INPUT");
      return { field: r.field, message: r.message };
    };
    expect(await field(image("mobilenetv2-12-int8/missing.onnx"))).toEqual({ field: "path", message: '"mobilenetv2-12-int8/missing.onnx" does not exist in the models folder.' });
    expect((await field(image("mobilenetv2-12-int8/synset.txt"))).message).toContain("is not an ONNX model");
    expect(await field(image("garbage.onnx"), { modelsDir: tempModels })).toEqual({ field: "path", message: '"garbage.onnx" is not an ONNX model onnxruntime can load.' });
    expect((await field(image("../../etc/passwd"))).message).toContain("outside the models folder");
    expect((await field(image("/etc/passwd"))).message).toContain("relative to the models folder");
    expect((await field(image("outside.onnx"), { modelsDir: tempModels })).message).toContain("leads outside the models folder");
    expect((await field({ kind: "onnx-text", path: "../" })).message).toContain("outside the models folder");
    expect(await field({ kind: "onnx-text", path: TOKENIZER_DIR })).toMatchObject({ field: "path" });
    expect((await field({ kind: "onnx-text", path: "toy-text", modelFile: "nope.onnx" }, { modelsDir: tempModels })).field).toBe("modelFile");
    expect((await field({ kind: "onnx-text", path: "mobilenetv2-12-int8" })).message).toContain("no tokenizer.json");
    expect(await field(image(MOBILENET, { preprocess: { resizeShortSide: 256, cropSize: 200, mean: [0.5, 0.5, 0.5], std: [0.2, 0.2, 0.2] } }))).toEqual({
      field: "preprocess.cropSize",
      message: "The model takes 224×224 images: set the crop size to 224.",
    });
    expect((await field(image(MOBILENET, { outputName: "features" }))).field).toBe("outputName");
    expect((await field(image(MOBILENET), { modelsDir: null })).field).toBe("kind");
    // What passes is stored joined with MODELS_DIR, the path the worker opens.
    expect((await resolveEncoderConfig(image(MOBILENET), deps)).config).toMatchObject({ path: path.join(SHARED_MODELS, MOBILENET) });
  });
});

describe("trying and changing the encoder", () => {
  it("tries MobileNetV2 on three image cases, saves it (audited) and re-embeds the project as a job", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId, caseIds } = await imageProject([scientist.id]);
    const ctx = createServiceContext(db, scientist);
    const deps = { modelsDir: SHARED_MODELS, store };

    const tried = await tryEncoder(ctx, { projectId, encoderConfig: image(MOBILENET) }, deps);
    expect(tried).toMatchObject({ kind: "image", dim: 1000 });
    expect(tried.cases.map((c) => c.ok)).toEqual([true, true, true]);
    expect(tried.embedMs).toBeGreaterThan(0);
    expect(await db.embedding.count({ where: { caseId: { in: caseIds } } })).toBe(0); // trying writes nothing

    const saved = await updateEncoder(ctx, { projectId, encoderConfig: image(MOBILENET) }, deps);
    expect(saved.changed).toBe(true);
    const run = await db.jobRun.findUniqueOrThrow({ where: { id: saved.jobRunId! } });
    expect(run).toMatchObject({ kind: "embed", projectId, status: "QUEUED", requestedById: scientist.id });
    const audit = await db.auditEvent.findFirstOrThrow({ where: { projectId, action: "project.encoder.update" } });
    expect(audit.details).toMatchObject({ changed: true, before: { kind: "builtin", dim: 64 }, after: { kind: "onnx-image", path: path.join(SHARED_MODELS, MOBILENET) }, jobRunId: saved.jobRunId });
    expect((await getEncoderSettings(ctx, { projectId }, deps)).encoderConfig).toMatchObject({ kind: "onnx-image", path: MOBILENET });

    // The worker's embed job opens the stored path and embeds every case with the new encoder.
    const worker = testWorkerContext(db, storageDir, null);
    expect((await executeJobRun(embedJob.spec, worker, run.id, true)).status).toBe("succeeded");
    const done = await db.jobRun.findUniqueOrThrow({ where: { id: run.id } });
    expect(done).toMatchObject({ status: "SUCCEEDED", percent: 100 });
    const vectors = await db.embedding.findMany({ where: { caseId: { in: caseIds } }, select: { dim: true, encoderVersion: true } });
    expect(vectors).toHaveLength(3);
    expect(vectors.every((v) => v.dim === 1000 && v.encoderVersion === (done.result as { encoderVersion: string }).encoderVersion)).toBe(true);

    // Saving the same encoder again queues nothing (still audited).
    expect(await updateEncoder(ctx, { projectId, encoderConfig: image(MOBILENET) }, deps)).toMatchObject({ changed: false, jobRunId: null });
  });

  it("tries a text encoder (toy ONNX + the real MiniLM tokenizer) and the built-in featuriser", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 5 });
    const ctx = createServiceContext(db, scientist);
    const text = await tryEncoder(ctx, { projectId, encoderConfig: { kind: "onnx-text", path: "toy-text" } }, { modelsDir: tempModels });
    expect(text).toMatchObject({ kind: "text", dim: 16, cases: [{ ok: true }, { ok: true }, { ok: true }] });
    const builtin = await tryEncoder(ctx, { projectId, encoderConfig: { kind: "builtin", dim: 32 } }, { modelsDir: null });
    expect(builtin).toMatchObject({ kind: "text", dim: 32 });
    // A text project has no image to try an image encoder on.
    expect(await refusal(tryEncoder(ctx, { projectId, encoderConfig: image(MOBILENET) }, { modelsDir: SHARED_MODELS, store }))).toMatchObject({ kind: "BAD_INPUT", field: "form" });
  });

  it("tries LSA fitted on the project's narratives (not on the three cases) and reports the project's dimension and what it did", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const ctx = createServiceContext(db, scientist);
    // 40 narratives, k = 20: the dimension is k (the three cases alone would give 3).
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 40 });
    const tried = await tryEncoder(ctx, { projectId, encoderConfig: { kind: "lsa", dim: 20 } }, { modelsDir: null });
    expect(tried).toMatchObject({ kind: "text", dim: 20, fit: { texts: 40, narratives: 40, fittedDim: 20 }, cases: [{ ok: true }, { ok: true }, { ok: true }] });
    expect(tried.note).toContain("dimension 20");
    expect(tried.note).toContain("fitted LSA on all 40 narratives");
    // k above the number of narratives: capped, and said so.
    const small = await createTestProject({ memberIds: [scientist.id], cases: 8 });
    const capped = await tryEncoder(ctx, { projectId: small.projectId, encoderConfig: { kind: "lsa", dim: 100 } }, { modelsDir: null });
    expect(capped).toMatchObject({ dim: 8, fit: { texts: 8, narratives: 8, fittedDim: 8 } });
    expect(capped.note).toContain("capped by the number of narratives");
  });

  it("is for members with project.configure; a non-member gets NOT_FOUND", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const reviewer = await createTestUser("REVIEWER");
    const outsider = await createTestUser("ADMIN");
    const { projectId } = await createTestProject({ memberIds: [scientist.id, reviewer.id], cases: 1 });
    const deps = { modelsDir: SHARED_MODELS };
    expect((await refusal(listEncoderModels(createServiceContext(db, outsider), { projectId }, deps))).kind).toBe("NOT_FOUND");
    expect((await refusal(updateEncoder(createServiceContext(db, outsider), { projectId, encoderConfig: { kind: "builtin", dim: 8 } }, deps))).kind).toBe("NOT_FOUND");
    expect((await refusal(updateEncoder(createServiceContext(db, reviewer), { projectId, encoderConfig: { kind: "builtin", dim: 8 } }, deps))).kind).toBe("FORBIDDEN");
    expect(await db.auditEvent.count({ where: { projectId, action: "project.encoder.update" } })).toBe(0);
  });
});
