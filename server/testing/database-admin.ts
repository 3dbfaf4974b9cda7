/**
 * The test database server's superuser, for integration tests that create a database of their own: the application
 * role may not (server/testing/global-setup.ts sets TEST_ADMIN_DATABASE_URL; DATABASE_URL when it is not set).
 */
import crypto from "node:crypto";
import pg from "pg";
import { migrateDatabase } from "../db/migrate";

/** Runs `fn` on a fresh superuser connection, closed afterwards whatever `fn` does. */
export async function asDatabaseAdmin<T>(fn: (client: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: process.env.TEST_ADMIN_DATABASE_URL ?? process.env.DATABASE_URL });
  await client.connect();
  try {
    return await fn(client);
  } finally {
    await client.end();
  }
}

/** A database of a test's own on the test server: created (owned by the application role) and migrated; `drop()` removes it. */
export interface OwnDatabase {
  name: string;
  /** DATABASE_URL with the database's name. */
  url: string;
  drop(): Promise<void>;
}

/**
 * Creates and migrates a database named `<prefix>_<8 hex digits>` for tests that need one of their own (an empty
 * platform, a worker whose start-up work must find nothing of other tests').
 */
export async function createMigratedDatabase(prefix: string): Promise<OwnDatabase> {
  const name = `${prefix}_${crypto.randomBytes(4).toString("hex")}`;
  const base = new URL(process.env.DATABASE_URL!);
  await asDatabaseAdmin((client) => client.query(`CREATE DATABASE ${name} OWNER "${base.username}"`));
  base.pathname = `/${name}`;
  const url = base.toString();
  await migrateDatabase(url);
  return { name, url, drop: async () => void (await asDatabaseAdmin((client) => client.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))) };
}
