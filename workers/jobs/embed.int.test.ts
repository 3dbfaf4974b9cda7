/**
 * The embed job against the real test database: the built-in featuriser on real MTSamples
 * narratives (../shared/data/text/mtsamples/mtsamples.csv) and the real MobileNetV2 encoder
 * (../shared/models/mobilenetv2-12-int8/) on real chest X-rays (../shared/data/images/covid_chestxray/)
 * stored in a temporary blob store.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ZOnnxImageEncoderConfig } from "@/contracts/encoder-config";
import { fitBuiltinTextEncoder } from "@/models/encoders/builtin-text-encoder";
import { createOnnxImageEncoder } from "@/models/encoders/onnx-image-encoder";
import { releaseOnnxSessions } from "@/models/onnx-sessions";
import { currentEncoderVersion, loadProjectEmbeddings } from "@/server/services/embedding-service";
import { contentKey, createLocalBlobStore, type BlobStore } from "@/server/storage/blob-store";
import { testDb } from "@/server/testing/fixtures";
import { readTable, requireColumn } from "@/scripts/lib/table";
import { featurize } from "@/workers/ml/text-featurizer";
import { embedJob, runEmbed, type EmbedDeps } from "./embed";
import { executeJobRun, type WorkerContext } from "./job-runtime";

const MOBILENET = path.resolve("../shared/models/mobilenetv2-12-int8/mobilenetv2-12-int8.onnx");
const XRAYS = path.resolve("../shared/data/images/covid_chestxray/images");
const N_TEXT = 40;

let storeDir: string;
let store: BlobStore;
let deps: EmbedDeps;
let narratives: string[];

beforeAll(() => {
  storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-embed-store-"));
  store = createLocalBlobStore(storeDir);
  deps = { db: testDb(), store, provider: "cpu" };
  const table = readTable(path.resolve("../shared/data/text/mtsamples/mtsamples.csv"));
  const col = requireColumn(table, "transcription", "text");
  narratives = table.rows.map((row) => row[col] ?? "").filter((text) => text.trim().length > 0).slice(0, N_TEXT);
});

afterAll(async () => {
  await releaseOnnxSessions();
  fs.rmSync(storeDir, { recursive: true, force: true });
});

async function createProject(encoderConfig: object, texts: (string | null)[]) {
  const db = testDb();
  const project = await db.project.create({
    data: {
      name: `Embed test ${crypto.randomBytes(5).toString("hex")}`,
      labelSchema: { labels: [{ key: "a", name: "A", shortcut: "1" }], multiLabel: false },
      minorityClasses: [],
      selectionParams: { strategy: "random", budget: 5 },
      encoderConfig,
      settings: {},
    },
    select: { id: true },
  });
  await db.case.createMany({ data: texts.map((narrative, i) => ({ projectId: project.id, externalId: `c-${String(i).padStart(3, "0")}`, narrative })) });
  const cases = await db.case.findMany({ where: { projectId: project.id }, orderBy: { externalId: "asc" }, select: { id: true } });
  return { projectId: project.id, caseIds: cases.map((c) => c.id) };
}

describe("embed job — built-in featuriser on real MTSamples narratives", () => {
  it("embeds every case in batches, exactly the featuriser's vectors, under a version from options + fitted IDF", async () => {
    const { projectId, caseIds } = await createProject({ kind: "builtin", dim: 128 }, narratives);
    const stages: [string, number][] = [];
    const result = await runEmbed(deps, projectId, 16, async (stage, percent) => void stages.push([stage, percent]));
    const expectedEncoder = fitBuiltinTextEncoder(narratives, { dim: 128 });
    expect(result).toMatchObject({ encoderVersion: expectedEncoder.version, kind: "text", dim: 128, cases: N_TEXT, embedded: N_TEXT, alreadyEmbedded: 0, notEmbedded: 0, failures: [] });
    // 40 cases in batches of 16: progress after each of the three batches.
    expect(stages.map(([, p]) => Math.round(p))).toEqual([0, 0, 40, 80, 99]);

    const loaded = await loadProjectEmbeddings(testDb(), projectId, result.encoderVersion, caseIds);
    expect(loaded.caseIds).toEqual(caseIds);
    expect(loaded.missing).toEqual([]);
    const m = featurize(expectedEncoder.state, narratives);
    expect(loaded.matrix.cols).toBe(128);
    expect(Array.from(loaded.matrix.data)).toEqual(Array.from(m.data));
  });

  it("is idempotent, and a crash mid-way loses at most the batch in flight", async () => {
    const { projectId, caseIds } = await createProject({ kind: "builtin" }, narratives);
    let batches = 0;
    const crash = async (_stage: string, percent: number) => {
      if (percent > 0 && ++batches === 2) throw new Error("worker killed");
    };
    await expect(runEmbed(deps, projectId, 8, crash)).rejects.toThrow("worker killed");
    const version = fitBuiltinTextEncoder(narratives).version;
    // Two batches were inserted before the "crash" (it struck after the second insert).
    expect((await loadProjectEmbeddings(testDb(), projectId, version)).caseIds).toEqual(caseIds.slice(0, 16));

    const rerun = await runEmbed(deps, projectId, 8);
    expect(rerun).toMatchObject({ encoderVersion: version, embedded: N_TEXT - 16, alreadyEmbedded: 16 });
    const again = await runEmbed(deps, projectId, 8);
    expect(again).toMatchObject({ embedded: 0, alreadyEmbedded: N_TEXT });
    expect((await loadProjectEmbeddings(testDb(), projectId, version)).caseIds).toHaveLength(N_TEXT);
  });

  it("a new case changes the fitted IDF, so the next run writes a fresh version for every case", async () => {
    const { projectId } = await createProject({ kind: "builtin", dim: 64 }, narratives.slice(0, 10));
    const first = await runEmbed(deps, projectId, 32);
    await testDb().case.create({ data: { projectId, externalId: "late", narrative: null } });
    const second = await runEmbed(deps, projectId, 32);
    expect(second.encoderVersion).not.toBe(first.encoderVersion);
    expect(second).toMatchObject({ cases: 11, embedded: 11, alreadyEmbedded: 0 });
    // The narrative-less case is an all-zero vector (nothing to featurise), not an error.
    const late = await testDb().case.findFirstOrThrow({ where: { projectId, externalId: "late" }, select: { id: true } });
    const { matrix } = await loadProjectEmbeddings(testDb(), projectId, second.encoderVersion, [late.id]);
    expect(matrix.data.every((v) => v === 0)).toBe(true);
  });

  it("runs as a JobRun: progress, SUCCEEDED with the result, and the current encoder version", async () => {
    const { projectId } = await createProject({ kind: "builtin" }, narratives.slice(0, 12));
    expect(await currentEncoderVersion(testDb(), projectId)).toBeNull();
    const run = await testDb().jobRun.create({ data: { projectId, kind: "embed", payload: { batchSize: 5 } }, select: { id: true } });
    const worker: WorkerContext = { db: testDb(), store, databaseUrl: process.env.DATABASE_URL!, provider: "cpu", send: async () => undefined };
    const outcome = await executeJobRun(embedJob.spec, worker, run.id, true);
    expect(outcome.status).toBe("succeeded");
    const row = await testDb().jobRun.findUniqueOrThrow({ where: { id: run.id } });
    expect(row).toMatchObject({ status: "SUCCEEDED", percent: 100, attempts: 1 });
    const result = row.result as { encoderVersion: string; embedded: number };
    expect(result.embedded).toBe(12);
    expect(await currentEncoderVersion(testDb(), projectId)).toBe(result.encoderVersion);
    // A second delivery of the finished run does nothing.
    expect((await executeJobRun(embedJob.spec, worker, run.id, true)).status).toBe("skipped");
  });

  it("a bad encoder config fails the run with the field named", async () => {
    const { projectId } = await createProject({ kind: "onnx-text" }, ["x"]);
    await expect(runEmbed(deps, projectId, 4)).rejects.toThrow(/encoderConfig\.path/);
  });
});

describe("loadProjectEmbeddings", () => {
  it("keeps the asked order, reports what is missing, and never returns another project's vectors", async () => {
    const a = await createProject({ kind: "builtin", dim: 16 }, narratives.slice(0, 4));
    const b = await createProject({ kind: "builtin", dim: 16 }, narratives.slice(0, 4));
    const ra = await runEmbed(deps, a.projectId, 10);
    await runEmbed(deps, b.projectId, 10);
    const asked = [a.caseIds[2]!, b.caseIds[0]!, a.caseIds[0]!, "no-such-case"];
    const loaded = await loadProjectEmbeddings(testDb(), a.projectId, ra.encoderVersion, asked);
    expect(loaded.caseIds).toEqual([a.caseIds[2], a.caseIds[0]]);
    expect(loaded.missing).toEqual([b.caseIds[0], "no-such-case"]);
    expect(loaded.matrix.rows).toBe(2);
    const all = await loadProjectEmbeddings(testDb(), a.projectId, ra.encoderVersion);
    expect([...all.caseIds].sort()).toEqual([...a.caseIds].sort());
    expect((await loadProjectEmbeddings(testDb(), a.projectId, "no-such-version")).matrix).toEqual({ data: new Float32Array(0), rows: 0, cols: 0 });
  });
});

describe("embed job — MobileNetV2 on real chest X-rays", () => {
  it("embeds each case's images (mean of unit vectors, re-normalised) and reports an unsupported DICOM per image", async () => {
    const config = ZOnnxImageEncoderConfig.parse({ kind: "onnx-image", path: MOBILENET });
    const { projectId, caseIds } = await createProject(config, [null, null, null, null]);
    const files = ["covid-19-pneumonia-8.jpg", "6b3bdbc31f65230b8cdcc3cef5f8ba8a-40ac-0.jpg", "1-s2.0-S0085253820303616-gr1_lrg-b.png"];
    const put = async (caseId: string, bytes: Buffer, position: number, mimeType: string) => {
      const key = contentKey("images", bytes, path.extname(files[0]!));
      await store.put(key, bytes);
      return testDb().caseImage.create({ data: { caseId, storageKey: key, mimeType, sha256: crypto.createHash("sha256").update(bytes).digest("hex"), position }, select: { id: true } });
    };
    const xray = files.map((f) => fs.readFileSync(path.join(XRAYS, f)));
    await put(caseIds[0]!, xray[0]!, 0, "image/jpeg");
    await put(caseIds[1]!, xray[1]!, 0, "image/jpeg");
    await put(caseIds[1]!, xray[2]!, 1, "image/png");
    // A truncated DICOM (every decodable syntax now embeds, JPEG 2000 included).
    const j2k = await put(caseIds[2]!, fs.readFileSync(path.resolve("../shared/data/dicom/MR_truncated.dcm")), 0, "application/dicom");
    // caseIds[3] has no image at all.

    const result = await runEmbed(deps, projectId, 2);
    const encoder = await createOnnxImageEncoder(config);
    expect(result).toMatchObject({ encoderVersion: encoder.version, kind: "image", dim: 1000, cases: 4, embedded: 2, notEmbedded: 2 });
    expect(result.failures).toEqual(
      expect.arrayContaining([
        { caseId: caseIds[2], imageId: j2k.id, error: `image ${j2k.id}: DICOM: the file ends in the middle of a data element (it is truncated or its element lengths are wrong)` },
        { caseId: caseIds[3], error: "case has no image to embed" },
      ]),
    );

    const loaded = await loadProjectEmbeddings(testDb(), projectId, encoder.version, caseIds);
    expect(loaded.caseIds).toEqual([caseIds[0], caseIds[1]]);
    const [one, two, three] = await encoder.embed(xray.map((bytes) => ({ bytes })));
    const row = (r: number) => loaded.matrix.data.subarray(r * 1000, (r + 1) * 1000);
    row(0).forEach((v, d) => expect(v).toBeCloseTo(one![d]!, 5));
    const mean = two!.map((v, d) => v + three![d]!);
    const n = Math.hypot(...mean);
    row(1).forEach((v, d) => expect(v).toBeCloseTo(mean[d]! / n, 5));

    // A re-run retries only the two cases without a vector (and still cannot embed them).
    const rerun = await runEmbed(deps, projectId, 2);
    expect(rerun).toMatchObject({ embedded: 0, alreadyEmbedded: 2, notEmbedded: 2 });
  });
});
