/**
 * Fuzzed imports against the real test database: FUZZ_CASES (500) seeded cases (FUZZ_SEED) built
 * from the real files of ../shared/data — truncated, bit-flipped and header-corrupted DICOM, wrong
 * transfer syntaxes, broken CSV quoting and encodings, huge fields, missing columns, invalid JSONL,
 * zips with traversal, symlinks, nesting, bombs and damage, images with wrong extensions, and valid
 * controls. Every 4th case runs the full import service (fresh project, rows counted before and
 * after), the rest the batch validator the service runs first. See server/testing/fuzz/run.ts for
 * the checks; `npm run fuzz:import` runs longer campaigns.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { createTestUser, testDb } from "../fixtures";
import type { Actor } from "../../services/context";
import { loadFuzzMaterials } from "./materials";
import { fuzzSummaryTable, runImportFuzz } from "./run";

const CASES = Number(process.env.FUZZ_CASES ?? 500);
const SEED = Number(process.env.FUZZ_SEED ?? 20261126);
const MEMORY_BOUND_MB = 512;

let sandbox: string;
let scientist: Actor;

beforeAll(async () => {
  sandbox = fs.mkdtempSync(path.join(os.tmpdir(), "rads-fuzz-"));
  scientist = await createTestUser("DATA_SCIENTIST");
  loadFuzzMaterials();
});
afterAll(async () => {
  fs.rmSync(sandbox, { recursive: true, force: true });
  await testDb().$disconnect();
});

it(`${CASES} fuzzed import batches (seed ${SEED}) end in a clear rejection or a correct import`, async () => {
  const report = await runImportFuzz({ seed: SEED, count: CASES, fullEvery: 4, db: testDb(), actor: scientist, sandbox });
  console.log(`import fuzz, seed ${SEED}: ${report.outcomes.length} cases in ${report.seconds} s, peak RSS ${report.peakRssMb} MB (baseline ${report.baselineRssMb} MB)\n${fuzzSummaryTable(report)}`);
  expect(report.outcomes).toHaveLength(CASES);
  expect(report.outcomes.filter((o) => o.mode === "import").length).toBeGreaterThanOrEqual(Math.floor(CASES / 4));
  // Both outcomes occur: the generator is not degenerate.
  expect(report.outcomes.some((o) => o.outcome === "imported")).toBe(true);
  expect(report.outcomes.some((o) => o.outcome === "rejected")).toBe(true);
  expect(report.failures.slice(0, 20)).toEqual([]);
  expect(report.peakRssMb - report.baselineRssMb).toBeLessThan(MEMORY_BOUND_MB);
}, 300_000);
