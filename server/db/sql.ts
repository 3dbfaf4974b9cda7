/**
 * Raw SQL on the `pg` pool that Prisma's driver adapter already uses (server/db/client.ts), for the
 * clinician hot path (session check, front door, lease, submit: issue 16). Prisma compiles each query
 * and maps each result in JavaScript; a statement sent here costs one round trip and pg's row parsing
 * only. Data-access layer only (lint keeps it in server/db), like Prisma itself.
 *
 * Values and types, so that rows read the same as Prisma's:
 *  - a Date parameter is sent as its UTC ISO text (`…Z`): Prisma stores DateTime as UTC in
 *    `timestamp(3) without time zone`, and casting that text to `timestamp` keeps the UTC wall time;
 *  - a `timestamp without time zone` column comes back as a Date read as UTC (pg's default would
 *    read it in the process's time zone); everything else as pg parses it (count(*) is int8 → text:
 *    cast to int in SQL).
 * Transactions: `transaction(db, fn)` checks one client out of the pool (waiting at most
 * DB_TX_MAX_WAIT_MS, as Prisma's interactive transactions do), runs BEGIN … COMMIT on it, rolls back
 * when `fn` throws, and refuses every statement and the COMMIT once DB_TX_TIMEOUT_MS have passed
 * since BEGIN (then it rolls back): the limits of `transactionLimits()`.
 */
import crypto from "node:crypto";
import pg from "pg";
import type { AuditEventInput } from "./audit-repo";
import { poolOf, transactionLimits } from "./client";
import type { PrismaClient } from "./generated/client";
import type { DbOrTx } from "./tx";

const TIMESTAMP_OID = 1114;
const TYPES = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === TIMESTAMP_OID && format !== "binary") return (value: string) => new Date(`${value.replace(" ", "T")}Z`);
    return pg.types.getTypeParser(oid, format);
  },
};

function prepare(values: readonly unknown[] | undefined): unknown[] | undefined {
  return values?.map((v) => (v instanceof Date ? v.toISOString() : v));
}

/** Something raw statements can run on: the pool (autocommit) or a transaction's client. */
export interface Sql {
  /** Runs one statement with $1… parameters; returns its rows. */
  query<T extends object>(text: string, values?: readonly unknown[]): Promise<T[]>;
}

async function run<T extends object>(target: pg.Pool | pg.PoolClient, text: string, values?: readonly unknown[]): Promise<T[]> {
  const result = await target.query<T>({ text, values: prepare(values), types: TYPES });
  return result.rows;
}

/** Statements on the pool, each in its own implicit transaction (one statement = one round trip). */
export function sql(db: PrismaClient): Sql {
  const pool = poolOf(db);
  return { query: (text, values) => run(pool, text, values) };
}

/** A value written into SQL text as a quoted literal (pg's escaping): only for statements sent with `begin`. */
export function literal(value: string): string {
  return pg.escapeLiteral(value);
}

export class TransactionTimeoutError extends Error {
  constructor(readonly limitMs: number, what: string) {
    super(`${what} (DB_TX_TIMEOUT_MS / DB_TX_MAX_WAIT_MS: ${limitMs} ms)`);
    this.name = "TransactionTimeoutError";
  }
}

export interface TransactionOptions {
  /** Statements sent together with BEGIN in one round trip (simple protocol: no parameters; quote values with `literal`), e.g. the row locks a transaction starts with. */
  begin?: readonly string[];
  /** Overrides transactionLimits() (tests). */
  limits?: { maxWait: number; timeout: number };
}

/**
 * Runs `fn` in one transaction on one pooled client: BEGIN (with `options.begin`, whose rows `fn` gets as
 * `beginRows`, one array per statement), fn, COMMIT; ROLLBACK
 * when anything throws (the error is rethrown). A client whose connection broke is handed back broken.
 * @throws TransactionTimeoutError when no client is free within maxWait, or the transaction outlives timeout
 */
export async function transaction<T>(db: PrismaClient, fn: (tx: Sql, beginRows: Record<string, unknown>[][]) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const pool = poolOf(db);
  const { maxWait, timeout } = options.limits ?? transactionLimits();
  const client = await checkOut(pool, maxWait);
  let expired = false;
  const timer = setTimeout(() => (expired = true), timeout);
  const guard = () => {
    if (expired) throw new TransactionTimeoutError(timeout, "the transaction ran out of time and was rolled back");
  };
  let broken: Error | undefined;
  try {
    const opened = await client.query({ text: ["BEGIN", ...(options.begin ?? [])].join("; "), types: TYPES } as pg.QueryConfig);
    const results = (Array.isArray(opened) ? opened : [opened]) as pg.QueryResult[];
    const beginRows = results.slice(1).map((r) => r.rows as Record<string, unknown>[]);
    const tx: Sql = {
      query: async (text, values) => {
        guard();
        return run(client, text, values);
      },
    };
    const result = await fn(tx, beginRows);
    guard();
    await client.query("COMMIT");
    return result;
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    clearTimeout(timer);
    client.release(broken);
  }
}

