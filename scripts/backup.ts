/**
 * Backs up the platform: every table (logical dump, one JSONL file per table), the migration
 * state, the sequences and the storage folder, with a manifest of sha256 checksums.
 *
 *   npm run backup -- --out <new folder>
 *
 * Database and storage as for `npm run import`: DATABASE_URL, else the running platform's embedded
 * database, else the embedded one in DATA_DIR; files from STORAGE_DIR (default DATA_DIR/storage).
 * The tables are read in one consistent snapshot, so the platform may keep running.
 */
import path from "node:path";
import { backupPlatform } from "../server/platform/backup";
import { parseFlags } from "./lib/cli-actor";
import { openCliDatabase } from "./lib/cli-db";
import { runCli } from "./lib/run-cli";

process.env.LOG_LEVEL ??= "warn";
const root = path.resolve(import.meta.dirname, "..");

async function main(): Promise<number> {
  const { flags, positional } = parseFlags(process.argv.slice(2), ["out"], []);
  if (positional.length) throw new Error(`unexpected argument ${positional[0]}`);
  const out = flags.get("out");
  if (!out) throw new Error("--out <folder> is required (a new or empty folder)");
  const cli = await openCliDatabase(root);
  try {
    process.stderr.write(`using ${cli.description}, storage ${cli.storageDir}\n`);
    const started = Date.now();
    const result = await backupPlatform(cli.url, cli.storageDir, path.resolve(out));
    const tables = result.manifest.tables.filter((t) => t.rows > 0).map((t) => `${t.name} ${t.rows}`).join(", ");
    process.stderr.write(
      `backed up ${result.rows} row(s) in ${result.manifest.tables.length} tables (${tables || "all empty"}) and ` +
        `${result.manifest.files.length} file(s), ${(result.bytes / 1024 / 1024).toFixed(1)} MiB, to ${out} in ${((Date.now() - started) / 1000).toFixed(1)} s\n`,
    );
    return 0;
  } finally {
    await cli.close();
  }
}

runCli(main);
