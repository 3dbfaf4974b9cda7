/**
 * The one Prisma client of a process (data-access layer only: lint keeps Prisma imports here).
 * Prisma 6.19 without Rust engines talks to PostgreSQL through the `pg` driver adapter.
 */
import { PrismaPg } from "@prisma/adapter-pg";
import pg from "pg";
import { PrismaClient } from "./generated/client";

export type Db = PrismaClient;
export { Prisma } from "./generated/client";
export type { Role, CaseSplit, ModelStatus, QueueItemStatus, AnnotationKind } from "./generated/enums";

const globalForDb = globalThis as unknown as { radsDb?: { url: string; client: PrismaClient } };

/**
 * A pg pool that cannot leak a connection whose socket died while it was checked out.
 * Prisma's transaction manager closes a transaction with `executeRaw("ROLLBACK"/"COMMIT")` and only
 * then `release()`s the client; when PostgreSQL restarts mid-transaction the ROLLBACK throws, the
 * release never happens, and the pool slot is gone for good (measured: 5 of 10 slots lost per
 * restart under load, so the second restart leaves the web process hanging). A checked-out client
 * whose connection ends is therefore handed back here, as broken, and later releases are no-ops.
 */
function createPool(databaseUrl: string): pg.Pool {
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10 });
  const connect = pool.connect.bind(pool);
  const guard = (client: pg.PoolClient): pg.PoolClient => {
    const release = client.release.bind(client);
    let released = false;
    const onEnd = () => {
      if (!released) client.release(new Error("the connection ended while checked out"));
    };
    client.release = (error?: Error | boolean) => {
      if (released) return;
      released = true;
      client.removeListener("end", onEnd);
      release(error);
    };
    client.once("end", onEnd);
    return client;
  };
  // Only the promise form is wrapped: Prisma's transactions check clients out that way, while
  // pool.query (the callback form) releases its client itself, with the error.
  pool.connect = ((callback?: Parameters<pg.Pool["connect"]>[0]) => (callback ? connect(callback) : connect().then(guard))) as pg.Pool["connect"];
  return pool;
}

export function createDb(databaseUrl: string): PrismaClient {
  return new PrismaClient({ adapter: new PrismaPg(createPool(databaseUrl), { disposeExternalPool: true }) });
}

/** The process-wide client for DATABASE_URL (reused across Next.js hot reloads). */
export function getDb(): PrismaClient {
  const url = process.env.DATABASE_URL;
  if (!url) throw new Error("DATABASE_URL is not set: the platform's start script or test setup provides it.");
  if (!globalForDb.radsDb || globalForDb.radsDb.url !== url) {
    globalForDb.radsDb = { url, client: createDb(url) };
  }
  return globalForDb.radsDb.client;
}
