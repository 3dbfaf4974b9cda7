/**
 * npm run bench:cases [-- --cases 100000 --runs 30]
 *
 * A benchmark, not a test: the case browser over a 100,000-case project. A fresh embedded
 * PostgreSQL in a temporary folder, migrated like `npm start`, gets one project whose narratives
 * are built from the mtsamples transcriptions (../shared/data/text/mtsamples: 4–12 consecutive
 * sentences of one transcription per case, so vocabulary and length are those of real notes),
 * 10 % TEST and 10 % SEED with imported labels, 4 import batches, 7 % of cases with an image
 * (3 % image-only), 12 % annotated by 8 clinicians (a quarter of those by two, some disagreeing,
 * some re-annotated) and 30 selection rounds. Rows go in with multi-row INSERTs from arrays; the
 * search index is dropped for the load and rebuilt from its own definition; then ANALYZE.
 *
 * Each query is the `cases.list` service call as the procedure makes it (front door, filter
 * checks, the page query, the page's annotations and rounds, the audit event) for a page of 50,
 * `--runs` times after 3 warm-up calls (search terms rotate through a list). The baseline — the
 * plain first page without filters — is measured in the same run. Prints a markdown table.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import type { CaseFilters } from "@/contracts/case-browser";
import { createDb } from "../server/db/client";
import { freePort } from "../server/db/embedded-postgres";
import { prepareDatabase } from "../server/platform/database";
import { casePageQuery } from "../server/db/cases-repo";
import { caseCursorAfter, countCases, getCaseDetail, listCases } from "../server/services/case-browser-service";
import { createServiceContext, type Actor } from "../server/services/context";
import { parseCsv } from "./lib/csv";

process.env.LOG_LEVEL ??= "warn";
const { values: args } = parseArgs({
  options: {
    cases: { type: "string", default: "100000" },
    runs: { type: "string", default: "30" },
    /** Print each page query's EXPLAIN ANALYZE to stderr. */
    explain: { type: "boolean", default: false },
    /** Keep the seeded database in this folder and reuse it on the next run (for tuning); default: a temporary folder, removed. */
    "data-dir": { type: "string" },
  },
});
const N = Number(args.cases);
const RUNS = Number(args.runs);
const SHARED = path.resolve(import.meta.dirname, "../../shared/data");
const say = (line: string) => process.stderr.write(`[bench:cases] ${line}\n`);

/** mulberry32: a small seeded generator, so every run seeds the same data. */
function rng(seed: number) {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 2 ** 32;
  };
}

function quantile(values: number[], q: number): number {
  const sorted = [...values].sort((a, b) => a - b);
  const pos = (sorted.length - 1) * q;
  const lo = Math.floor(pos);
  const hi = Math.ceil(pos);
  return sorted[lo]! + (sorted[hi]! - sorted[lo]!) * (pos - lo);
}

const LABELS = ["cardio", "neuro", "ortho", "gi", "other"] as const;
function labelOf(specialty: string): (typeof LABELS)[number] {
  const s = specialty.toLowerCase();
  if (s.includes("cardio")) return "cardio";
  if (s.includes("neuro")) return "neuro";
  if (s.includes("ortho")) return "ortho";
  if (s.includes("gastro")) return "gi";
  return "other";
}

/** The transcriptions as sentence lists with their label. */
function loadSources(): { sentences: string[]; label: (typeof LABELS)[number] }[] {
  const table = parseCsv(fs.readFileSync(path.join(SHARED, "text/mtsamples/mtsamples.csv"), "utf8"));
  const col = (name: string) => table.header.indexOf(name);
  return table.rows
    .map((r) => ({
      sentences: r[col("transcription")]!.replace(/\s+/g, " ").split(/(?<=[.!?])\s+/).filter((s) => s.length >= 15 && s.length <= 400),
      label: labelOf(r[col("medical_specialty")]!),
    }))
    .filter((s) => s.sentences.length >= 4);
}

