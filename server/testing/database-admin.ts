/**
 * The test database server's superuser, for integration tests that create a database of their own: the application
 * role may not (server/testing/global-setup.ts sets TEST_ADMIN_DATABASE_URL; DATABASE_URL when it is not set).
 */
import pg from "pg";

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
