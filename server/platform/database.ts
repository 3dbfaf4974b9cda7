/**
 * Gets a migrated database for a process that needs one: the external DATABASE_URL when set
 * (checked first, with one clear line if it is unreachable), otherwise the embedded PostgreSQL.
 * Shared by `npm start`, the integration tests and the end-to-end runner.
 */
import pg from "pg";
import { startEmbeddedPostgres, type EmbeddedDatabase } from "../db/embedded-postgres";
import { migrateDatabase } from "../db/migrate";
import { StartupError } from "../startup-error";

export interface PreparedDatabase {
  url: string;
  embedded: EmbeddedDatabase | null;
  migrationsApplied: string[];
}

function describeUrl(url: string): string {
  try {
    const parsed = new URL(url);
    // A Unix socket: `?host=<folder>` (libpq and node-postgres read it) names the folder of `.s.PGSQL.<port>`.
    const socketDir = parsed.searchParams.get("host");
    const host = socketDir?.startsWith("/") ? `${socketDir} (Unix socket), port ` : `${parsed.hostname}:`;
    return `${host}${parsed.port || 5432}${parsed.pathname}`;
  } catch {
    return "(unparseable URL)";
  }
}

/** Connects once to tell "unreachable", "wrong password" and "no such database" apart from the start. */
export async function checkDatabaseReachable(url: string): Promise<void> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    throw new StartupError("DATABASE_URL is not a valid URL.", "Use the form postgresql://user:password@host:5432/database.");
  }
  if (!/^postgres(ql)?:$/.test(parsed.protocol)) {
    throw new StartupError(`DATABASE_URL must start with postgresql:// (got ${parsed.protocol}//).`, "Use the form postgresql://user:password@host:5432/database.");
  }
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5000 });
  try {
    await client.connect();
    await client.query("SELECT 1");
  } catch (error) {
    const message = (error as Error).message;
    throw new StartupError(
      `Cannot connect to the database at ${describeUrl(url)}: ${message}.`,
      "Check that PostgreSQL is running and DATABASE_URL's host, port, user, password and database are right — or unset DATABASE_URL to use the embedded database.",
    );
  } finally {
    await client.end().catch(() => undefined);
  }
}

export async function prepareDatabase(options: { databaseUrl?: string; dataDir: string; embeddedPort: number; database?: string }): Promise<PreparedDatabase> {
  let embedded: EmbeddedDatabase | null = null;
  let url = options.databaseUrl;
  if (!url) {
    embedded = await startEmbeddedPostgres({ dataDir: options.dataDir, port: options.embeddedPort, database: options.database ?? "rads" });
    url = embedded.url;
  } else {
    await checkDatabaseReachable(url);
  }
  try {
    const result = await migrateDatabase(url);
    return { url, embedded, migrationsApplied: result.applied };
  } catch (error) {
    await embedded?.stop();
    throw new StartupError(`Database migration failed: ${(error as Error).message}`, "Fix the database or the migration, then start again.");
  }
}
