/**
 * The clinician's read calls other than lease and submit (issue 16, goal 1), in-process against the
 * services: the queue list (`queue.project`), the prefetch list (`queue.upcoming`), the queue overview
 * (`queue.mine`) and the image bytes (`/api/images/[id]`'s service) on raw SQL (queue-read-service.ts,
 * image-service.ts). The queue list three ways in the same run, interleaved: the whole round as it was before it
 * was paged (scripts/lib/queue-list-whole-round.ts), and the paged answer the workspace asks for (first page of 50
 * with the case on screen), and a page deep in the round (offset 3,000). The Prisma reads these replaced are gone
 * (their figures beside the raw ones: docs/benchmarks.md). A benchmark, not a test.
 *
 *   npx tsx scripts/bench-queue-reads.ts [--cases 10000] [--items 6000] [--calls 20] [--rounds 3]
 *
 * Setup: an embedded PostgreSQL with pg_stat_statements, one project of `--cases` cases (every 10th
 * with a real chest X-ray JPEG from ../shared/data, annotationsPerCase 3, gold rate 0.1 with 30 gold
 * cases, a stored prediction per case shown to clinicians), an earlier round of 2,000 items and the latest
 * round of `--items` items, 50 clinicians of whom 40 each leased and submitted 15 cases and hold one
 * open lease (the measured clinician holds gold servings and leases too).
 * Per call kind and implementation, each round: pg_stat_statements reset, `--calls` calls one after the
 * other; reported: median and p95 wall ms, statements per call (round trips counted on the pool),
 * PostgreSQL execution ms per call (pg_stat_statements), web-process CPU ms per call (process.cpuUsage),
 * the statements that cost most, and each queue list answer's size in bytes of JSON. Image reads are each a first read of the (user, image) pair, as in
 * the soak (every lease is a new case), so each writes its audit event.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { createDb, type Db } from "../server/db/client";
import { observeStatements } from "../server/db/statement-observer";
import { freePort } from "../server/db/embedded-postgres";
import { insertFixtureCases, insertFixtureImages, insertFixtureProject, insertFixtureUsers, listFixtureCases } from "../server/db/fixtures-repo";
import { prepareDatabase } from "../server/platform/database";
import { submitAnnotation } from "../server/services/annotation-service";
import { createServiceContext, type Actor } from "../server/services/context";
import { readImageForMember } from "../server/services/image-service";
import { myQueues, projectQueue, upcoming } from "../server/services/queue-read-service";
import { leaseNext } from "../server/services/queue-service";
import { writeSelectionRound } from "../server/services/selection-rounds";
import { contentKey, createLocalBlobStore } from "../server/storage/blob-store";
import { quantile } from "./lib/api-client";
import { wholeRoundQueue } from "./lib/queue-list-whole-round";

const { values: args } = parseArgs({
  options: {
    cases: { type: "string", default: "10000" },
    items: { type: "string", default: "6000" },
    calls: { type: "string", default: "20" },
    rounds: { type: "string", default: "3" },
    only: { type: "string" },
    explain: { type: "boolean", default: false },
    /** Leave the database running after the run (prints its admin URL; the script waits until interrupted) to try statements by hand. */
    keep: { type: "boolean", default: false },
  },
});
const CASES = Number(args.cases);
const ITEMS = Number(args.items);
const CALLS = Number(args.calls);
const ROUNDS = Number(args.rounds);
const root = path.resolve(import.meta.dirname, "..");
const SHARED = path.resolve(root, "../shared/data");
const say = (s: string) => console.log(`[${new Date().toISOString().slice(11, 19)}] ${s}`);

/** One call kind: old and (where it exists) new implementation, each given the call's index. */
interface Call {
  name: string;
  impls: Record<string, (i: number) => Promise<unknown>>;
}

let trips = 0;
/** With --explain: the statements sent while `capturing`. */
let capturing: { text: string; values: unknown[] }[] | null = null;
function countRoundTrips(db: Db): void {
  observeStatements(db, (a) => {
    trips += 1;
    const config = a[0] as { text?: string; values?: unknown[] } | string;
    if (capturing) capturing.push(typeof config === "string" ? { text: config, values: (a[1] as unknown[]) ?? [] } : { text: config.text ?? "", values: config.values ?? [] });
  });
}

