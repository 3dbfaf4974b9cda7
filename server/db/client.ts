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
  // An idle client whose connection dies is dropped by the pool, which then emits "error": heard here too, so
  // it never goes unheard while Prisma's engine (which adds its own listener) is between stop and restart.
  pool.on("error", () => undefined);
  const connect = pool.connect.bind(pool);
  const guard = (client: pg.PoolClient): pg.PoolClient => {
    const release = client.release.bind(client);
    let released = false;
    const onEnd = () => {
      if (!released) client.release(new Error("the connection ended while checked out"));
    };
    // pg-pool removes its own "error" listener while a client is checked out; a connection that dies
    // between statements then emits "error" with nobody listening (an uncaught exception that ends
    // the process). The statement in flight, or the next one, fails on its own and says why.
    const onError = () => undefined;
    client.on("error", onError);
    client.release = (error?: Error | boolean) => {
      if (released) return;
      released = true;
      client.removeListener("end", onEnd);
      client.removeListener("error", onError);
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

/**
 * Interactive-transaction limits, ms: how long a transaction may wait for a pool connection
 * (`DB_TX_MAX_WAIT_MS`, default 10,000; Prisma's own is 2,000) and run (`DB_TX_TIMEOUT_MS`, default
 * 15,000; Prisma's 5,000). Prisma's defaults turned a CPU-starved web process's submissions into 500s
 * (measured in the soak at load 15–21, issue 16); a slow answer is better than a lost one.
 */
export function transactionLimits(env: Record<string, string | undefined> = process.env): { maxWait: number; timeout: number } {
  const ms = (name: string, fallback: number) => {
    const value = Number(env[name] ?? fallback);
    if (!Number.isInteger(value) || value <= 0) throw new Error(`${name} must be a positive whole number of milliseconds (got "${env[name]}")`);
    return value;
  };
  return { maxWait: ms("DB_TX_MAX_WAIT_MS", 10_000), timeout: ms("DB_TX_TIMEOUT_MS", 15_000) };
}

/**
 * The pg pool behind each client of createDb: raw statements of the hot path use it (server/db/sql.ts).
 * Kept on globalThis like the client itself, so a re-loaded copy of this module (hot reload, a test's
 * module reset) still finds the pool of a client made before.
 */
const globalForPools = globalThis as unknown as { radsDbPools?: WeakMap<PrismaClient, pg.Pool> };
const pools = (globalForPools.radsDbPools ??= new WeakMap<PrismaClient, pg.Pool>());

/**
 * A Prisma client over a guarded pg pool that this client owns: `$disconnect` ends the pool. The
 * adapter does not end it itself (`disposeExternalPool: false`): Prisma also stops its engine on its
 * own — a query-compiler panic does — and then reconnects with a new pool of its own, which left the
 * raw statements of server/db/sql.ts on an ended pool ("Cannot use a pool after calling end on the
 * pool", seen once under load in profile:api); now both keep the one pool.
 */
export function createDb(databaseUrl: string): PrismaClient {
  const pool = createPool(databaseUrl);
  const client = new PrismaClient({ adapter: new PrismaPg(pool, { disposeExternalPool: false }), transactionOptions: transactionLimits() });
  const disconnect = client.$disconnect.bind(client);
  client.$disconnect = async () => {
    try {
      await disconnect();
    } finally {
      if (!pool.ending) await pool.end();
    }
  };
  pools.set(client, pool);
  return client;
}

/** The pg pool behind a client made by createDb (the one Prisma's adapter uses). @throws Error for any other client, e.g. a transaction client. */
export function poolOf(db: PrismaClient): pg.Pool {
  const pool = pools.get(db);
  if (!pool) throw new Error("raw SQL needs a database client made by createDb (server/db/client.ts), not a transaction client");
  return pool;
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
