/**
 * Integration tests run against a real PostgreSQL: TEST_DATABASE_URL when given (CI with its own
 * server), otherwise a fresh embedded PostgreSQL in a temporary folder, migrated exactly as
 * `npm start` does, as its application role (not a superuser). The URL reaches the test files
 * through DATABASE_URL; the superuser's, for tests that create databases, through TEST_ADMIN_DATABASE_URL.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { isPortFree } from "../db/embedded-postgres";
import { prepareDatabase, type PreparedDatabase } from "../platform/database";

let prepared: PreparedDatabase | null = null;
let tempDir: string | null = null;

export async function setup() {
  if (process.env.TEST_DATABASE_URL) {
    prepared = await prepareDatabase({ databaseUrl: process.env.TEST_DATABASE_URL, dataDir: "", embeddedPort: 0 });
  } else {
    tempDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-int-"));
    fs.chmodSync(tempDir, 0o755); // the postgres user must reach the data folder when tests run as root
    // A free port near a per-process start (another run or a running platform may hold the first one).
    let port = 55000 + (process.pid % 2000);
    for (let tries = 0; tries < 200 && !(await isPortFree(port)); tries++) port = 55000 + ((port - 55000 + 7) % 2000);
    prepared = await prepareDatabase({ dataDir: path.join(tempDir, "pg"), embeddedPort: port, database: "rads_test" });
  }
  process.env.DATABASE_URL = prepared.url;
  // The application role may not create databases; the few tests that need one of their own use the superuser.
  process.env.TEST_ADMIN_DATABASE_URL = prepared.embedded?.adminUrl ?? prepared.url;
}

export async function teardown() {
  await prepared?.embedded?.stop();
  if (tempDir) fs.rmSync(tempDir, { recursive: true, force: true });
}
