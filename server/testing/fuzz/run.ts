/**
 * Runs fuzz cases (generate.ts) through the import code and checks, for every case:
 *   - no exception escapes (an uncaught one is a "crash": a 500 for the user);
 *   - the outcome matches the case's expectation ("reject" / "import" / "either");
 *   - a rejection lists issues that each name an uploaded file (or an entry inside one), with a
 *     positive line number where one is given, and the mutated file / a line where the case asks;
 *   - full imports (every `fullEvery`-th case, the rest through the batch validator the service
 *     runs first): a rejected batch leaves the project's cases, images and batches unchanged, an
 *     imported one adds exactly what it reports;
 * and for the whole run: no file outside the storage folder (nothing where a traversal entry
 * pointed, nothing in the temporary folder the run gave the code), every stored blob where its
 * content hash says, and the peak resident memory.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import type { Db } from "../../db/client";
import { planImport } from "../../import/plan";
import type { ImportIssue } from "../../import/issues";
import { createServiceContext, type Actor } from "../../services/context";
import { importCases, labelResolverFor } from "../../services/import-service";
import { createLocalBlobStore } from "../../storage/blob-store";
import { FUZZ_KINDS, generateFuzzCases, type FuzzCase } from "./generate";
import { loadFuzzMaterials } from "./materials";

export interface FuzzRunOptions {
  seed: number;
  count: number;
  /** Every n-th case runs the full import against the database; the others the batch validator. */
  fullEvery: number;
  db: Db;
  actor: Actor;
  /** A fresh folder; the run puts `storage/` and `tmp/` inside it and checks nothing else appears. */
  sandbox: string;
}

export interface CaseOutcome {
  index: number;
  kind: string;
  variant: string;
  mode: "validate" | "import";
  outcome: "imported" | "rejected" | "crash";
  failures: string[];
}

export interface FuzzReport {
  seed: number;
  outcomes: CaseOutcome[];
  failures: { index: number; kind: string; variant: string; message: string }[];
  baselineRssMb: number;
  peakRssMb: number;
  seconds: number;
}

const LABELS = { labels: [], multiLabel: false };
const mb = (bytes: number) => Math.round(bytes / 1024 / 1024);

function checkIssues(c: FuzzCase, issues: ImportIssue[]): string[] {
  const failures: string[] = [];
  const names = c.files.map((f) => f.name);
  if (issues.length === 0) failures.push("rejected without any issue");
  for (const issue of issues) {
    const file = typeof issue.file === "string" ? issue.file : "";
    const named = names.some((n) => file === n || file.startsWith(`${n}/`)) || file === names.join(", ");
    if (!named) failures.push(`issue names no uploaded file: ${JSON.stringify(issue).slice(0, 200)}`);
    if (typeof issue.message !== "string" || issue.message.trim().length < 5) failures.push(`issue without a message: ${JSON.stringify(issue).slice(0, 200)}`);
    if (issue.line !== undefined && !(Number.isInteger(issue.line) && issue.line >= 1)) failures.push(`issue with a bad line number ${String(issue.line)}`);
  }
  if (c.target && !issues.some((i) => i.file === c.target || i.file.startsWith(`${c.target}/`))) {
    failures.push(`no issue names the damaged file ${c.target}; got ${issues.map((i) => i.file).join(" | ").slice(0, 200)}`);
  }
  if (c.wantsLine && !issues.some((i) => i.line !== undefined)) failures.push("a row-level fault was reported without a line number");
  return failures;
}

function checkExpectation(c: FuzzCase, outcome: "imported" | "rejected"): string[] {
  if (c.expect === "reject" && outcome !== "rejected") return ["expected a rejection, but the batch was accepted"];
  if (c.expect === "import" && outcome !== "imported") return ["expected an import, but the batch was rejected"];
  return [];
}

