import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { ZEncoderConfig } from "@/contracts/encoder-config";
import { createLocalBlobStore } from "@/server/storage/blob-store";
import { testDb } from "@/server/testing/fixtures";
import { embedJob } from "@/workers/jobs/embed";
import { executeJobRun, type WorkerContext } from "@/workers/jobs/job-runtime";
import { storedEncoderVersionFor } from "./embedding-service";

const storeDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-embedding-service-"));
afterAll(() => fs.rmSync(storeDir, { recursive: true, force: true }));

describe("storedEncoderVersionFor", () => {
  it("names the latest embed run's version only when it belongs to the configured encoder", async () => {
    const db = testDb();
    const project = await db.project.create({
      data: {
        name: `Embedding service ${crypto.randomBytes(5).toString("hex")}`,
        labelSchema: { labels: [{ key: "a", name: "A", shortcut: "1" }, { key: "b", name: "B", shortcut: "2" }], multiLabel: false },
        minorityClasses: ["b"],
        selectionParams: { strategy: "random", budget: 2 },
        encoderConfig: { kind: "builtin", dim: 16 },
        settings: {},
      },
      select: { id: true },
    });
    await db.case.createMany({ data: ["chest pain", "clear lungs", "nodule"].map((narrative, i) => ({ projectId: project.id, externalId: `c${i}`, narrative })) });
    const builtin16 = ZEncoderConfig.parse({ kind: "builtin", dim: 16 });
    expect(await storedEncoderVersionFor(db, project.id, builtin16)).toBeNull();

    const run = await db.jobRun.create({ data: { projectId: project.id, kind: "embed", payload: {} }, select: { id: true } });
    const worker: WorkerContext = { db, store: createLocalBlobStore(storeDir), databaseUrl: process.env.DATABASE_URL!, provider: "cpu", send: async () => undefined };
    expect((await executeJobRun(embedJob.spec, worker, run.id, true)).status).toBe("succeeded");
    const stored = ((await db.jobRun.findUniqueOrThrow({ where: { id: run.id } })).result as { encoderVersion: string }).encoderVersion;

    expect(await storedEncoderVersionFor(db, project.id, builtin16)).toBe(stored);
    expect(await storedEncoderVersionFor(db, project.id, ZEncoderConfig.parse({ kind: "builtin", dim: 32 }))).toBeNull();
    expect(await storedEncoderVersionFor(db, project.id, ZEncoderConfig.parse({ kind: "onnx-image", path: "model.onnx" }))).toBeNull();
  });
});
