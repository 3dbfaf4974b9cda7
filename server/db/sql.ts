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
 *
 * Statements kept prepared per connection (`prepared(text)`, issue 16): PostgreSQL parses, analyses and plans a
 * statement sent as text on every call — on the clinician hot path that planning was most of a submission's
 * database CPU. A prepared statement is parsed once per pooled connection and its plan can be cached there:
 *  - `Sql.query(prepared(text), values)` (extended protocol): node-postgres sends Parse under the statement's
 *    `name` the first time on a connection, then only Bind/Execute — no extra round trip;
 *  - `execute(prepared(text), values)` in `transaction({ begin })` and `transactionInOneTrip` (simple protocol,
 *    several statements in one round trip): sent as `EXECUTE <sqlName>(literal, …)`; the first time a connection
 *    needs it, `PREPARE <sqlName> AS <text>` goes in a trip of its own before the transaction (one per
 *    connection and statement, never again while the connection lives). The two kinds of names have their own
 *    prefixes, so a statement prepared one way never collides with the other. The literals are the text the
 *    extended protocol would send for the same value, quoted (`sqlLiteral`), and PREPARE without a type list
 *    infers the parameters' types as Parse does: both ways read the same values the same way.
 * A prepared text must be a fixed text with $n parameters (never values written into it): each distinct text is
 * one more statement kept on every connection.
 */
import crypto from "node:crypto";
import pg from "pg";
import type { AuditEventInput } from "./audit-repo";
import { poolOf, transactionLimits } from "./client";
import type { PrismaClient } from "./generated/client";
import type { DbOrTx } from "./tx";

const TIMESTAMP_OID = 1114;

/** `timestamp without time zone` text as a Date read as UTC: the same instant as `new Date("<date>T<time>Z")`. */
export function parseUtcTimestamp(value: string): Date {
  return new Date(utcTimestampMs(value) ?? Date.parse(`${value.replace(" ", "T")}Z`));
}

/** The number written by the `count` digits at `at`, or -1 when one of them is not a digit. */
function digits(text: string, at: number, count: number): number {
  let value = 0;
  for (let i = at, end = at + count; i < end; i++) {
    const d = text.charCodeAt(i) - 48;
    if (d < 0 || d > 9) return -1;
    value = value * 10 + d;
  }
  return value;
}

/**
 * PostgreSQL's text of a timestamp in the common shape "YYYY-MM-DD HH:MM:SS[.f{1,3}]" (years 1000–9999) as ms since
 * the epoch, read as UTC — what Date.parse gives for "YYYY-MM-DDTHH:MM:SS[.fff]Z" — or null for any other shape
 * (more fraction digits, BC, infinity, a year outside 1000–9999), which the caller leaves to Date.parse.
 */
function utcTimestampMs(text: string): number | null {
  const length = text.length;
  if (length !== 19 && (length < 21 || length > 23)) return null;
  if (text.charCodeAt(4) !== 45 || text.charCodeAt(7) !== 45 || text.charCodeAt(10) !== 32 || text.charCodeAt(13) !== 58 || text.charCodeAt(16) !== 58) return null;
  const year = digits(text, 0, 4);
  const month = digits(text, 5, 2);
  const day = digits(text, 8, 2);
  const hour = digits(text, 11, 2);
  const minute = digits(text, 14, 2);
  const second = digits(text, 17, 2);
  if (year < 1000 || month < 1 || month > 12 || day < 1 || day > 31 || hour < 0 || hour > 23 || minute < 0 || minute > 59 || second < 0 || second > 59) return null;
  let ms = 0;
  if (length > 19) {
    if (text.charCodeAt(19) !== 46) return null;
    const fraction = digits(text, 20, length - 20);
    if (fraction < 0) return null;
    ms = length === 21 ? fraction * 100 : length === 22 ? fraction * 10 : fraction;
  }
  // A day past the month's end (e.g. 02-30) would roll over in Date.UTC where Date.parse answers NaN: left to Date.parse.
  const leap = year % 4 === 0 && (year % 100 !== 0 || year % 400 === 0);
  if (day > (month === 2 ? (leap ? 29 : 28) : DAYS_IN_MONTH[month - 1]!)) return null;
  return Date.UTC(year, month - 1, day, hour, minute, second, ms);
}