/**
 * Runs `statements` as ONE transaction in ONE round trip: "BEGIN; s1; …; sn; COMMIT" in the simple protocol (no
 * parameters: quote values with `literal`), each statement reading in its own snapshot; returns each statement's
 * rows, in order. When one fails, PostgreSQL skips the rest and the COMMIT; the transaction is rolled back and the
 * error rethrown. For work whose statements need no answer from JavaScript in between (queue.next's common path).
 * @throws TransactionTimeoutError when no client is free within maxWait
 */
export async function transactionInOneTrip(db: PrismaClient, statements: readonly string[], options: Pick<TransactionOptions, "limits"> = {}): Promise<Record<string, unknown>[][]> {
  const { maxWait } = options.limits ?? transactionLimits();
  const client = await checkOut(poolOf(db), maxWait);
  let broken: Error | undefined;
  try {
    const done = await client.query({ text: ["BEGIN", ...statements, "COMMIT"].join("; "), types: TYPES } as pg.QueryConfig);
    const results = (Array.isArray(done) ? done : [done]) as pg.QueryResult[];
    return results.slice(1, 1 + statements.length).map((r) => r.rows as Record<string, unknown>[]);
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: unknown) => {
      broken = rollbackError instanceof Error ? rollbackError : new Error(String(rollbackError));
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

async function checkOut(pool: pg.Pool, maxWait: number): Promise<pg.PoolClient> {
  let timer: NodeJS.Timeout | undefined;
  let timedOut = false;
  const connecting = pool.connect();
  try {
    return await Promise.race([
      connecting,
      new Promise<never>((_, reject) => {
        timer = setTimeout(() => {
          timedOut = true;
          reject(new TransactionTimeoutError(maxWait, "no database connection was free in time to start a transaction"));
        }, maxWait);
      }),
    ]);
  } catch (error) {
    // A client that arrives after we gave up goes straight back to the pool.
    if (timedOut) connecting.then((late) => late.release(), () => undefined);
    throw error;
  } finally {
    clearTimeout(timer);
  }
}

/** PostgreSQL's unique_violation (SQLSTATE 23505) — what Prisma reports as P2002. */
export function isUniqueViolation(error: unknown): boolean {
  const code = typeof error === "object" && error !== null ? (error as { code?: unknown }).code : undefined;
  return code === "23505" || code === "P2002";
}

/**
 * A new row id in the shape of Prisma's cuid() (25 lower-case letters and digits, starting with "c"),
 * for rows that raw statements insert: "c", the time in ms (base 36, 8 characters), 16 random characters.
 */
export function newId(): string {
  const random = Array.from(crypto.randomBytes(16), (b) => (b % 36).toString(36)).join("");
  return `c${Date.now().toString(36).padStart(8, "0")}${random}`;
}

/** One audit event (the columns insertAuditEvent in audit-repo.ts writes), appended by a raw statement: for a raw transaction. */
export async function appendAuditEvent(tx: Sql, event: AuditEventInput & { at: Date }): Promise<void> {
  await tx.query(
    `INSERT INTO "AuditEvent" (at, "actorId", "actorRole", action, "targetType", "targetId", "projectId", details)
     VALUES ($1::timestamp, $2, $3::"Role", $4, $5, $6, $7, $8::jsonb)`,
    [event.at, event.actorId, event.actorRole, event.action, event.targetType, event.targetId ?? null, event.projectId ?? null, JSON.stringify(event.details ?? {})],
  );
}

/** A Prisma client or transaction, or a raw `Sql`: for the few statements both paths share. */
export type Queryable = DbOrTx | Sql;

/** Runs one statement ($1… parameters) on a Prisma client/transaction ($queryRawUnsafe) or on a raw `Sql`; returns its rows. */
export function queryRows<T extends object>(db: Queryable, text: string, values: readonly unknown[] = []): Promise<T[]> {
  if ("$queryRawUnsafe" in db) return db.$queryRawUnsafe<T[]>(text, ...(prepare(values) ?? []));
  return db.query<T>(text, values);
}
