/**
 * Statements kept prepared per connection (server/db/sql.ts `prepared`, `execute`; issue 16) on the test database:
 * each connection prepares a statement once — PREPARE in a trip of its own before the first transaction that needs
 * it, Parse on the first extended-protocol call — and reuses it; a failing one-trip transaction still rolls
 * everything back and its connection keeps its statements; values reach the database exactly as the extended
 * protocol sends them, whatever they hold; a column added to a table does not break a statement prepared before.
 */
import { afterAll, describe, expect, it } from "vitest";
import { testDb } from "../testing/fixtures";
import { createDb, type Db } from "./client";
import { observeStatements } from "./statement-observer";
import { execute, newId, prepared, sql, sqlLiteral, transaction, transactionInOneTrip } from "./sql";

const own: Db[] = [];
afterAll(async () => {
  for (const db of own) await db.$disconnect();
  await testDb().$disconnect();
});

/** A client of its own (one pool), with the text of every statement sent through it. */
function observedDb(): { db: Db; sent: string[] } {
  const db = createDb(process.env.DATABASE_URL!);
  own.push(db);
  const sent: string[] = [];
  observeStatements(db, (args) => {
    const first = args[0];
    sent.push(typeof first === "string" ? first : String((first as { text?: unknown }).text));
  });
  return { db, sent };
}

const prepares = (sent: string[]) => sent.filter((text) => text.startsWith("PREPARE ")).length;

async function scratchTable(): Promise<string> {
  const name = `prep_test_${newId()}`;
  await sql(testDb()).query(`CREATE TABLE "${name}" (id text PRIMARY KEY, note text)`);
  return name;
}

/** The connection's backend pid and the names of the statements prepared on it (pg_prepared_statements). */
const connectionState = prepared(`SELECT pg_backend_pid() AS pid, coalesce((SELECT array_agg(name::text ORDER BY name) FROM pg_prepared_statements WHERE name LIKE $1), '{}') AS names`);