/** Multi-row INSERT from one array per column (`select` rewrites the unnested columns u1…un, e.g. to build an array). */
async function insertRows(client: pg.Client, table: string, columns: string[], types: string[], rows: unknown[][], select = "*"): Promise<void> {
  const cols = columns.map((c) => `"${c}"`).join(", ");
  const arrays = types.map((t, i) => `$${i + 1}::${t}[]`).join(", ");
  const names = columns.map((_, i) => `u${i + 1}`).join(", ");
  for (let start = 0; start < rows.length; start += 5000) {
    const chunk = rows.slice(start, start + 5000);
    await client.query(`INSERT INTO "${table}" (${cols}) SELECT ${select} FROM unnest(${arrays}) AS u(${names})`, columns.map((_, j) => chunk.map((row) => row[j])));
  }
}

const id = () => crypto.randomBytes(12).toString("hex");

interface Seeded {
  projectId: string;
  scientist: Actor;
  clinicianIds: string[];
  batchIds: string[];
  dicomCaseId: string;
}

async function seed(url: string): Promise<Seeded> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const random = rng(20261130);
    const sources = loadSources();
    const scientist: Actor = { id: id(), role: "DATA_SCIENTIST", name: "Bench Scientist", email: "scientist@bench.local" };
    const clinicianIds = Array.from({ length: 8 }, () => id());
    await insertRows(client, "User", ["id", "email", "name", "role", "updatedAt"], ["text", "text", "text", '"Role"', "timestamp"], [
      [scientist.id, scientist.email, scientist.name, "DATA_SCIENTIST", new Date()],
      ...clinicianIds.map((uid, i) => [uid, `clinician-${i}@bench.local`, `Clinician ${i}`, "CLINICIAN", new Date()]),
    ]);
    const projectId = id();
    await client.query(
      `INSERT INTO "Project" (id, name, "labelSchema", "minorityClasses", "selectionParams", "encoderConfig", settings, "updatedAt") VALUES ($1, $2, $3, $4, $5, $6, $7, now())`,
      [
        projectId,
        "Case browser benchmark",
        JSON.stringify({ labels: LABELS.map((key, i) => ({ key, name: key, shortcut: String(i + 1) })), multiLabel: false }),
        ["neuro"],
        JSON.stringify({ strategy: "rads", budget: 100 }),
        JSON.stringify({ kind: "builtin", dim: 384 }),
        JSON.stringify({ annotationsPerCase: 1 }),
      ],
    );
    await insertRows(client, "ProjectMember", ["projectId", "userId"], ["text", "text"], [scientist.id, ...clinicianIds].map((uid) => [projectId, uid]));
    const batchIds = Array.from({ length: 4 }, () => id());
    await insertRows(client, "ImportBatch", ["id", "projectId", "source", "sha256", "caseCount"], ["text", "text", "text", "text", "int"], batchIds.map((bid, i) => [bid, projectId, `mtsamples-part-${i + 1}.csv`, crypto.createHash("sha256").update(bid).digest("hex"), Math.ceil(N / 4)]));

    // The search index is maintained row by row during a load; drop it and build it once from its own definition.
    const indexDef = (await client.query<{ indexdef: string }>(`SELECT indexdef FROM pg_indexes WHERE indexname = 'Case_searchVector_idx'`)).rows[0]?.indexdef;
    if (!indexDef) throw new Error("migration 0005_case_search did not create Case_searchVector_idx");
    await client.query(`DROP INDEX "Case_searchVector_idx"`);

    const cases: unknown[][] = [];
    const images: unknown[][] = [];
    const caseIds: string[] = [];
    const truth: string[] = [];
    let dicomCaseId = "";
    let chars = 0;
    for (let i = 0; i < N; i++) {
      const cid = id();
      const source = sources[Math.floor(random() * sources.length)]!;
      const length = 4 + Math.floor(random() * 9);
      const start = Math.floor(random() * Math.max(1, source.sentences.length - length));
      const roll = random();
      const imageOnly = roll < 0.03;
      const withImage = roll < 0.07;
      const narrative = imageOnly ? null : source.sentences.slice(start, start + length).join(" ");
      chars += narrative?.length ?? 0;
      const split = i % 10 === 0 ? "TEST" : i % 10 === 1 ? "SEED" : "POOL";
      cases.push([cid, projectId, `MT-${String(i).padStart(6, "0")}`, narrative, split, split === "POOL" ? null : source.label, batchIds[Math.floor((i * batchIds.length) / N)]]);
      if (withImage) {
        images.push([id(), cid, `images/bench/${cid}.dcm`, "application/dicom", crypto.createHash("sha256").update(cid).digest("hex"), JSON.stringify({ modality: "CT", bodyPart: "CHEST" })]);
        if (!dicomCaseId) dicomCaseId = cid;
      }
      caseIds.push(cid);
      truth.push(source.label);
    }
    say(`inserting ${N.toLocaleString("en")} cases (${(chars / 1e6).toFixed(0)} M characters of narrative)`);
    await insertRows(client, "Case", ["id", "projectId", "externalId", "narrative", "split", "importedLabel", "importBatchId"], ["text", "text", "text", "text", '"CaseSplit"', "text", "text"], cases);
    await insertRows(client, "CaseImage", ["id", "caseId", "storageKey", "mimeType", "sha256", "attributes"], ["text", "text", "text", "text", "text", "jsonb"], images);

    // Annotations: 12 % of the POOL cases; a quarter of those by a second clinician (a third of them disagreeing); 10 % re-annotated.
    const annotations: unknown[][] = [];
    const annotated: string[] = [];
    const wrong = (label: string) => LABELS[(LABELS.indexOf(label as (typeof LABELS)[number]) + 1) % LABELS.length]!;
    for (let i = 0; i < N; i++) {
      if (i % 10 < 2 || random() >= 0.12) continue;
      const cid = caseIds[i]!;
      annotated.push(cid);
      const first = Math.floor(random() * clinicianIds.length);
      const authors = random() < 0.25 ? [first, (first + 1 + Math.floor(random() * (clinicianIds.length - 1))) % clinicianIds.length] : [first];
      authors.forEach((a, k) => {
        const label = k === 1 && random() < 0.33 ? wrong(truth[i]!) : truth[i]!;
        annotations.push([id(), cid, clinicianIds[a]!, 1, "SUBMITTED", label]);
        if (random() < 0.1) annotations.push([id(), cid, clinicianIds[a]!, 2, "SUBMITTED", random() < 0.5 ? label : wrong(label)]);
      });
    }
    say(`inserting ${annotations.length.toLocaleString("en")} annotations on ${annotated.length.toLocaleString("en")} cases`);
    await insertRows(client, "Annotation", ["id", "caseId", "authorId", "version", "kind", "labels"], ["text", "text", "text", "int", '"AnnotationKind"', "text"], annotations, "u1, u2, u3, u4, u5, ARRAY[u6]");

    // 30 rounds of 100 items over the annotated cases (DONE), the last one PENDING over unlabelled ones.
    const rounds: unknown[][] = [];
    const items: unknown[][] = [];
    const annotatedSet = new Set(annotated);
    const pendingPool = caseIds.filter((cid, i) => i % 10 >= 2 && !annotatedSet.has(cid)).slice(0, 100);
    for (let r = 1; r <= 30; r++) {
      const rid = id();
      rounds.push([rid, projectId, r, r === 1 ? "cold-start" : "rads", r === 1]);
      const members = r === 30 ? pendingPool : annotated.slice((r - 1) * 100, r * 100);
      members.forEach((cid, k) => items.push([id(), rid, cid, k + 1, JSON.stringify({ bald: random() * 0.5, entropy: random(), utility: random() }), r === 30 ? "PENDING" : "DONE"]));
    }
    await insertRows(client, "SelectionRound", ["id", "projectId", "number", "strategy", "coldStart"], ["text", "text", "int", "text", "boolean"], rounds);
    await insertRows(client, "QueueItem", ["id", "roundId", "caseId", "rank", "features", "status"], ["text", "text", "text", "int", "jsonb", '"QueueItemStatus"'], items);

    say("building the search index");
    const t = performance.now();
    await client.query(indexDef);
    say(`search index built in ${((performance.now() - t) / 1000).toFixed(1)} s`);
    await client.query("VACUUM ANALYZE");
    return { projectId, scientist, clinicianIds, batchIds, dicomCaseId };
  } finally {
    await client.end();
  }
}