const DAYS_IN_MONTH = [31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31];

const TYPES = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === TIMESTAMP_OID && format !== "binary") return parseUtcTimestamp;
    return pg.types.getTypeParser(oid, format);
  },
};

/** A row description's field as pg-protocol reads it. */
interface FieldDescription {
  name: string;
  dataTypeID: number;
  format: string;
}

type Rows = Record<string, unknown>[];
type FieldParser = (raw: string) => unknown;
/** Builds one row from a DataRow's raw values with the fields' parsers: an object literal with the fields' names in order. */
type RowMaker = (parsers: readonly FieldParser[], raw: readonly (string | null)[]) => Record<string, unknown>;

/** One RowMaker per list of field names (a statement's columns), made once: at most ROW_MAKERS of them kept. */
const rowMakers = new Map<string, RowMaker>();
const ROW_MAKERS = 512;

/**
 * The row maker for `names`: a function returning `{ [names[0]]: parsed value 0, … }` as one object literal — the row
 * pg's Result.parseRow builds (an ordinary object, the names in their order, null for a NULL, a later column of the
 * same name overwriting an earlier one's value), without its per-result setup (Result.addFields copies a null-prototype
 * object per statement and spreads it per row: ~0.08 ms per submit-and-take-the-next, issue 16).
 */
function rowMakerFor(names: readonly string[]): RowMaker {
  const key = names.join("\u0000");
  let make = rowMakers.get(key);
  if (!make) {
    // JSON.stringify quotes each name as a JavaScript string; "__proto__" as a computed key is an own property, as pg makes it.
    const entries = names.map((name, i) => `${name === "__proto__" ? `[${JSON.stringify(name)}]` : JSON.stringify(name)}: (x = v[${i}]) !== null ? p[${i}](x) : null`);
    make = new Function("p", "v", `"use strict"; let x; return { ${entries.join(", ")} };`) as RowMaker;
    if (rowMakers.size >= ROW_MAKERS) rowMakers.clear();
    rowMakers.set(key, make);
  }
  return make;
}

/** The parser pg's Result would use for `field` with our TYPES (a binary value is handed over as a Buffer, as pg does). */
function fieldParser(field: FieldDescription): FieldParser {
  const parse = TYPES.getTypeParser(field.dataTypeID, field.format === "binary" ? "binary" : "text") as FieldParser;
  return field.format === "binary" ? (raw) => parse(Buffer.from(raw) as unknown as string) : parse;
}

/**
 * A pg query (pg's own Query: the same submit, Parse/Bind/Execute of a named statement and PREPARE bookkeeping on the
 * connection, error handling) whose answer is each statement's rows, made by rowMakerFor instead of pg's Result objects.
 * Handed to `client.query`/`pool.query` as pg's Submittable; its callback gets the rows of each statement (one entry
 * per CommandComplete, in order) or the error. Built from text and fields directly (pg's normalizeQueryConfig copies a
 * config object's property descriptors per query).
 */
class RowsQuery extends pg.Query {
  readonly #results: Rows[] = [];
  #rows: Rows | null = null;
  #parsers: FieldParser[] = [];
  #make: RowMaker | null = null;
  /** A row that could not be parsed: reported at ReadyForQuery, as pg reports it. */
  #failure: Error | null = null;
  /** Whether the callback was called: once only (a Bind that fails is reported, and its ReadyForQuery follows). */
  #answered = false;

  constructor(text: string, name?: string, values?: unknown[]) {
    super(text);
    const self = this as unknown as { name?: string; values?: unknown[] };
    self.name = name;
    self.values = values;
  }

  handleRowDescription(message: { fields: FieldDescription[] }): void {
    const fields = message.fields;
    this.#rows = [];
    this.#parsers = fields.map(fieldParser);
    this.#make = rowMakerFor(fields.map((field) => field.name));
  }

