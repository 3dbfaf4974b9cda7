/**
 * The database and blob store for the command-line tools (import, export).
 *
 *   DATABASE_URL set      → that database (checked and migrated like `npm start` does);
 *   otherwise, `npm start` running (the embedded port is taken) → its embedded database;
 *   otherwise             → the embedded database in DATA_DIR (.data) is started for the command
 *                           and stopped afterwards.
 * Files go where the web server reads them: STORAGE_DIR, by default DATA_DIR/storage (as in start.ts).
 */
import path from "node:path";
import { createDb, type Db } from "../../server/db/client";
import { embeddedDatabaseUrl, isPortFree } from "../../server/db/embedded-postgres";
import { checkDatabaseReachable, prepareDatabase } from "../../server/platform/database";
import { createLocalBlobStore, type BlobStore } from "../../server/storage/blob-store";

export interface CliDatabase {
  db: Db;
  blobs: BlobStore;
  /** The connection URL and storage folder themselves (backup and restore work below the Prisma client). */
  url: string;
  storageDir: string;
  /** How the database was found, for the first line of output. */
  description: string;
  close(): Promise<void>;
}

export async function openCliDatabase(root: string): Promise<CliDatabase> {
  const dataDir = path.resolve(root, process.env.DATA_DIR ?? ".data");
  const storageDir = path.resolve(root, process.env.STORAGE_DIR ?? path.join(dataDir, "storage"));
  const embeddedPort = Number(process.env.EMBEDDED_PG_PORT ?? 54329);
  let url = process.env.DATABASE_URL;
  let description: string;
  let stopEmbedded: (() => Promise<void>) | null = null;
  if (url) {
    await prepareDatabase({ databaseUrl: url, dataDir: "", embeddedPort: 0 });
    description = "the database in DATABASE_URL";
  } else if (!(await isPortFree(embeddedPort))) {
    url = embeddedDatabaseUrl(path.join(dataDir, "postgres"), embeddedPort, "rads");
    await checkDatabaseReachable(url);
    description = `the running platform's embedded database (port ${embeddedPort})`;
  } else {
    const prepared = await prepareDatabase({ dataDir: path.join(dataDir, "postgres"), embeddedPort });
    url = prepared.url;
    stopEmbedded = async () => prepared.embedded?.stop();
    description = `the embedded database in ${path.relative(root, dataDir) || dataDir} (started for this command)`;
  }
  // Services the commands call read the server environment (loadServerEnv: MODELS_DIR, STORAGE_DIR
  // and the DATABASE_URL it requires); the database and storage found here are the ones they must use.
  process.env.DATABASE_URL = url;
  process.env.STORAGE_DIR ??= storageDir;
  const db = createDb(url);
  return {
    db,
    blobs: createLocalBlobStore(storageDir),
    url,
    storageDir,
    description,
    async close() {
      await db.$disconnect();
      await stopEmbedded?.();
    },
  };
}

/** Plain-text table with aligned columns. */
export function formatTable(header: string[], rows: string[][]): string {
  const widths = header.map((h, c) => Math.min(100, Math.max(h.length, ...rows.map((r) => (r[c] ?? "").length))));
  const line = (cells: string[]) => cells.map((cell, c) => (c === cells.length - 1 ? cell : cell.padEnd(widths[c]!))).join("  ");
  return [line(header), line(widths.map((w) => "-".repeat(w))), ...rows.map(line)].join("\n");
}