interface Scenario {
  name: string;
  /** Filters for run i (search terms rotate). */
  filters: (i: number) => CaseFilters;
  cursor?: string;
}

async function main() {
  const keep = args["data-dir"] ? path.resolve(args["data-dir"]) : null;
  const temp = keep ?? fs.mkdtempSync(path.join(os.tmpdir(), "rads-bench-cases-"));
  fs.mkdirSync(temp, { recursive: true });
  fs.chmodSync(temp, 0o755); // the postgres user must reach it when run as root
  const prepared = await prepareDatabase({ dataDir: path.join(temp, "pg"), embeddedPort: await freePort(), database: "rads_bench" });
  const db = createDb(prepared.url);
  const seededFile = path.join(temp, `seeded-${N}.json`);
  try {
    const t0 = performance.now();
    let seeded: Seeded;
    if (keep && fs.existsSync(seededFile)) {
      seeded = JSON.parse(fs.readFileSync(seededFile, "utf8")) as Seeded;
      say(`reusing the database seeded in ${temp}`);
    } else {
      seeded = await seed(prepared.url);
      if (keep) fs.writeFileSync(seededFile, JSON.stringify(seeded));
      say(`seeded in ${((performance.now() - t0) / 1000).toFixed(0)} s`);
    }
    const ctx = () => createServiceContext(db, seeded.scientist);
    const common = ["pain", "history", "patient", "blood pressure", "normal"];
    const specific = ["hypertension", "fracture", "seizure", "diabetes mellitus", "\"chest pain\"", "coronary artery", "headache", "knee", "abdominal pain -nausea", "lumbar"];
    const rare = ["nephrolithiasis", "sarcoidosis", "meningioma", "osteomyelitis", "diverticulitis"];
    const scenarios: Scenario[] = [
      { name: "baseline: first page, no filters", filters: () => ({}) },
      { name: "page after MT-090000 (keyset), no filters", filters: () => ({}), cursor: caseCursorAfter("MT-090000") },
      { name: "split = POOL, not labelled", filters: () => ({ split: "POOL", labelled: "no" }) },
      { name: "split = TEST, labelled", filters: () => ({ split: "TEST", labelled: "yes" }) },
      { name: "label = neuro (imported or latest annotation)", filters: () => ({ label: "neuro" }) },
      { name: "annotator = one clinician", filters: (i) => ({ annotatorId: seeded.clinicianIds[i % seeded.clinicianIds.length]! }) },
      { name: "disagreement", filters: () => ({ disagreement: true }) },
      { name: "selected in round 17", filters: () => ({ round: 17 }) },
      { name: "has images, no narrative", filters: () => ({ hasImages: true, hasNarrative: false }) },
      { name: "import batch 3, split = SEED", filters: () => ({ importBatchId: seeded.batchIds[2]!, split: "SEED" }) },
      { name: "search: common words (pain, history, …)", filters: (i) => ({ search: common[i % common.length]! }) },
      { name: "search: specific terms and phrases", filters: (i) => ({ search: specific[i % specific.length]! }) },
      { name: "search: rare terms", filters: (i) => ({ search: rare[i % rare.length]! }) },
      { name: "search + split = POOL + not labelled", filters: (i) => ({ search: specific[i % specific.length]!, split: "POOL", labelled: "no" }) },
      { name: "search + label = cardio + annotated by anyone", filters: (i) => ({ search: specific[i % specific.length]!, label: "cardio", labelled: "yes" }) },
      { name: "search, page after MT-090000", filters: (i) => ({ search: specific[i % specific.length]! }), cursor: caseCursorAfter("MT-090000") },
    ];
    const loadBefore = os.loadavg()[0]!;
    const lines = ["| query (page of 50) | matching cases | p50 ms | p95 ms | max ms |", "|---|---:|---:|---:|---:|"];
    let baselineP95 = 0;
    for (const scenario of scenarios) {
      const counted = await countCases(ctx(), { projectId: seeded.projectId, filters: scenario.filters(0) });
      const times: number[] = [];
      for (let i = -3; i < RUNS; i++) {
        const t = performance.now();
        const page = await listCases(ctx(), { projectId: seeded.projectId, filters: scenario.filters(Math.max(0, i)), cursor: scenario.cursor ?? null, limit: 50 });
        const ms = performance.now() - t;
        if (i >= 0) times.push(ms);
        if (i <= 0 && page.rows.length === 0 && counted.count > 0 && !scenario.cursor) throw new Error(`${scenario.name}: an empty page although ${counted.count} cases match`);
      }
      if (args.explain) {
        // The page query's plan (the query listCasePage runs; the cursor decoded as the service does).
        const after = scenario.cursor ? (JSON.parse(Buffer.from(scenario.cursor, "base64url").toString("utf8")) as { after: string }).after : null;
        const sql = casePageQuery(seeded.projectId, scenario.filters(0), after, 51);
        const client = new pg.Client({ connectionString: prepared.url });
        await client.connect();
        const plan = await client.query<{ "QUERY PLAN": string }>(`EXPLAIN (ANALYZE, BUFFERS) ${sql.text}`, sql.values as unknown[]);
        await client.end();
        say(`plan of "${scenario.name}":\n${plan.rows.map((r) => r["QUERY PLAN"]).join("\n")}`);
      }
      const p95 = quantile(times, 0.95);
      if (scenario === scenarios[0]) baselineP95 = p95;
      const matching = `${counted.atLeast ? "> " : ""}${counted.count.toLocaleString("en")}`;
      lines.push(`| ${scenario.name} | ${matching} | ${quantile(times, 0.5).toFixed(1)} | ${p95.toFixed(1)} | ${Math.max(...times).toFixed(1)} |`);
      say(`${scenario.name}: p95 ${p95.toFixed(1)} ms`);
    }
    const detail: number[] = [];
    for (let i = -3; i < RUNS; i++) {
      const t = performance.now();
      await getCaseDetail(ctx(), { projectId: seeded.projectId, caseId: seeded.dicomCaseId });
      if (i >= 0) detail.push(performance.now() - t);
    }
    lines.push(`| open one case (detail view, audited) | 1 | ${quantile(detail, 0.5).toFixed(1)} | ${quantile(detail, 0.95).toFixed(1)} | ${Math.max(...detail).toFixed(1)} |`);
    const cpu = os.cpus();
    const loadAfter = os.loadavg()[0]!;
    process.stdout.write(
      `\nCase browser, ${N.toLocaleString("en")} cases (${RUNS} calls per row after 3 warm-ups; service call incl. access check and audit event; embedded PostgreSQL; ${cpu.length} CPU cores, ${cpu[0]?.model ?? "unknown CPU"}; Node ${process.version}; 1-minute load average ${loadBefore.toFixed(1)} before and ${loadAfter.toFixed(1)} after the measurements). Baseline p95 ${baselineP95.toFixed(1)} ms.\n\n${lines.join("\n")}\n`,
    );
  } finally {
    await db.$disconnect();
    await prepared.embedded?.stop();
    if (!keep) fs.rmSync(temp, { recursive: true, force: true });
  }
}

main().catch((error) => {
  process.stderr.write(`error: ${(error as Error).stack ?? (error as Error).message}\n`);
  process.exit(1);
});