async function main() {
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rads-queue-reads-"));
  fs.chmodSync(temp, 0o755);
  const pgOptions = { dataDir: path.join(temp, "pg"), embeddedPort: await freePort(), database: "rads_queue_reads" };
  let database = await prepareDatabase(pgOptions);
  {
    const admin = new pg.Client({ connectionString: database.embedded!.adminUrl });
    await admin.connect();
    await admin.query("ALTER SYSTEM SET shared_preload_libraries = 'pg_stat_statements'");
    await admin.end();
    await database.embedded!.stop();
    database = await prepareDatabase(pgOptions);
  }
  const admin = new pg.Client({ connectionString: database.embedded!.adminUrl });
  await admin.connect();
  await admin.query("CREATE EXTENSION IF NOT EXISTS pg_stat_statements");
  // The services read their environment (the image check of a submit opens the blob store).
  Object.assign(process.env, { DATABASE_URL: database.url, STORAGE_DIR: path.join(temp, "storage"), NEXTAUTH_SECRET: crypto.randomBytes(32).toString("base64url"), NEXTAUTH_URL: "http://127.0.0.1", LOG_LEVEL: "warn" });
  const db = createDb(database.url);
  try {
    say(`seeding ${CASES} cases, rounds of 2,000 and ${ITEMS} items…`);
    const users = await insertFixtureUsers(
      db,
      Array.from({ length: 50 }, (_, i) => ({ email: `reads-${String(i).padStart(2, "0")}@bench.local`, name: `Clinician ${i}`, role: "CLINICIAN" as const, passwordHash: null })),
    );
    const actors: Actor[] = users.map((u, i) => ({ id: u.id, email: u.email, name: `Clinician ${i}`, role: "CLINICIAN" }));
    const project = await insertFixtureProject(db, {
      name: "Queue reads",
      labelSchema: { labels: [{ key: "normal", name: "Normal", shortcut: "1" }, { key: "abnormal", name: "Abnormal", shortcut: "2" }], multiLabel: false },
      minorityClasses: ["abnormal"],
      selectionParams: { strategy: "rads", budget: ITEMS },
      encoderConfig: { kind: "builtin", dim: 384 },
      settings: { annotationsPerCase: 3, leaseMinutes: 30, goldRate: 0.1, showPredictions: true },
      memberIds: users.map((u) => u.id),
    });
    const projectId = project.id;
    await insertFixtureCases(db, Array.from({ length: CASES }, (_, i) => ({ projectId, externalId: `c-${i}`, narrative: `FINDINGS: case ${i}.\n\nIMPRESSION: unremarkable.`, split: "POOL" as const, importedLabel: null })));
    const cases = (await listFixtureCases(db, projectId)).sort((a, b) => Number(a.externalId.slice(2)) - Number(b.externalId.slice(2)));
    // Images: every 10th case, real JPEG bytes.
    const store = createLocalBlobStore(path.join(temp, "storage"));
    const jpegDir = path.join(SHARED, "images/covid_chestxray/images");
    const jpegs = fs.readdirSync(jpegDir).filter((f) => f.endsWith(".jpg")).sort().slice(0, 20);
    const imageRows = [];
    for (let i = 0; i < cases.length; i += 10) {
      const bytes = new Uint8Array(fs.readFileSync(path.join(jpegDir, jpegs[(i / 10) % jpegs.length]!)));
      const key = contentKey("images", bytes, ".jpg");
      if (!(await store.exists(key))) await store.put(key, bytes);
      imageRows.push({ caseId: cases[i]!.id, storageKey: key, mimeType: "image/jpeg", sha256: crypto.createHash("sha256").update(bytes).digest("hex"), frames: 1, attributes: {} });
    }
    await insertFixtureImages(db, imageRows);
    // A model with a stored prediction per case (the queue's reasons read them).
    const [model] = await admin.query<{ id: string }>(
      `INSERT INTO "ModelVersion" (id, "projectId", version, status, "encoderVersion") VALUES ('bench-model', $1, 1, 'APPROVED', 'builtin') RETURNING id`,
      [projectId],
    ).then((r) => r.rows);
    await admin.query(
      `INSERT INTO "Prediction" ("modelVersionId", "caseId", probabilities, "predictedLabel", confidence)
       SELECT $2, c.id, jsonb_build_array(0.7, 0.3), 'normal', 0.7 FROM "Case" c WHERE c."projectId" = $1`,
      [projectId, model!.id],
    );
    // Gold cases beyond both rounds.
    await admin.query(
      `INSERT INTO "GoldCase" ("caseId", "projectId", labels, source, "markedAt") SELECT id, $1, ARRAY['abnormal'], 'imported', now() FROM "Case" WHERE id = ANY($2::text[])`,
      [projectId, cases.slice(CASES - 30).map((c) => c.id)],
    );
    const features = (i: number) => ({ score: 1 - i / ITEMS, pseudoLabelKey: i % 5 === 0 ? "abnormal" : "normal", rareProbability: 0.3 });
    await writeSelectionRound(db, { projectId, strategy: "rads", coldStart: false, modelVersionId: model!.id, params: {}, stats: {}, items: cases.slice(0, 2000).map((c, i) => ({ caseId: c.id, rank: i + 1, features: features(i) })) });
    await writeSelectionRound(db, { projectId, strategy: "rads", coldStart: false, modelVersionId: model!.id, params: {}, stats: {}, items: cases.slice(2000, 2000 + ITEMS).map((c, i) => ({ caseId: c.id, rank: i + 1, features: features(i) })) });
    // 40 clinicians lease and submit 15 cases each, then hold one open lease; the measured clinician (0) too.
    const ctxOf = (a: Actor) => createServiceContext(db, a);
    for (let k = 0; k < 15; k++) {
      await Promise.all(
        actors.slice(0, 40).map(async (a) => {
          const lease = await leaseNext(ctxOf(a), { projectId });
          if (lease) await submitAnnotation(ctxOf(a), { caseId: lease.caseId, expectedVersion: 0, content: { labels: ["normal"], spans: [], uncertain: false, comment: "" }, timeSpentMs: 1000 });
        }),
      );
    }
    await Promise.all(actors.slice(0, 40).map((a) => leaseNext(ctxOf(a), { projectId })));
    await admin.query("ANALYZE");
    const me = actors[0]!;
    const images = imageRows.length;
    const imageIds = (await admin.query<{ id: string }>(`SELECT id FROM "CaseImage" ORDER BY id`)).rows.map((r) => r.id);
    let imageCall = 0;
    const reader = actors.slice(1);
    const nextImage = () => {
      // A first read of a (user, image) pair each time, as in the soak.
      const n = imageCall++;
      return { actor: reader[n % reader.length]!, imageId: imageIds[Math.floor(n / reader.length) % images]! };
    };

    // The measured clinician's case on screen: their open lease (resumed).
    const onScreen = (await leaseNext(ctxOf(me), { projectId }))!.caseId;
    const queueList: Record<string, () => Promise<unknown>> = {
      "whole round (before)": () => wholeRoundQueue(ctxOf(me), { projectId }),
      "page 1 of 50 + case on screen": () => projectQueue(ctxOf(me), { projectId, caseId: onScreen }),
      "page at 3,000 + case on screen": () => projectQueue(ctxOf(me), { projectId, caseId: onScreen, itemsOffset: 3000 }),
    };
    const calls: Call[] = [
      { name: "queue.project", impls: queueList },
      { name: "queue.upcoming", impls: { new: () => upcoming(ctxOf(me), { projectId }) } },
      { name: "queue.mine", impls: { new: () => myQueues(ctxOf(me)) } },
      {
        name: "image bytes",
        impls: {
          new: () => {
            const { actor, imageId } = nextImage();
            return readImageForMember(db, actor, imageId, store);
          },
        },
      },
    ].filter((c) => !args.only || args.only.split(",").includes(c.name));
    countRoundTrips(db);
    type Result = { ms: number[]; trips: number[]; cpu: number[]; dbMs: number[]; top: Map<string, { calls: number; ms: number }> };
    const results = new Map<string, Result>();
    // Warm-up: every path once.
    for (const call of calls) for (const impl of Object.values(call.impls)) await impl(0);
    if (args.explain) {
      for (const call of calls) {
        for (const [implName, impl] of Object.entries(call.impls)) {
          capturing = [];
          await impl(0);
          const sent = capturing;
          capturing = null;
          for (const statement of sent) {
            if (!/^\s*(SELECT|WITH)/i.test(statement.text)) continue;
            const plan = await admin.query<{ "QUERY PLAN": string }>({ text: `EXPLAIN (ANALYZE, BUFFERS) ${statement.text}`, values: statement.values });
            console.log(`\n--- ${call.name} — ${implName}: ${statement.text.replace(/\s+/g, " ").slice(0, 100)}`);
            for (const line of plan.rows) console.log(line["QUERY PLAN"]);
          }
        }
      }
    }
    for (let round = 0; round < ROUNDS; round++) {
      for (const call of calls) {
        for (const [implName, impl] of Object.entries(call.impls)) {
          const key = `${call.name} — ${implName}`;
          const r: Result = results.get(key) ?? { ms: [], trips: [], cpu: [], dbMs: [], top: new Map() };
          results.set(key, r);
          await admin.query("SELECT pg_stat_statements_reset()");
          for (let i = 0; i < CALLS; i++) {
            const before = trips;
            const cpu0 = process.cpuUsage();
            const t0 = performance.now();
            await impl(i);
            r.ms.push(performance.now() - t0);
            const cpu = process.cpuUsage(cpu0);
            r.cpu.push((cpu.user + cpu.system) / 1000);
            r.trips.push(trips - before);
          }
          const { rows } = await admin.query<{ query: string; calls: string; ms: string }>(
            `SELECT query, calls::text, total_exec_time::text AS ms FROM pg_stat_statements
             WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database()) AND query NOT ILIKE '%pg_stat_statements%'`,
          );
          r.dbMs.push(rows.reduce((s, x) => s + Number(x.ms), 0) / CALLS);
          for (const x of rows) {
            const q = x.query.replace(/\s+/g, " ").slice(0, 110);
            const t = r.top.get(q) ?? { calls: 0, ms: 0 };
            t.calls += Number(x.calls);
            t.ms += Number(x.ms);
            r.top.set(q, t);
          }
        }
      }
    }
    if (calls.some((c) => c.name === "queue.project")) {
      for (const [name, impl] of Object.entries(queueList)) {
        const answer = Buffer.byteLength(JSON.stringify(await impl()));
        console.log(`queue.project — ${name}: answer ${answer.toLocaleString("en")} bytes of JSON (round of ${ITEMS} items)`);
      }
    }
    const load = os.loadavg().map((x) => x.toFixed(1)).join(" / ");
    console.log(`\n${CASES} cases, latest round ${ITEMS} items, ${CALLS} calls × ${ROUNDS} rounds per row; load average now ${load}\n`);
    console.log("| call — implementation | median ms | p95 ms | statements / call | DB exec ms / call (median of rounds) | CPU ms / call (median) |");
    console.log("|---|---:|---:|---:|---:|---:|");
    for (const [key, r] of results) {
      const med = (v: number[]) => quantile(v, 0.5);
      console.log(`| ${key} | ${med(r.ms).toFixed(1)} | ${quantile(r.ms, 0.95).toFixed(1)} | ${med(r.trips)} | ${med(r.dbMs).toFixed(2)} | ${med(r.cpu).toFixed(1)} |`);
    }
    for (const [key, r] of results) {
      console.log(`\n${key}: costliest statements (calls per call, exec ms per call)`);
      const n = CALLS * ROUNDS;
      for (const [q, t] of [...r.top].sort((a, b) => b[1].ms - a[1].ms).slice(0, 6)) console.log(`  ${(t.calls / n).toFixed(2)} × ${(t.ms / n).toFixed(3)} ms  ${q}`);
    }
  } finally {
    await db.$disconnect().catch(() => undefined);
    await admin.end().catch(() => undefined);
    if (args.keep) {
      console.log(`kept: ${database.embedded?.adminUrl} (data in ${temp}; stop with: pg_ctl -D ${path.join(temp, "pg")} stop)`);
    } else {
      await database.embedded?.stop();
      fs.rmSync(temp, { recursive: true, force: true });
    }
  }
}

main().then(
  // The embedded PostgreSQL's child process holds the event loop open: exit, unless --keep wants it running.
  () => {
    if (!args.keep) process.exit(0);
  },
  (error: unknown) => {
    console.error(error);
    process.exit(1);
  },
);