  handleDataRow(message: { fields: (string | null)[] }): void {
    if (this.#failure) return;
    try {
      this.#rows!.push(this.#make!(this.#parsers, message.fields));
    } catch (error) {
      this.#failure = error instanceof Error ? error : new Error(String(error));
    }
  }

  handleCommandComplete(): void {
    this.#results.push(this.#rows ?? []);
    this.#rows = null;
  }

  handleError(error: Error): void {
    const failure = this.#failure;
    this.#failure = null;
    this.#callback()(failure ?? error);
  }

  handleReadyForQuery(): void {
    if (this.#failure) return this.handleError(this.#failure);
    this.#callback()(null, this.#results);
  }

  #callback(): (error: Error | null, results?: Rows[]) => void {
    if (this.#answered) return () => undefined;
    this.#answered = true;
    return (this as unknown as { callback: (error: Error | null, results?: Rows[]) => void }).callback;
  }
}

/** Runs `query` on a checked-out client: each statement's rows, or pg's error (its stack taken here, as pg's promise does). */
function submitOn(client: pg.ClientBase, query: RowsQuery): Promise<Rows[]> {
  return new Promise((resolve, reject) => {
    client.query(query as unknown as pg.QueryConfig, ((error: Error | null, results: Rows[]) => {
      if (!error) return resolve(results);
      Error.captureStackTrace(error);
      reject(error);
    }) as never);
  });
}

/** Runs `query` on a client of the pool, released after it (pg-pool's query). */
function submitOnPool(pool: pg.Pool, query: RowsQuery): Promise<Rows[]> {
  return pool.query(query as unknown as pg.QueryConfig) as unknown as Promise<Rows[]>;
}

function prepare(values: readonly unknown[] | undefined): unknown[] | undefined {
  return values?.map((v) => (v instanceof Date ? v.toISOString() : v));
}

/**
 * A statement kept prepared on each pooled connection that runs it (see the module comment): its fixed text with
 * $n parameters, node-postgres's statement `name` (extended protocol) and the `sqlName` of PREPARE/EXECUTE (simple
 * protocol). Both names come from a hash of the text, so one text always has the same names.
 */
export interface Prepared {
  readonly text: string;
  readonly name: string;
  readonly sqlName: string;
}

/** Name prefixes: node-postgres's named statements and our SQL-level PREPAREs, never the same name. */
const EXTENDED_PREFIX = "rads_p_";
const SQL_PREFIX = "rads_x_";

/**
 * Marks `text` (a fixed statement with $1… parameters, no values written into it) to be kept prepared on each
 * pooled connection: pass the result to `Sql.query` or, with its values, to `execute` for `begin`/`transactionInOneTrip`.
 * Build it once (a module constant), not per call.
 */
export function prepared(text: string): Prepared {
  const hash = crypto.createHash("sha256").update(text).digest("hex").slice(0, 24);
  return Object.freeze({ text, name: `${EXTENDED_PREFIX}${hash}`, sqlName: `${SQL_PREFIX}${hash}` });
}

/** A prepared statement with its values, for the simple protocol's batches (`begin`, `transactionInOneTrip`): sent as EXECUTE. */
export interface Execution {
  readonly statement: Prepared;
  readonly values: readonly unknown[];
}

/** `statement` with its values ($1 = values[0], …) for `transaction({ begin })` and `transactionInOneTrip`. */
export function execute(statement: Prepared, values: readonly unknown[]): Execution {
  return { statement, values };
}

/** A statement of a simple-protocol batch: SQL text (values quoted with `literal`) or a prepared statement's execution. */
export type TripStatement = string | Execution;

/**
 * A value as the SQL literal EXECUTE takes for a parameter: the text node-postgres's extended protocol sends for it,
 * quoted with pg's escaping — null/undefined → NULL; a Date → its UTC ISO text (as `prepare` sends it); a boolean →
 * 'true'/'false'; a number or bigint → its decimal text; an array → a PostgreSQL array literal ('{"a","b"}', NULL
 * elements, nested arrays); any other object → its JSON text.
 * @throws Error for a Buffer or typed array (bytea is not sent this way) and for a non-finite number
 */
export function sqlLiteral(value: unknown): string {
  const text = parameterText(value);
  return text === null ? "NULL" : quoteLiteral(text);
}

/** A quote or a backslash: what pg.escapeLiteral escapes. */
const NEEDS_ESCAPE = /['\\]/;

/**
 * pg.escapeLiteral's answer for a string, without its character-by-character copy (issue 16: the submission's content
 * as a literal cost ~0.03 ms per call that way): 'text' with each ' doubled and each \\ doubled, prefixed with " E"
 * when there was a backslash.
 */
function quoteLiteral(text: string): string {
  if (!NEEDS_ESCAPE.test(text)) return `'${text}'`;
  const quoted = `'${text.replace(/'/g, "''").replace(/\\/g, "\\\\")}'`;
  return text.includes("\\") ? ` E${quoted}` : quoted;
}

function parameterText(value: unknown): string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date) return value.toISOString();
  if (Array.isArray(value)) return arrayText(value);
  if (Buffer.isBuffer(value) || ArrayBuffer.isView(value)) throw new Error("sqlLiteral: binary values (bytea) cannot be sent as EXECUTE literals; use Sql.query");
  if (typeof value === "number" && !Number.isFinite(value)) throw new Error(`sqlLiteral: ${value} is not a finite number`);
  if (typeof value === "object") return JSON.stringify(value);
  return String(value);
}

function arrayText(values: readonly unknown[]): string {
  const elements = values.map((v) => {
    if (v === null || v === undefined) return "NULL";
    if (Array.isArray(v)) return arrayText(v);
    return `"${parameterText(v)!.replace(/\\/g, "\\\\").replace(/"/g, '\\"')}"`;
  });
  return `{${elements.join(",")}}`;
}

/** How a simple-protocol batch sends a statement: its text, or EXECUTE of its prepared statement with literal values. */
function tripText(statement: TripStatement): string {
  if (typeof statement === "string") return statement;
  const { sqlName } = statement.statement;
  return statement.values.length === 0 ? `EXECUTE ${sqlName}` : `EXECUTE ${sqlName}(${statement.values.map(sqlLiteral).join(", ")})`;
}

/** The SQL-level prepared statements (sqlName) each pooled client's connection holds; a new connection is a new client. */
const preparedOnClient = new WeakMap<pg.ClientBase, Set<string>>();

/**
 * Prepares on `client`'s connection the statements of `batch` it does not hold yet: all of them in ONE round trip of
 * its own (PREPARE … ; PREPARE …), before the batch's transaction. Nothing is sent when the connection holds them all.
 * @throws the database's error; the connection may then hold some of them without our knowing — release it broken
 */
async function prepareOn(client: pg.ClientBase, batch: readonly TripStatement[]): Promise<void> {
  const held = preparedOnClient.get(client);
  const missing = new Map<string, Prepared>();
  for (const s of batch) {
    if (typeof s !== "string" && !held?.has(s.statement.sqlName)) missing.set(s.statement.sqlName, s.statement);
  }
  if (missing.size === 0) return;
  await client.query([...missing.values()].map((p) => `PREPARE ${p.sqlName} AS ${p.text}`).join(";\n"));
  const set = held ?? new Set<string>();
  for (const name of missing.keys()) set.add(name);
  preparedOnClient.set(client, set);
}

/** Something raw statements can run on: the pool (autocommit) or a transaction's client. */
export interface Sql {
  /** Runs one statement with $1… parameters — SQL text, or a `prepared` statement (parsed once per connection) — and returns its rows. */
  query<T extends object>(statement: string | Prepared, values?: readonly unknown[]): Promise<T[]>;
}

/** One statement's rows (the first statement's when a text without values holds several). */
async function run<T extends object>(target: pg.Pool | pg.PoolClient, statement: string | Prepared, values?: readonly unknown[]): Promise<T[]> {
  const query = typeof statement === "string" ? new RowsQuery(statement, undefined, prepare(values)) : new RowsQuery(statement.text, statement.name, prepare(values));
  const results = await (target instanceof pg.Pool ? submitOnPool(target, query) : submitOn(target, query));
  return (results[0] ?? []) as T[];
}

/** Statements on the pool, each in its own implicit transaction (one statement = one round trip). */
export function sql(db: PrismaClient): Sql {
  const pool = poolOf(db);
  return { query: (text, values) => run(pool, text, values) };
}

/** A value written into SQL text as a quoted literal (pg's escaping): only for statements sent with `begin`. */
export function literal(value: string): string {
  return typeof value === "string" ? quoteLiteral(value) : pg.escapeLiteral(value);
}

export class TransactionTimeoutError extends Error {
  constructor(readonly limitMs: number, what: string) {
    super(`${what} (DB_TX_TIMEOUT_MS / DB_TX_MAX_WAIT_MS: ${limitMs} ms)`);
    this.name = "TransactionTimeoutError";
  }
}

export interface TransactionOptions {
  /**
   * Statements sent together with BEGIN in one round trip (simple protocol: no parameters — quote values with
   * `literal`, or pass a prepared statement with its values through `execute`), e.g. the row locks a transaction
   * starts with.
   */
  begin?: readonly TripStatement[];
  /** Overrides transactionLimits() (tests). */
  limits?: { maxWait: number; timeout: number };
}

function asError(error: unknown): Error {
  return error instanceof Error ? error : new Error(String(error));
}

/**
 * Prepares what `batch` needs on `client` (prepareOn); when that fails, hands the client back broken (its connection
 * may hold part of the statements without our knowing) and rethrows.
 */
async function prepareOrRelease(client: pg.PoolClient, batch: readonly TripStatement[]): Promise<void> {
  try {
    await prepareOn(client, batch);
  } catch (error) {
    client.release(asError(error));
    throw error;
  }
}

/**
 * Runs `fn` in one transaction on one pooled client: BEGIN (with `options.begin`, whose rows `fn` gets as
 * `beginRows`, one array per statement), fn, COMMIT; ROLLBACK
 * when anything throws (the error is rethrown). A client whose connection broke is handed back broken.
 * The `begin` statements' PREPAREs a connection lacks go first, in a trip of their own (once per connection).
 * @throws TransactionTimeoutError when no client is free within maxWait, or the transaction outlives timeout
 */
export async function transaction<T>(db: PrismaClient, fn: (tx: Sql, beginRows: Record<string, unknown>[][]) => Promise<T>, options: TransactionOptions = {}): Promise<T> {
  const { result } = await transactionWithTail(db, async (tx, beginRows) => ({ result: await fn(tx, beginRows), tail: null }), options);
  return result;
}

/** What became of a transaction's tail (transactionWithTail): each statement's rows (committed with the rest), or its error (rolled back alone). */
export type TailOutcome = { rows: Record<string, unknown>[][] } | { error: Error };

/** The savepoint a transaction's tail runs behind. */
const TAIL_SAVEPOINT = "rads_tail";

/** PostgreSQL's invalid_savepoint_specification: ROLLBACK TO a savepoint the transaction never reached. */
const NO_SUCH_SAVEPOINT = "3B001";

/**
 * The last statements of `fn`'s own work, sent in the COMMIT's round trip before the tail (transactionWithTail): their
 * rows come back as `head`. An error in one of them rolls the whole transaction back, as an error in `fn` does. When the
 * tail fails instead, `recovery` (statements that read again what `statements` answered: their rows are lost with the
 * failed trip) runs after the rollback to the tail's savepoint, before the COMMIT, and its rows are `head`.
 */
export interface TransactionHead {
  statements: readonly TripStatement[];
  recovery: readonly TripStatement[];
}

/** What `fn` of transactionWithTail answers: its result, its head (null: none) and the tail's statements (null: none). */
export interface TransactionWork<T> {
  result: T;
  head?: TransactionHead | null;
  tail: readonly TripStatement[] | null;
}

/**
 * `transaction`, with a head and a tail sent with the COMMIT in ONE round trip (issue 16: submit and take the next —
 * the submission's own statement, then the next case's lease after it, one commit for both):
 * "h1; …; hm; SAVEPOINT; t1; …; tn; COMMIT", each statement in its own snapshot (no RELEASE SAVEPOINT: COMMIT commits
 * the open savepoint's work with the rest — one statement less, the same outcome).
 *  - The head (`TransactionHead`, optional) is the end of `fn`'s work, whose answer JavaScript does not need before
 *    the commit: its rows are `head`. An error there rolls everything back and is thrown, as an error in `fn`.
 *  - The tail is work that must never cost `fn`'s writes. When one of its statements fails, PostgreSQL skips the rest
 *    of that trip; then "ROLLBACK TO SAVEPOINT; <head's recovery>; COMMIT" (one more trip) undoes the tail alone and
 *    commits `fn`'s work: the outcome is the tail's error, `fn`'s result stands. Which statement of the failed trip
 *    failed is known from that rollback: it finds no savepoint when the head failed (then: ROLLBACK, the head's error).
 * Without a head and a tail it is exactly `transaction`. `options.prepare`: statements whose PREPAREs a connection
 * lacks go, with `begin`'s, in the trip of their own before BEGIN (pass the tail's statements, built with any values);
 * any still missing are prepared in a trip of their own before the commit's (PREPARE is allowed in a transaction).
 * @returns fn's result, the head's rows (null without a head) and the tail's outcome (null without a tail)
 * @throws as `transaction`; also when the rollback to the savepoint or its commit fails (then nothing is known to be
 *   committed, as for a failed COMMIT)
 */
export async function transactionWithTail<T>(
  db: PrismaClient,
  fn: (tx: Sql, beginRows: Record<string, unknown>[][]) => Promise<TransactionWork<T>>,
  options: TransactionOptions & { prepare?: readonly TripStatement[] } = {},
): Promise<{ result: T; head: Record<string, unknown>[][] | null; tail: TailOutcome | null }> {
  const pool = poolOf(db);
  const { maxWait, timeout } = options.limits ?? transactionLimits();
  const begin = options.begin ?? [];
  const client = await checkOut(pool, maxWait);
  await prepareOrRelease(client, [...begin, ...(options.prepare ?? [])]);
  // The deadline read from the monotonic clock at each statement (no timer per transaction).
  const deadline = performance.now() + timeout;
  const guard = () => {
    if (performance.now() >= deadline) throw new TransactionTimeoutError(timeout, "the transaction ran out of time and was rolled back");
  };
  const trip = (statements: readonly TripStatement[]): Promise<Record<string, unknown>[][]> => submitOn(client, new RowsQuery(statements.map(tripText).join("; ")));
  let broken: Error | undefined;
  try {
    const beginRows = (await trip(["BEGIN", ...begin])).slice(1);
    const tx: Sql = {
      query: async (statement, values) => {
        guard();
        return run(client, statement, values);
      },
    };
    const { result, head, tail } = await fn(tx, beginRows);
    guard();
    const headStatements = head?.statements ?? [];
    const tailStatements = tail ?? [];
    if (headStatements.length === 0 && tailStatements.length === 0) {
      await client.query("COMMIT");
      return { result, head: head ? [] : null, tail: null };
    }
    // When the PREPAREs were not sent before BEGIN (options.prepare): one missing is prepared here. When that fails, the
    // connection may hold part of them: handed back broken.
    await prepareOn(client, [...headStatements, ...tailStatements, ...(head?.recovery ?? [])]).catch((error: unknown) => {
      broken = asError(error);
      throw error;
    });
    if (tailStatements.length === 0) {
      const rows = await trip([...headStatements, "COMMIT"]);
      return { result, head: rows.slice(0, headStatements.length), tail: null };
    }
    const h = headStatements.length;
    try {
      const rows = await trip([...headStatements, `SAVEPOINT ${TAIL_SAVEPOINT}`, ...tailStatements, "COMMIT"]);
      return { result, head: head ? rows.slice(0, h) : null, tail: { rows: rows.slice(h + 1, h + 1 + tailStatements.length) } };
    } catch (tripError) {
      // The tail failed — or the head (then there is no savepoint to go back to): undo the tail alone, read the head's
      // answer again and commit fn's work (a failure here is the transaction's, handled below).
      const recovery = head?.recovery ?? [];
      let rows: Record<string, unknown>[][];
      try {
        rows = await trip([`ROLLBACK TO SAVEPOINT ${TAIL_SAVEPOINT}`, ...recovery, "COMMIT"]);
      } catch (recoveryError) {
        throw (recoveryError as { code?: unknown }).code === NO_SUCH_SAVEPOINT ? tripError : recoveryError;
      }
      return { result, head: head ? rows.slice(1, 1 + recovery.length) : null, tail: { error: asError(tripError) } };
    }
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: unknown) => {
      broken = asError(rollbackError);
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

/**
 * Runs `statements` as ONE transaction in ONE round trip: "BEGIN; s1; …; sn; COMMIT" in the simple protocol (no
 * parameters: quote values with `literal`, or `execute` a prepared statement), each statement reading in its own
 * snapshot; returns each statement's rows, in order. When one fails, PostgreSQL skips the rest and the COMMIT; the
 * transaction is rolled back and the error rethrown. For work whose statements need no answer from JavaScript in
 * between (queue.next's common path). The PREPAREs a connection lacks go first, in a trip of their own (once per
 * connection).
 * @throws TransactionTimeoutError when no client is free within maxWait
 */
export async function transactionInOneTrip(db: PrismaClient, statements: readonly TripStatement[], options: Pick<TransactionOptions, "limits"> = {}): Promise<Record<string, unknown>[][]> {
  const { maxWait } = options.limits ?? transactionLimits();
  const client = await checkOut(poolOf(db), maxWait);
  await prepareOrRelease(client, statements);
  let broken: Error | undefined;
  try {
    const results = await submitOn(client, new RowsQuery(["BEGIN", ...statements.map(tripText), "COMMIT"].join("; ")));
    return results.slice(1, 1 + statements.length);
  } catch (error) {
    await client.query("ROLLBACK").catch((rollbackError: unknown) => {
      broken = asError(rollbackError);
    });
    throw error;
  } finally {
    client.release(broken);
  }
}

async function checkOut(pool: pg.Pool, maxWait: number): Promise<pg.PoolClient> {
  // An idle client and nobody waiting: pg-pool queues this call first and hands it that client on the next tick (the
  // pulse its connect schedules), so there is no wait to bound — no timer and race per transaction (issue 16).
  if (pool.idleCount > 0 && pool.waitingCount === 0) return pool.connect();
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

/** Random bytes drawn ahead for newId: one crypto.randomBytes call per 256 ids (each call costs ~10 µs in the web process). */
const ID_RANDOM_BLOCK = 4096;
const ID_RANDOM_CHARS = 16;
let idRandom = Buffer.alloc(0);
let idRandomAt = 0;
/** Each byte value's character (b % 36 in base 36), so an id is built without a string per byte. */
const ID_CHAR = Array.from({ length: 256 }, (_, b) => (b % 36).toString(36));

/**
 * A new row id in the shape of Prisma's cuid() (25 lower-case letters and digits, starting with "c"),
 * for rows that raw statements insert: "c", the time in ms (base 36, 8 characters), 16 random characters
 * (each from one byte of crypto.randomBytes, b % 36; the bytes are drawn 4 KiB at a time and each used once).
 */
export function newId(): string {
  if (idRandomAt + ID_RANDOM_CHARS > idRandom.length) {
    idRandom = crypto.randomBytes(ID_RANDOM_BLOCK);
    idRandomAt = 0;
  }
  let random = "";
  for (let i = idRandomAt, end = idRandomAt + ID_RANDOM_CHARS; i < end; i++) random += ID_CHAR[idRandom[i]!];
  idRandomAt += ID_RANDOM_CHARS;
  return `c${Date.now().toString(36).padStart(8, "0")}${random}`;
}

let appendAuditStatement: Prepared | undefined;

/** One audit event (the columns insertAuditEvent in audit-repo.ts writes), appended by a raw statement: for a raw transaction. */
export async function appendAuditEvent(tx: Sql, event: AuditEventInput & { at: Date }): Promise<void> {
  await tx.query(
    (appendAuditStatement ??= prepared(
      `INSERT INTO "AuditEvent" (at, "actorId", "actorRole", action, "targetType", "targetId", "projectId", details)
       VALUES ($1::timestamp, $2, $3::"Role", $4, $5, $6, $7, $8::jsonb)`,
    )),
    [event.at, event.actorId, event.actorRole, event.action, event.targetType, event.targetId ?? null, event.projectId ?? null, JSON.stringify(event.details ?? {})],
  );
}

/** A Prisma client or transaction, or a raw `Sql`: for the few statements both paths share. */
export type Queryable = DbOrTx | Sql;

/**
 * Runs one statement ($1… parameters) on a Prisma client/transaction ($queryRawUnsafe: a prepared statement's text,
 * as text) or on a raw `Sql` (kept prepared there when it is one); returns its rows.
 */
export function queryRows<T extends object>(db: Queryable, statement: string | Prepared, values: readonly unknown[] = []): Promise<T[]> {
  if ("$queryRawUnsafe" in db) return db.$queryRawUnsafe<T[]>(typeof statement === "string" ? statement : statement.text, ...(prepare(values) ?? []));
  return db.query<T>(statement, values);
}
