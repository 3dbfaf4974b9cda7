/**
 * Sees every statement sent through a Prisma client's pg pool (server/db/client.ts `poolOf`): the query
 * calls of each client the pool hands out, whether it is checked out with a promise or with a callback
 * (pool.query uses the callback form). For tests and benchmarks that count round trips per call
 * (hot-path, queue-reads, bench-queue-reads); never installed by the running platform.
 */
import type pg from "pg";
import type { PrismaClient } from "./generated/client";
import { poolOf } from "./client";

/** Calls `onStatement(args)` with the arguments of every client.query made through `db`'s pool from now on. */
export function observeStatements(db: PrismaClient, onStatement: (args: unknown[]) => void): void {
  const pool = poolOf(db);
  const wrapped = new WeakSet<pg.PoolClient>();
  const wrap = (client: pg.PoolClient | undefined) => {
    if (!client || wrapped.has(client)) return;
    wrapped.add(client);
    const query = client.query.bind(client) as (...a: unknown[]) => unknown;
    client.query = ((...a: unknown[]) => {
      onStatement(a);
      return query(...a);
    }) as typeof client.query;
  };
  type Callback = (error: Error | undefined, client: pg.PoolClient | undefined, done: (release?: unknown) => void) => void;
  const connect = pool.connect.bind(pool) as (callback?: Callback) => Promise<pg.PoolClient> | undefined;
  pool.connect = ((callback?: Callback) => {
    if (callback) return connect((error, client, done) => (wrap(client), callback(error, client, done)));
    return connect()!.then((client) => (wrap(client), client));
  }) as typeof pool.connect;
}
