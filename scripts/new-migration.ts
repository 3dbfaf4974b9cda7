/**
 * Writes the SQL that takes the checked-in migrations to the current prisma/schema.prisma into
 * prisma/migrations/<NNNN>_<name>/migration.sql. Prisma's own `migrate dev` needs native engines
 * that cannot be downloaded here, so we let `prisma migrate diff` (WebAssembly) compute the SQL
 * against a throw-away embedded PostgreSQL used as the shadow database.
 *   npm run db:migration -- <name>
 */
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { startEmbeddedPostgres } from "../server/db/embedded-postgres";
import { exitOnStartupError } from "../server/startup-error";

const name = process.argv[2];
if (!name || !/^[a-z0-9_]+$/.test(name)) {
  console.error("usage: npm run db:migration -- <name in lower_snake_case>");
  process.exit(2);
}
const migrationsDir = path.resolve("prisma/migrations");
const existing = fs.existsSync(migrationsDir) ? fs.readdirSync(migrationsDir).filter((d) => /^\d{4}_/.test(d)).sort() : [];
// The next number after the highest in use (numbers were skipped: 0008, 0010–0013), not the count plus one.
const next = String(Math.max(0, ...existing.map((dir) => Number(dir.slice(0, 4)))) + 1).padStart(4, "0");

const shadowDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-shadow-"));
fs.chmodSync(shadowDir, 0o755);
const db = await startEmbeddedPostgres({ dataDir: path.join(shadowDir, "pg"), port: 54390, database: "shadow" }).catch(exitOnStartupError);
try {
  const snapshot = [...existing].reverse().map((dir) => path.join(migrationsDir, dir, "schema.snapshot.prisma")).find((file) => fs.existsSync(file));
  const from = snapshot ? ["--from-schema-datamodel", snapshot] : ["--from-empty"];
  const sql = execFileSync(
    "npx",
    ["prisma", "migrate", "diff", ...from, "--to-schema-datamodel", "prisma/schema.prisma", "--script"],
    { env: { ...process.env, DATABASE_URL: db.url }, encoding: "utf8", stdio: ["ignore", "pipe", "inherit"] },
  );
  if (!/\b(CREATE|ALTER|DROP)\b/.test(sql)) {
    console.log("The schema matches the migrations: nothing to write.");
  } else {
    const dir = path.join(migrationsDir, `${next}_${name}`);
    fs.mkdirSync(dir, { recursive: true });
    fs.writeFileSync(path.join(dir, "migration.sql"), sql);
    fs.copyFileSync("prisma/schema.prisma", path.join(dir, "schema.snapshot.prisma"));
    console.log(`Wrote ${path.relative(process.cwd(), dir)}/migration.sql`);
  }
} finally {
  await db.stop();
  fs.rmSync(shadowDir, { recursive: true, force: true });
}