async function projectCounts(db: Db, projectId: string) {
  const [cases, images, batches] = await Promise.all([
    db.case.count({ where: { projectId } }),
    db.caseImage.count({ where: { case: { projectId } } }),
    db.importBatch.count({ where: { projectId } }),
  ]);
  return { cases, images, batches };
}

function listFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((e) => !e.isDirectory())
    .map((e) => path.relative(dir, path.join(e.parentPath, e.name)).split(path.sep).join("/"));
}

export async function runImportFuzz(options: FuzzRunOptions, onCase?: (outcome: CaseOutcome) => void): Promise<FuzzReport> {
  const started = Date.now();
  const storageDir = path.join(options.sandbox, "storage");
  const tmpDir = path.join(options.sandbox, "tmp");
  fs.mkdirSync(storageDir, { recursive: true });
  fs.mkdirSync(tmpDir, { recursive: true });
  const blobs = createLocalBlobStore(storageDir);
  const materials = loadFuzzMaterials();
  const systemTmpBefore = new Set(fs.readdirSync(os.tmpdir()));
  // Anything the import code writes to the temporary folder lands in the sandbox, where it is seen.
  const savedTmp = process.env.TMPDIR;
  process.env.TMPDIR = tmpDir;

  const baseline = process.memoryUsage().rss;
  const maxRssBefore = process.resourceUsage().maxRSS * 1024;
  let peak = baseline;
  const sample = () => {
    peak = Math.max(peak, process.memoryUsage().rss);
  };
  const timer = setInterval(sample, 10);
  const outcomes: CaseOutcome[] = [];
  const escapes: string[] = [];
  try {
    for (const c of generateFuzzCases(options.seed, options.count, materials)) {
      if (c.escapeName) escapes.push(c.escapeName);
      // One case in `fullEvery`, spread over the kinds: kinds rotate, so index % n alone would keep picking the same kinds.
      const full = ((c.index % FUZZ_KINDS.length) + Math.floor(c.index / FUZZ_KINDS.length)) % options.fullEvery === 0;
      const failures: string[] = [];
      let outcome: CaseOutcome["outcome"];
      try {
        if (!full) {
          const plan = await planImport(c.files, { mapping: c.mapping, resolveLabel: labelResolverFor(LABELS.labels), allowIdentifiers: false });
          outcome = plan.issues.length ? "rejected" : "imported";
          if (outcome === "rejected") failures.push(...checkIssues(c, plan.issues));
          else if (plan.cases.length === 0) failures.push("accepted a batch with no cases");
        } else {
          const project = await options.db.project.create({
            data: {
              name: `fuzz-${options.seed}-${c.index}-${crypto.randomBytes(3).toString("hex")}`,
              labelSchema: LABELS,
              minorityClasses: [],
              selectionParams: {},
              encoderConfig: { kind: "builtin" },
              settings: {},
              members: { create: [{ userId: options.actor.id }] },
            },
            select: { id: true },
          });
          const before = await projectCounts(options.db, project.id);
          const result = await importCases(createServiceContext(options.db, options.actor), { projectId: project.id, files: c.files, mapping: c.mapping, via: "upload" }, { blobs });
          const after = await projectCounts(options.db, project.id);
          if (result.status === "imported") {
            outcome = "imported";
            const expected = { cases: before.cases + result.counts.cases, images: before.images + result.counts.images, batches: before.batches + 1 };
            if (JSON.stringify(after) !== JSON.stringify(expected)) failures.push(`imported, but the rows are ${JSON.stringify(after)} instead of ${JSON.stringify(expected)}`);
          } else if (result.status === "rejected") {
            outcome = "rejected";
            failures.push(...checkIssues(c, result.issues));
            if (JSON.stringify(after) !== JSON.stringify(before)) failures.push(`a rejected batch changed the rows: ${JSON.stringify(before)} → ${JSON.stringify(after)}`);
          } else {
            outcome = "rejected";
            failures.push("a fresh project reported the batch as already imported");
          }
        }
        failures.push(...checkExpectation(c, outcome));
      } catch (error) {
        outcome = "crash";
        failures.push(`uncaught ${(error as Error)?.constructor?.name ?? "exception"}: ${String((error as Error)?.message ?? error).slice(0, 300)}`);
      }
      sample();
      const result: CaseOutcome = { index: c.index, kind: c.kind, variant: c.variant, mode: full ? "import" : "validate", outcome, failures };
      outcomes.push(result);
      onCase?.(result);
    }
  } finally {
    clearInterval(timer);
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
  }
  sample();
  const maxRssAfter = process.resourceUsage().maxRSS * 1024;
  // maxRSS is the process's lifetime high-water mark: when it rose during the run, that is the run's peak.
  if (maxRssAfter > maxRssBefore) peak = Math.max(peak, maxRssAfter);

  const failures = outcomes.flatMap((o) => o.failures.map((message) => ({ index: o.index, kind: o.kind, variant: o.variant, message })));
  const runFailure = (message: string) => failures.push({ index: -1, kind: "(run)", variant: "", message });
  // Nothing outside storage/: the sandbox holds only storage/ and an empty tmp/.
  for (const entry of fs.readdirSync(options.sandbox)) if (entry !== "storage" && entry !== "tmp") runFailure(`a file appeared next to the storage folder: ${entry}`);
  for (const file of listFiles(tmpDir)) runFailure(`a file was left in the temporary folder: ${file}`);
  // Every blob is content-addressed under images/, complete, and named by its own hash.
  for (const file of listFiles(storageDir)) {
    const m = /^images\/([0-9a-f]{2})\/([0-9a-f]{64})\.(dcm|png|jpg)$/.exec(file);
    if (!m || m[1] !== m[2]!.slice(0, 2)) {
      runFailure(`unexpected file in storage: ${file}`);
      continue;
    }
    const hash = crypto.createHash("sha256").update(fs.readFileSync(path.join(storageDir, file))).digest("hex");
    if (hash !== m[2]) runFailure(`stored blob ${file} does not hold the bytes its name says`);
  }
  // Where a traversal entry pointed: relative to storage, the sandbox, the working folder and the temp folders.
  const places = [storageDir, path.dirname(storageDir), options.sandbox, path.dirname(options.sandbox), process.cwd(), os.tmpdir(), "/tmp", "/"];
  for (const name of escapes) for (const place of places) if (fs.existsSync(path.join(place, name))) runFailure(`a traversal entry was written to ${path.join(place, name)}`);
  for (const entry of fs.readdirSync(os.tmpdir())) if (!systemTmpBefore.has(entry) && entry.startsWith("fuzz-escape-")) runFailure(`a traversal entry was written to ${os.tmpdir()}/${entry}`);

  return { seed: options.seed, outcomes, failures, baselineRssMb: mb(baseline), peakRssMb: mb(peak), seconds: Math.round((Date.now() - started) / 100) / 10 };
}

/** Markdown table: outcomes by mutation kind. */
export function fuzzSummaryTable(report: FuzzReport): string {
  const rows = FUZZ_KINDS.map((kind) => {
    const mine = report.outcomes.filter((o) => o.kind === kind);
    const count = (f: (o: CaseOutcome) => boolean) => mine.filter(f).length;
    return [kind, mine.length, count((o) => o.mode === "import"), count((o) => o.outcome === "imported"), count((o) => o.outcome === "rejected"), count((o) => o.outcome === "crash"), count((o) => o.failures.length > 0)];
  });
  const total = rows.reduce((sum, row) => sum.map((v, i) => (i === 0 ? "**total**" : (v as number) + (row[i] as number))), ["**total**", 0, 0, 0, 0, 0, 0] as (string | number)[]);
  const lines = [
    "| mutation kind | cases | full imports | imported | rejected | crashes | failed checks |",
    "|---|---:|---:|---:|---:|---:|---:|",
    ...[...rows, total].map((row) => `| ${row.join(" | ")} |`),
  ];
  return lines.join("\n");
}
