/**
 * Restores a backup written by `npm run backup` into a FRESH instance and verifies it.
 *
 *   npm run restore -- --from <backup folder> [--force]
 *
 * Target database and storage as for `npm run import` (DATABASE_URL, else the embedded database in
 * DATA_DIR — a new DATA_DIR gives a fresh one). Every file of the backup is checked against the
 * manifest first; the database is migrated, must be at the backup's migrations, and must be empty
 * (and the storage folder too) unless --force, which replaces their contents. Rows go in within
 * one transaction; the copied files are checked against their sha256 afterwards. Stop the
 * platform (web and worker) before restoring over a running instance.
 */
import path from "node:path";
import { restorePlatform } from "../server/platform/backup";
import { parseFlags } from "./lib/cli-actor";
import { openCliDatabase } from "./lib/cli-db";
import { runCli } from "./lib/run-cli";

process.env.LOG_LEVEL ??= "warn";
const root = path.resolve(import.meta.dirname, "..");

async function main(): Promise<number> {
  const { flags, bools, positional } = parseFlags(process.argv.slice(2), ["from"], ["force"]);
  if (positional.length) throw new Error(`unexpected argument ${positional[0]}`);
  const from = flags.get("from");
  if (!from) throw new Error("--from <backup folder> is required");
  const cli = await openCliDatabase(root);
  try {
    process.stderr.write(`restoring into ${cli.description}, storage ${cli.storageDir}\n`);
    const started = Date.now();
    const result = await restorePlatform(cli.url, cli.storageDir, path.resolve(from), { force: bools.has("force") });
    process.stderr.write(`restored ${result.rows} row(s) and ${result.files} file(s) (checksums verified) in ${((Date.now() - started) / 1000).toFixed(1)} s\n`);
    return 0;
  } finally {
    await cli.close();
  }
}

runCli(main);
