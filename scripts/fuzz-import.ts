/**
 * Longer import-fuzzing campaigns than CI's 500 cases (server/testing/fuzz/import-fuzz.int.test.ts):
 *
 *   FUZZ_CASES=20000 FUZZ_SEED=7 npm run fuzz:import
 *
 * Starts a throw-away embedded PostgreSQL in a temporary folder (or uses TEST_DATABASE_URL),
 * runs the seeded cases through the batch validator and every `FUZZ_FULL_EVERY`-th (4) through
 * the full import service, prints outcomes by mutation kind as a markdown table and every failed
 * check with its case index and seed, and exits 1 if any check failed. Without FUZZ_SEED a seed
 * is drawn and printed, so a failure can be replayed exactly.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { createDb } from "../server/db/client";
import { insertUser } from "../server/db/users-repo";
import { prepareDatabase } from "../server/platform/database";
import { fuzzSummaryTable, runImportFuzz } from "../server/testing/fuzz/run";
import { runCli } from "./lib/run-cli";

process.env.LOG_LEVEL ??= "warn";

async function main(): Promise<number> {
  const count = Number(process.env.FUZZ_CASES ?? 5000);
  const seed = Number(process.env.FUZZ_SEED ?? crypto.randomInt(1, 2 ** 31));
  const fullEvery = Number(process.env.FUZZ_FULL_EVERY ?? 4);
  if (!(count >= 1) || !Number.isInteger(seed) || !(fullEvery >= 1)) throw new Error("FUZZ_CASES, FUZZ_SEED and FUZZ_FULL_EVERY must be positive integers");
  const work = fs.mkdtempSync(path.join(os.tmpdir(), "rads-fuzz-run-"));
  fs.chmodSync(work, 0o755); // the embedded postgres user must reach it when run as root
  const prepared = await prepareDatabase(
    process.env.TEST_DATABASE_URL
      ? { databaseUrl: process.env.TEST_DATABASE_URL, dataDir: "", embeddedPort: 0 }
      : { dataDir: path.join(work, "pg"), embeddedPort: 56000 + (process.pid % 2000), database: "rads_fuzz" },
  );
  const db = createDb(prepared.url);
  try {
    const user = await insertUser(db, { email: `fuzz-${seed}-${crypto.randomBytes(3).toString("hex")}@test.local`, name: "Fuzz", role: "DATA_SCIENTIST", passwordHash: null });
    const actor = { id: user.id, role: user.role, name: user.name, email: user.email };
    const sandbox = path.join(work, "sandbox");
    fs.mkdirSync(sandbox);
    process.stderr.write(`import fuzz: ${count} cases, seed ${seed}, full import every ${fullEvery}\n`);
    const report = await runImportFuzz({ seed, count, fullEvery, db, actor, sandbox }, (o) => {
      if ((o.index + 1) % 500 === 0) process.stderr.write(`  ${o.index + 1}/${count}\n`);
    });
    process.stdout.write(`\nseed ${seed}: ${report.outcomes.length} cases in ${report.seconds} s, peak RSS ${report.peakRssMb} MB (baseline ${report.baselineRssMb} MB)\n\n${fuzzSummaryTable(report)}\n`);
    if (report.failures.length) {
      process.stdout.write(`\n${report.failures.length} failed check(s):\n`);
      for (const f of report.failures.slice(0, 50)) process.stdout.write(`  case ${f.index} (${f.kind}, ${f.variant}): ${f.message}\n`);
      process.stdout.write(`replay: FUZZ_SEED=${seed} FUZZ_CASES=${count} npm run fuzz:import\n`);
      return 1;
    }
    return 0;
  } finally {
    await db.$disconnect();
    await prepared.embedded?.stop();
    fs.rmSync(work, { recursive: true, force: true });
  }
}

runCli(main);
