/**
 * Imports cases into a project from files and folders, through the same service as the upload page
 * (all-or-nothing, audited as a system action or as --as <email>); the command itself is
 * scripts/lib/import-command.ts.
 *
 *   npm run import -- --project <id|name> [--id-col C] [--text-col C] [--label-col C] [--split-col C]
 *                     [--file-col C] [--metadata-cols a,b] [--duplicate-images ask|skip|import]
 *                     [--as email] <files or folders…>
 *
 * Database: DATABASE_URL, else the running platform's embedded database, else the embedded one in
 * .data started for the command (scripts/lib/cli-db.ts). Exit code 1 when the batch is rejected.
 */
import path from "node:path";
import { openCliDatabase } from "./lib/cli-db";
import { importCommand } from "./lib/import-command";
import { runCli } from "./lib/run-cli";

// The service logs JSON lines for the server's log collector; a terminal wants only the report.
process.env.LOG_LEVEL ??= "warn";
const root = path.resolve(import.meta.dirname, "..");

runCli(() => importCommand(process.argv.slice(2), { open: () => openCliDatabase(root), write: (text) => process.stdout.write(text) }));
