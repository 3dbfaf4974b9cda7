/**
 * "Generate case ids" end to end: real MTSamples transcriptions (../shared/data/text/mtsamples,
 * written here WITHOUT their note_id column) are refused until the data scientist turns the
 * setting on, then imported with ids generated from each row; the same rows give the same ids
 * again (a second file repeating them is refused as existing cases, new rows are imported).
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { parseCsv } from "@/scripts/lib/csv";
import { createLocalBlobStore } from "../storage/blob-store";
import { createTestUser, testDb } from "../testing/fixtures";
import { createTestProject } from "../testing/project-fixtures";
import { createServiceContext } from "./context";
import { importCases } from "./import-service";
import { getSelectionSettings, updateSelectionSettings } from "./project-settings-service";

const MTSAMPLES = path.resolve(import.meta.dirname, "../../../shared/data/text/mtsamples/mtsamples.csv");
let storageDir: string;

beforeAll(() => {
  storageDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-genids-"));
});
afterAll(async () => {
  fs.rmSync(storageDir, { recursive: true, force: true });
  await testDb().$disconnect();
});

/** Rows `from`..`to` of mtsamples as a CSV with only a text column (no id column). */
function transcriptions(from: number, to: number): { name: string; bytes: Uint8Array } {
  const table = parseCsv(fs.readFileSync(MTSAMPLES, "utf8"));
  const col = table.header.indexOf("transcription");
  const rows = table.rows.slice(from, to).filter((r) => (r[col] ?? "").trim() !== "");
  const csv = ["text", ...rows.map((r) => `"${r[col]!.replace(/"/g, '""')}"`)].join("\n");
  return { name: `mtsamples-${from}-${to}.csv`, bytes: new TextEncoder().encode(csv) };
}

describe("imports with generated case ids", () => {
  it("is refused without the setting, imports with it, and gives the same rows the same ids", async () => {
    const scientist = await createTestUser("DATA_SCIENTIST");
    const { projectId } = await createTestProject({ memberIds: [scientist.id], cases: 0 });
    const ctx = () => createServiceContext(testDb(), scientist);
    const run = (file: { name: string; bytes: Uint8Array }) => importCases(ctx(), { projectId, files: [file], mapping: { narrativeIdentifiers: "keep" }, via: "upload" }, { blobs: createLocalBlobStore(storageDir) });

    const first = transcriptions(0, 30);
    const refused = await run(first);
    expect(refused.status).toBe("rejected");
    if (refused.status === "rejected") expect(refused.issues[0]!.message).toContain("no case id column");

    const values = (await getSelectionSettings(ctx(), { projectId })).values;
    await updateSelectionSettings(ctx(), { projectId, ...values, generateCaseIds: true });
    const imported = await run(first);
    expect(imported.status).toBe("imported");
    const cases = await testDb().case.findMany({ where: { projectId }, select: { externalId: true } });
    expect(cases.length).toBe(30);
    expect(cases.every((c) => /^row-[0-9a-f]{16}(-\d+)?$/.test(c.externalId))).toBe(true);

    // The same rows (with new ones) in another file: their ids are the ones already imported.
    const overlapping = await run(transcriptions(20, 40));
    expect(overlapping.status).toBe("rejected");
    if (overlapping.status === "rejected") expect(overlapping.issues.map((i) => i.message).join(" ")).toMatch(/already/);
    expect(await testDb().case.count({ where: { projectId } })).toBe(30);
    expect((await run(transcriptions(30, 40))).status).toBe("imported");
    expect(await testDb().case.count({ where: { projectId } })).toBe(40);
  });
});
