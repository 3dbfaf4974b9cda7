/**
 * Applies prisma/migrations/<NNNN>_<name>/migration.sql in order, each in its own transaction,
 * and records it in "_app_migrations" with a checksum. `npm start`, the tests and CI all call
 * this one function, so every database is built the same way. An advisory lock makes concurrent
 * callers (web, worker, several machines) wait for each other instead of racing.
 */
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import pg from "pg";

const MIGRATIONS_DIR = path.resolve(import.meta.dirname, "../../prisma/migrations");
const LOCK_KEY = 727_001;

export interface MigrationResult {
  applied: string[];
  alreadyApplied: number;
}

function listMigrations(): { name: string; sql: string; checksum: string }[] {
  return fs
    .readdirSync(MIGRATIONS_DIR)
    .filter((entry) => /^\d{4}_[a-z0-9_]+$/.test(entry))
    .sort()
    .map((name) => {
      const sql = fs.readFileSync(path.join(MIGRATIONS_DIR, name, "migration.sql"), "utf8");
      return { name, sql, checksum: crypto.createHash("sha256").update(sql).digest("hex") };
    });
}

export async function migrateDatabase(databaseUrl: string): Promise<MigrationResult> {
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  try {
    await client.query("SELECT pg_advisory_lock($1)", [LOCK_KEY]);
    await client.query(
      `CREATE TABLE IF NOT EXISTS "_app_migrations" (name text PRIMARY KEY, checksum text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())`,
    );
    const done = new Map(
      (await client.query<{ name: string; checksum: string }>(`SELECT name, checksum FROM "_app_migrations"`)).rows.map((r) => [r.name, r.checksum]),
    );
    const applied: string[] = [];
    for (const migration of listMigrations()) {
      const recorded = done.get(migration.name);
      if (recorded !== undefined) {
        if (recorded !== migration.checksum) {
          throw new Error(`Migration ${migration.name} was changed after it was applied (checksum differs). Add a new migration instead of editing an applied one.`);
        }
        continue;
      }
      await client.query("BEGIN");
      try {
        await client.query(migration.sql);
        await client.query(`INSERT INTO "_app_migrations"(name, checksum) VALUES ($1, $2)`, [migration.name, migration.checksum]);
        await client.query("COMMIT");
      } catch (error) {
        await client.query("ROLLBACK");
        throw new Error(`Migration ${migration.name} failed: ${(error as Error).message}`);
      }
      applied.push(migration.name);
    }
    return { applied, alreadyApplied: done.size };
  } finally {
    await client.query("SELECT pg_advisory_unlock($1)", [LOCK_KEY]).catch(() => undefined);
    await client.end();
  }
}
