/**
 * Imports cases into a project from files and folders, through the same service as the upload page
 * (all-or-nothing, audited as a system action or as --as <email>).
 *
 *   npm run import -- --project <id|name> [--id-col C] [--text-col C] [--label-col C] [--split-col C]
 *                     [--file-col C] [--metadata-cols a,b] [--as email] <files or folders…>
 *
 * Database: DATABASE_URL, else the running platform's embedded database, else the embedded one in
 * .data started for the command (scripts/lib/cli-db.ts). Exit code 1 when the batch is rejected.
 */
import fs from "node:fs";
import path from "node:path";
import type { InputFile } from "../server/import/plan";
import { createServiceContext } from "../server/services/context";
import { importCases } from "../server/services/import-service";
import { parseFlags, resolveCliActor, resolveCliProject } from "./lib/cli-actor";
import { formatTable, openCliDatabase } from "./lib/cli-db";
import { runCli } from "./lib/run-cli";

// The service logs JSON lines for the server's log collector; a terminal wants only the table.
process.env.LOG_LEVEL ??= "warn";
const root = path.resolve(import.meta.dirname, "..");
const USAGE = "usage: npm run import -- --project <id|name> [--id-col C] [--text-col C] [--label-col C] [--split-col C] [--file-col C] [--metadata-cols a,b] [--as email] <files or folders…>";

/** Files under `arg` (recursively for a folder), named relative to the folder's parent. */
function collect(arg: string): InputFile[] {
  const full = path.resolve(arg);
  const stat = fs.statSync(full, { throwIfNoEntry: false });
  if (!stat) throw new Error(`${arg}: no such file or folder`);
  if (stat.isFile()) return [{ name: path.basename(full), bytes: new Uint8Array(fs.readFileSync(full)) }];
  const out: InputFile[] = [];
  const walk = (dir: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort((a, b) => a.name.localeCompare(b.name))) {
      const child = path.join(dir, entry.name);
      // Symlinks are not followed: a folder import reads what is in the folder, nothing else.
      if (entry.isSymbolicLink()) continue;
      if (entry.isDirectory()) walk(child);
      else if (entry.isFile()) out.push({ name: path.relative(path.dirname(full), child).split(path.sep).join("/"), bytes: new Uint8Array(fs.readFileSync(child)) });
    }
  };
  walk(full);
  return out;
}

async function main(): Promise<number> {
  const { flags, positional } = parseFlags(process.argv.slice(2), ["project", "id-col", "text-col", "label-col", "split-col", "file-col", "metadata-cols", "as"], []);
  if (positional.length === 0) throw new Error(`no files given\n${USAGE}`);
  const files = positional.flatMap(collect);
  const cli = await openCliDatabase(root);
  try {
    process.stdout.write(`using ${cli.description}\n`);
    const project = await resolveCliProject(cli.db, flags.get("project"));
    const actor = await resolveCliActor(cli.db, flags.get("as"));
    const ctx = createServiceContext(cli.db, actor);
    const mapping = {
      idCol: flags.get("id-col"),
      textCol: flags.get("text-col"),
      labelCol: flags.get("label-col"),
      splitCol: flags.get("split-col"),
      fileCol: flags.get("file-col"),
      metadataCols: flags.get("metadata-cols")?.split(",").map((c) => c.trim()).filter(Boolean),
    };
    const started = Date.now();
    const result = await importCases(ctx, { projectId: project.id, files, mapping, via: "cli" }, { blobs: cli.blobs, system: actor === null });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (result.status === "imported") {
      const c = result.counts;
      process.stdout.write(`\nImported into "${project.name}" (batch ${result.batchId}, ${seconds} s):\n\n`);
      process.stdout.write(
        formatTable(["what", "count"], [
          ["files read", String(c.files)],
          ["cases", String(c.cases)],
          ["  with a narrative", String(c.narratives)],
          ["  POOL / TEST / SEED", `${c.bySplit.POOL} / ${c.bySplit.TEST} / ${c.bySplit.SEED}`],
          ["images", String(c.images)],
          ["  DICOM", String(c.dicom)],
          ["  PNG/JPEG", String(c.raster)],
          ["duplicate images skipped", String(c.duplicateImagesSkipped)],
        ]) + "\n",
      );
      return 0;
    }
    if (result.status === "already-imported") {
      process.stdout.write(`\nAlready imported: these files (with this column mapping) are batch ${result.batchId} of ${result.importedAt} (${result.caseCount} cases). Nothing was written.\n`);
      return 0;
    }
    process.stdout.write(`\nREJECTED — nothing was imported. ${result.issues.length} problem(s):\n\n`);
    process.stdout.write(formatTable(["file", "line", "field", "problem"], result.issues.map((i) => [i.file, i.line ? String(i.line) : "", i.field ?? "", i.message])) + "\n");
    return 1;
  } finally {
    await cli.close();
  }
}

runCli(main);