describe("statements kept prepared per connection", () => {
  it("prepares once per connection and reuses it: PREPARE in one trip of its own, then EXECUTE only; Parse once for the extended protocol", async () => {
    const { db, sent } = observedDb();
    const table = await scratchTable();
    const insert = prepared(`INSERT INTO "${table}" (id, note) VALUES ($1, $2) RETURNING id`);
    const count = prepared(`SELECT count(*)::int AS n FROM "${table}" WHERE note = $1`);

    const first = await transactionInOneTrip(db, [execute(insert, ["a", "x"]), execute(count, ["x"])]);
    expect(first).toEqual([[{ id: "a" }], [{ n: 1 }]]);
    expect(prepares(sent)).toBe(1); // both statements in one PREPARE trip, before BEGIN
    const tripsBefore = sent.length;
    await transactionInOneTrip(db, [execute(insert, ["b", "x"]), execute(count, ["x"])]);
    const seen = await transaction(db, async (tx, [rows]) => ({ rows, state: (await tx.query<{ pid: number; names: string[] }>(connectionState, ["rads\\_%"]))[0]! }), {
      begin: [execute(count, ["x"])],
    });
    expect(seen.rows).toEqual([{ n: 2 }]);
    expect(prepares(sent)).toBe(1); // the same connection: nothing prepared again
    expect(sent.length - tripsBefore).toBe(1 + 3); // the second one-trip transaction, then BEGIN+EXECUTE, the read, COMMIT
    // On the connection: the two SQL-level statements and node-postgres's named one, each once.
    expect(seen.state.names).toEqual([count.sqlName, insert.sqlName, connectionState.name].sort());
    expect(sent.filter((text) => text.includes("EXECUTE")).every((text) => !text.includes("INSERT"))).toBe(true);

    // The extended protocol on the same connection (the pool hands the idle connection back): Parse is not sent again.
    for (let i = 0; i < 3; i++) {
      const [again] = await sql(db).query<{ pid: number; names: string[] }>(connectionState, ["rads\\_%"]);
      expect(again).toEqual(seen.state);
    }
  });

  it("a failing one-trip transaction rolls everything back, and its connection keeps working with its prepared statements", async () => {
    const { db, sent } = observedDb();
    const table = await scratchTable();
    const insert = prepared(`INSERT INTO "${table}" (id, note) VALUES ($1, $2) RETURNING id`);
    const pid = prepared(`SELECT pg_backend_pid() AS pid, current_setting('rads.test_kept', true) AS kept`);
    await transactionInOneTrip(db, [execute(insert, ["a", "first"])]);
    const [[before]] = (await transactionInOneTrip(db, [execute(pid, [])])) as [[{ pid: number }]];

    // The second insert collides with the first of this transaction: nothing of it stays, the setting neither.
    const failed = transactionInOneTrip(db, [execute(insert, ["b", "lost"]), `SELECT set_config('rads.test_kept', 'yes', true)`, execute(insert, ["b", "again"])]);
    await expect(failed).rejects.toMatchObject({ code: "23505" });
    // The same through transaction() with the prepared statements sent with BEGIN.
    await expect(transaction(db, async () => "never", { begin: [execute(insert, ["c", "lost"]), execute(insert, ["a", "dup"])] })).rejects.toMatchObject({ code: "23505" });
    const rows = await sql(testDb()).query<{ id: string; note: string }>(`SELECT id, note FROM "${table}" ORDER BY id`);
    expect(rows).toEqual([{ id: "a", note: "first" }]);

    const preparesBefore = prepares(sent);
    const [[after], [inserted]] = (await transactionInOneTrip(db, [execute(pid, []), execute(insert, ["d", "later"])])) as [[{ pid: number; kept: string | null }], [{ id: string }]];
    expect(after!.pid).toBe(before!.pid); // the same connection, not a new one
    expect(after!.kept === null || after!.kept === "").toBe(true);
    expect(inserted).toEqual({ id: "d" });
    expect(prepares(sent)).toBe(preparesBefore); // its statements were still prepared
  });

  it("a PREPARE that fails hands its connection back broken: the error reaches the caller and the pool goes on", async () => {
    const { db } = observedDb();
    const missing = prepared(`SELECT id FROM "prep_test_no_such_table" WHERE id = $1`);
    await expect(transactionInOneTrip(db, [execute(missing, ["a"])])).rejects.toMatchObject({ code: "42P01" });
    await expect(transaction(db, async () => "never", { begin: [execute(missing, ["a"])] })).rejects.toMatchObject({ code: "42P01" });
    const one = prepared(`SELECT $1::int + 1 AS n`);
    expect(await transactionInOneTrip(db, [execute(one, [1])])).toEqual([[{ n: 2 }]]);
  });

  it("values reach the database exactly, as the extended protocol sends them: quotes, backslashes, unicode, null, arrays, dates, numbers, booleans, JSON", async () => {
    const { db } = observedDb();
    const echo = prepared(
      `SELECT $1::text AS t, $2::text[] AS arr, $3::timestamp AS at, $4::int AS i, $5::float8 AS f, $6::boolean AS b, $7::jsonb AS j, $8::text AS n, $9::bigint::text AS big`,
    );
    const texts = ["it's", "a\\b\\\\c", "E'\\x41'", "é 漢字 🩻 \u00a0", "line\nbreak\ttab", "$1 ; -- /* */", "'); DROP TABLE \"User\"; --", "", '"quoted"', "{braces,commas}", "NULL"];
    const at = new Date("2026-03-29T01:30:00.123Z");
    for (const t of texts) {
      const values = [t, [t, null, "NULL", "x,y", '"', "\\", "{}", "é"], at, -2147483648, 0.1 + 0.2, false, { t, n: [1, null], nested: { q: "'\"\\" } }, null, 9007199254740993n];
      const [[viaExecute]] = (await transactionInOneTrip(db, [execute(echo, values)])) as [[Record<string, unknown>]];
      const [viaExtended] = await sql(db).query<Record<string, unknown>>(echo, values);
      expect(viaExecute).toEqual(viaExtended);
      expect(viaExecute).toEqual({
        t,
        arr: [t, null, "NULL", "x,y", '"', "\\", "{}", "é"],
        at,
        i: -2147483648,
        f: 0.1 + 0.2,
        b: false,
        j: { t, n: [1, null], nested: { q: "'\"\\" } },
        n: null,
        big: "9007199254740993",
      });
    }
    const [[empty]] = (await transactionInOneTrip(db, [execute(echo, ["", [], at, 0, -0.5, true, [], undefined, 0])])) as [[Record<string, unknown>]];
    // An array goes as a PostgreSQL array literal even to a jsonb parameter ({} there), in both protocols alike.
    expect(empty).toMatchObject({ t: "", arr: [], b: true, j: {}, n: null, big: "0" });
    expect(sqlLiteral(null)).toBe("NULL");
    expect(() => sqlLiteral(Number.NaN)).toThrow(/finite/);
    expect(() => sqlLiteral(Buffer.from("x"))).toThrow(/binary/);
  });

  it("a column added to the table does not break a statement prepared before (both protocols)", async () => {
    const { db, sent } = observedDb();
    const table = await scratchTable();
    await sql(testDb()).query(`INSERT INTO "${table}" (id, note) VALUES ('a', 'one')`);
    const read = prepared(`SELECT id, note FROM "${table}" WHERE id = $1`);
    const both = async () => [(await transactionInOneTrip(db, [execute(read, ["a"])]))[0], await sql(db).query(read, ["a"])];
    expect(await both()).toEqual([[{ id: "a", note: "one" }], [{ id: "a", note: "one" }]]);
    await sql(testDb()).query(`ALTER TABLE "${table}" ADD COLUMN extra int DEFAULT 7`);
    await sql(testDb()).query(`CREATE INDEX ON "${table}" (note)`);
    expect(await both()).toEqual([[{ id: "a", note: "one" }], [{ id: "a", note: "one" }]]);
    expect(prepares(sent)).toBe(1);
  });
});
