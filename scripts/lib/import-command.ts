/**
 * The `npm run import` command (scripts/import.ts runs it on the CLI database and stdout): imports
 * cases into a project from files and folders through the same service as the upload page
 * (all-or-nothing, audited as a system action or as --as <email>).
 *
 *   npm run import -- --project <id|name> [--id-col C] [--text-col C] [--label-col C] [--split-col C]
 *                     [--file-col C] [--metadata-cols a,b] [--duplicate-images ask|skip|import]
 *                     [--narrative-identifiers mask|keep]
 *                     [--as email] <files or folders…>
 *
 * A rejected batch's problems are printed grouped by cause (count, first lines), as the upload page
 * shows them. --duplicate-images: images already in the project are refused by default ("ask");
 * "skip" leaves them out, "import" imports them again.
 */
import fs from "node:fs";
import path from "node:path";
import type { Db } from "../../server/db/client";
import { issueText } from "../../server/import/issues";
import type { InputFile } from "../../server/import/plan";
import { createServiceContext } from "../../server/services/context";
import { importCases } from "../../server/services/import-service";
import type { BlobStore } from "../../server/storage/blob-store";
import { parseFlags, resolveCliActor, resolveCliProject } from "./cli-actor";
import { formatTable } from "./cli-db";

export const USAGE = "usage: npm run import -- --project <id|name> [--id-col C] [--text-col C] [--label-col C] [--split-col C] [--file-col C] [--metadata-cols a,b] [--duplicate-images ask|skip|import] [--narrative-identifiers mask|keep] [--as email] <files or folders…>";

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

/** Where the command runs: its database and blob store, and where its report goes. */
export interface ImportCommandIo {
  /** Opened after the arguments are checked (a usage error touches no database). */
  open(): Promise<{ db: Db; blobs: BlobStore; description: string; close(): Promise<void> }>;
  write(text: string): void;
}

/**
 * The `npm run import` command without the process around it (scripts/import.ts supplies the
 * database and stdout; tests supply theirs): the exit code, 0 imported or already imported, 1 rejected.
 * @throws Error for a usage mistake (unknown project, no files, a bad flag value).
 */
export async function importCommand(argv: string[], io: ImportCommandIo): Promise<number> {
  const { flags, positional } = parseFlags(argv, ["project", "id-col", "text-col", "label-col", "split-col", "file-col", "metadata-cols", "duplicate-images", "narrative-identifiers", "as"], []);
  if (positional.length === 0) throw new Error(`no files given\n${USAGE}`);
  const duplicateImages = flags.get("duplicate-images") ?? "ask";
  if (duplicateImages !== "ask" && duplicateImages !== "skip" && duplicateImages !== "import") throw new Error(`--duplicate-images must be ask, skip or import\n${USAGE}`);
  // Narratives with likely identifiers (server/import/narrative-identifiers.ts): refused unless the user chooses.
  const identifiersFlag = flags.get("narrative-identifiers");
  if (identifiersFlag !== undefined && identifiersFlag !== "mask" && identifiersFlag !== "keep") throw new Error(`--narrative-identifiers must be mask or keep\n${USAGE}`);
  const narrativeIdentifiers = identifiersFlag as "mask" | "keep" | undefined;
  const files = positional.flatMap(collect);
  const cli = await io.open();
  try {
    io.write(`using ${cli.description}\n`);
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
      narrativeIdentifiers,
    };
    const started = Date.now();
    const result = await importCases(ctx, { projectId: project.id, files, mapping, via: "cli", duplicateImages }, { blobs: cli.blobs, system: actor === null });
    const seconds = ((Date.now() - started) / 1000).toFixed(1);
    if (result.status === "imported") {
      const c = result.counts;
      io.write(`\nImported into "${project.name}" (batch ${result.batchId}, ${seconds} s):\n\n`);
      io.write(
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
      if (result.contentWarning) io.write(`\nImported all the same: ${result.contentWarning}\n`);
      return 0;
    }
    if (result.status === "already-imported") {
      io.write(`\nAlready imported: these files (with this column mapping) are batch ${result.batchId} of ${result.importedAt} (${result.caseCount} cases). Nothing was written.\n`);
      return 0;
    }
    io.write(`\nREJECTED — nothing was imported. ${result.issueCount} problem(s) of ${result.groups.length} kind(s):\n`);
    for (const group of result.groups) {
      io.write(`\n${group.count} × ${group.cause}\n`);
      for (const issue of group.examples) io.write(`    ${issueText(issue)}\n`);
      if (group.count > group.examples.length) io.write(`    … and ${group.count - group.examples.length} more\n`);
    }
    if (result.duplicateImages?.length) io.write("\nRun again with --duplicate-images skip (leave them out) or --duplicate-images import (import them again).\n");
    if (result.identifiers) {
      const kinds = Object.entries(result.identifiers.totals.byKind).map(([kind, n]) => `${n} ${kind}`).join(", ");
      io.write(`\n${result.identifiers.totals.rows} narrative(s) hold likely identifiers (${kinds}). Run again with --narrative-identifiers mask (import them masked) or --narrative-identifiers keep (import as written; audited).\n`);
    }
    return 1;
  } finally {
    await cli.close();
  }
}

