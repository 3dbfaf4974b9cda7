/**
 * Import throughput on a fresh embedded PostgreSQL (temporary folder, like the integration tests):
 *   - 10,000 narratives: mtsamples.csv rows with a non-empty transcription, repeated with unique
 *     ids, written to a temporary CSV;
 *   - the DICOM files of ../shared/data/dicom that the importer accepts.
 * Each workload runs 3 times into a new project (and a new blob folder); the table gives medians.
 * Baseline, measured in the same run: validation alone (planImport: parse + checks, no writes),
 * so the cost of the database transaction and blob writes reads off the difference.
 *
 *   npm run bench:import
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseCsv } from "./lib/csv";
import { csvField } from "../server/import/csv-records";
import { planImport, type InputFile } from "../server/import/plan";
import { createDb } from "../server/db/client";
import { insertFixtureProject } from "../server/db/fixtures-repo";
import { freePort } from "../server/db/embedded-postgres";
import { prepareDatabase } from "../server/platform/database";
import { createServiceContext } from "../server/services/context";
import { importCases, labelResolverFor } from "../server/services/import-service";
import { createLocalBlobStore } from "../server/storage/blob-store";

process.env.LOG_LEVEL ??= "warn";
const SHARED = path.resolve(import.meta.dirname, "../../shared/data");
const RUNS = 3;
const N_NARRATIVES = 10_000;

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

function narrativesCsv(): { text: string; rows: number } {
  const raw = fs.readFileSync(path.join(SHARED, "text/mtsamples/mtsamples.csv"), "utf8");
  const table = parseCsv(raw);
  const c = (name: string) => table.header.indexOf(name);
  const usable = table.rows.filter((r) => r[c("transcription")]!.trim() !== "");
  const lines = ["note_id,medical_specialty,description,transcription"];
  for (let i = 0; i < N_NARRATIVES; i++) {
    const r = usable[i % usable.length]!;
    lines.push([`bench-${i}`, r[c("medical_specialty")]!, r[c("description")]!, r[c("transcription")]!].map(csvField).join(","));
  }
  return { text: lines.join("\n") + "\n", rows: N_NARRATIVES };
}

async function validDicom(): Promise<InputFile[]> {
  const dir = path.join(SHARED, "dicom");
  const all = fs.readdirSync(dir).filter((f) => f.endsWith(".dcm")).sort().map((f) => ({ name: f, bytes: new Uint8Array(fs.readFileSync(path.join(dir, f))) }));
  // Keep what the importer accepts (the malformed files would make the batch all-or-nothing reject).
  const accepted: InputFile[] = [];
  for (const f of all) if ((await planImport([f], { mapping: {}, resolveLabel: labelResolverFor([]), allowIdentifiers: false })).issues.length === 0) accepted.push(f);
  return accepted;
}

async function main() {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rads-bench-import-"));
  fs.chmodSync(temp, 0o755); // the postgres user must reach it when run as root
  const prepared = await prepareDatabase({ dataDir: path.join(temp, "pg"), embeddedPort: await freePort(), database: "rads_bench" });
  const db = createDb(prepared.url);
  try {
    const csv = narrativesCsv();
    const csvFile = path.join(temp, "narratives-10k.csv");
    fs.writeFileSync(csvFile, csv.text);
    const workloads = [
      { name: `${N_NARRATIVES.toLocaleString("en")} narratives (CSV)`, unit: "rows", files: [{ name: "narratives-10k.csv", bytes: new Uint8Array(fs.readFileSync(csvFile)) }], count: N_NARRATIVES, mapping: { labelCol: "medical_specialty", narrativeIdentifiers: "keep" as const } },
      await (async () => {
        const files = await validDicom();
        return { name: `${files.length} DICOM files (../shared, valid ones)`, unit: "files", files, count: files.length, mapping: {} };
      })(),
    ];
    const lines: string[] = [];
    lines.push("| workload | MB | validate only (median s) | full import (median s) | rows or files / s | MB / s |");
    lines.push("|---|---:|---:|---:|---:|---:|");
    for (const w of workloads) {
      const mb = w.files.reduce((n, f) => n + f.bytes.length, 0) / (1024 * 1024);
      const validate: number[] = [];
      const full: number[] = [];
      for (let run = 0; run < RUNS; run++) {
        let t = performance.now();
        const plan = await planImport(w.files, { mapping: w.mapping, resolveLabel: labelResolverFor([]), allowIdentifiers: false });
        validate.push((performance.now() - t) / 1000);
        if (plan.issues.length) throw new Error(`benchmark input rejected: ${plan.issues[0]!.message}`);

        const project = await insertFixtureProject(db, { name: `bench ${w.unit} ${run} ${Date.now()}`, labelSchema: { labels: [] }, minorityClasses: [], selectionParams: {}, encoderConfig: { kind: "builtin" }, settings: {} });
        const blobs = createLocalBlobStore(path.join(temp, `storage-${w.unit}-${run}`));
        t = performance.now();
        const result = await importCases(createServiceContext(db, null), { projectId: project.id, files: w.files, mapping: w.mapping, via: "cli" }, { blobs, system: true });
        full.push((performance.now() - t) / 1000);
        if (result.status !== "imported") throw new Error(`benchmark import did not import: ${JSON.stringify(result).slice(0, 300)}`);
        process.stderr.write(`${w.name}: run ${run + 1}/${RUNS} ${full[full.length - 1]!.toFixed(2)} s\n`);
      }
      const s = median(full);
      lines.push(`| ${w.name} | ${mb.toFixed(1)} | ${median(validate).toFixed(2)} | ${s.toFixed(2)} | ${Math.round(w.count / s).toLocaleString("en")} ${w.unit}/s | ${(mb / s).toFixed(1)} |`);
    }
    process.stdout.write(`\nImport throughput (median of ${RUNS} runs; embedded PostgreSQL; ${os.cpus().length} CPU cores, ${os.cpus()[0]?.model ?? "unknown CPU"}; Node ${process.version})\n\n${lines.join("\n")}\n`);
  } finally {
    await db.$disconnect();
    await prepared.embedded?.stop();
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`error: ${(error as Error).message}\n`);
  process.exit(1);
});
