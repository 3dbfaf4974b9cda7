/**
 * De-identifies the DICOM images stored before de-identification on import existed (issue 12,
 * fault 6): every project that does not keep patient identifiers gets its stored DICOM files
 * rewritten as a new import would write them (server/services/deidentify-service.ts). Idempotent;
 * audited per project with counts. The worker runs the same pass when it starts
 * (workers/jobs/deidentify-stored.ts); this command does it without a worker, and says what it did.
 *
 *   npm run deidentify:stored
 *
 * Database and storage as for `npm run import` (DATABASE_URL or the embedded database; STORAGE_DIR).
 */
import path from "node:path";
import { createServiceContext } from "../server/services/context";
import { deidentifyStoredImages } from "../server/services/deidentify-service";
import { openCliDatabase } from "./lib/cli-db";
import { runCli } from "./lib/run-cli";

process.env.LOG_LEVEL ??= "warn";
const root = path.resolve(import.meta.dirname, "..");

async function main(): Promise<number> {
  if (process.argv.length > 2) throw new Error("usage: npm run deidentify:stored (no arguments)");
  const cli = await openCliDatabase(root);
  try {
    process.stderr.write(`using ${cli.description}, storage ${cli.storageDir}\n`);
    const results = await deidentifyStoredImages(createServiceContext(cli.db, null), cli.blobs);
    for (const r of results) {
      process.stdout.write(
        r.keepsIdentifiers
          ? `${r.projectId}: keeps patient identifiers (setting), nothing changed\n`
          : `${r.projectId}: ${r.deidentified} image(s) de-identified now, ${r.skipped} already, ${r.failed} could not be rewritten\n`,
      );
    }
    return results.some((r) => r.failed > 0) ? 1 : 0;
  } finally {
    await cli.close();
  }
}

runCli(main);
