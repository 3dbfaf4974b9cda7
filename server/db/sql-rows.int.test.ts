/**
 * server/db/sql.ts reads rows with its own row maker (RowsQuery) instead of pg's Result objects, and writes EXECUTE
 * literals with its own quoting instead of pg.escapeLiteral (issue 16, the web process's CPU per call). Both against
 * pg itself on the test database: the same statements' rows through pg's own query (with the timestamp-as-UTC parser
 * sql.ts had before) and through every path of sql.ts — the pool, a transaction's statement, a simple-protocol trip of
 * several statements — are deeply equal, key order and prototypes included; the literals are byte for byte
 * pg.escapeLiteral's and read back as the same text; timestamps as Date.parse reads them.
 */
import pg from "pg";
import { afterAll, describe, expect, it } from "vitest";
import { testDb } from "../testing/fixtures";
import { poolOf } from "./client";
import { execute, literal, parseUtcTimestamp, prepared, sql, sqlLiteral, transaction, transactionInOneTrip } from "./sql";

afterAll(async () => {
  await testDb().$disconnect();
});

/** What sql.ts read rows with before: pg's Result with timestamp (1114) as UTC. */
const PG_TYPES = {
  getTypeParser(oid: number, format?: "text" | "binary") {
    if (oid === 1114 && format !== "binary") return (value: string) => new Date(`${value.replace(" ", "T")}Z`);
    return pg.types.getTypeParser(oid, format);
  },
};

/** Columns of many types, NULLs, a repeated name, "__proto__", names that need quoting. */
const WIDE = `SELECT 'a''b\\c'::text AS t, 42::int AS i, 9007199254740993::int8 AS big, true AS b, NULL::text AS n,
  '2026-03-29 01:30:00.1'::timestamp(3) AS ts, '2026-12-01 03:52:23.123'::timestamp AS ts3, '0099-01-01 00:00:00'::timestamp AS old,
  'infinity'::timestamp AS inf, '2026-03-29 01:30:00+02'::timestamptz AS tz, ARRAY['x','y"z',NULL]::text[] AS arr,
  '{"k":[1,2]}'::jsonb AS j, 1.5::numeric AS num, 'first' AS dup, 'second' AS dup, 'p' AS "__proto__",
  'q' AS "we""ird.name", x AS series FROM generate_series(1, 3) AS x`;

async function pgRows(text: string, values?: unknown[]): Promise<Record<string, unknown>[]> {
  const result = await poolOf(testDb()).query({ text, values, types: PG_TYPES } as pg.QueryConfig);
  return result.rows as Record<string, unknown>[];
}

function expectSameRows(ours: readonly Record<string, unknown>[], theirs: readonly Record<string, unknown>[]): void {
  expect(ours).toStrictEqual(theirs);
  for (const [i, row] of ours.entries()) {
    expect(Object.keys(row)).toEqual(Object.keys(theirs[i]!));
    expect(Object.getPrototypeOf(row)).toBe(Object.getPrototypeOf(theirs[i]!));
    expect(Object.prototype.hasOwnProperty.call(row, "__proto__")).toBe(Object.prototype.hasOwnProperty.call(theirs[i]!, "__proto__"));
  }
}

describe("sql.ts rows and literals read as pg's own", () => {
  it("the pool, a transaction's statement and a prepared statement answer pg's rows", async () => {
    const expected = await pgRows(WIDE);
    expect(expected).toHaveLength(3);
    expectSameRows(await sql(testDb()).query(WIDE), expected);
    const statement = prepared(`${WIDE} WHERE x >= $1`);
    expectSameRows(await sql(testDb()).query(statement, [1]), await pgRows(statement.text, [1]));
    const inTx = await transaction(testDb(), async (tx) => [await tx.query<Record<string, unknown>>(WIDE), await tx.query<Record<string, unknown>>(statement, [2])]);
    expectSameRows(inTx[0]!, expected);
    expectSameRows(inTx[1]!, await pgRows(statement.text, [2]));
    // No rows, and a statement without a row description.
    expectSameRows(await sql(testDb()).query(`${WIDE} WHERE false`), []);
    expect(await sql(testDb()).query("SELECT 1 WHERE false")).toEqual([]);
  });

  it("a trip of several statements answers each statement's rows, in order, rows or none", async () => {
    const statement = prepared(`${WIDE} WHERE x = $1`);
    const rows = await transactionInOneTrip(testDb(), [WIDE, "SELECT 1 AS one WHERE false", execute(statement, [3]), "SET LOCAL statement_timeout = 5000"]);
    expect(rows).toHaveLength(4);
    expectSameRows(rows[0]!, await pgRows(WIDE));
    expect(rows[1]).toEqual([]);
    expectSameRows(rows[2]!, await pgRows(statement.text, [3]));
    expect(rows[3]).toEqual([]);
  });

  it("an error in a trip rejects with PostgreSQL's error, and the connection goes on", async () => {
    await expect(transactionInOneTrip(testDb(), ["SELECT 1", "SELECT 1/0"])).rejects.toMatchObject({ code: "22012" });
    await expect(sql(testDb()).query("SELECT nope FROM nowhere")).rejects.toMatchObject({ code: "42P01" });
    expect(await sql(testDb()).query<{ ok: number }>("SELECT 1 AS ok")).toEqual([{ ok: 1 }]);
  });

  it("quotes literals as pg.escapeLiteral does, and PostgreSQL reads them back as the same text", async () => {
    const texts = ["", "plain", "it's", "back\\slash", "both ' and \\", "''\\\\", "ünïcödé ✓ \u2028", "line\nbreak\ttab", "{\"json\": \"it's\"}", "a'".repeat(500)];
    for (const text of texts) {
      expect(literal(text)).toBe(pg.escapeLiteral(text));
      expect(sqlLiteral(text)).toBe(pg.escapeLiteral(text));
      const [row] = await sql(testDb()).query<{ v: string }>(`SELECT ${literal(text)}::text AS v`);
      expect(row!.v).toBe(text);
    }
    expect(sqlLiteral({ comment: "it's \\ here" })).toBe(pg.escapeLiteral(JSON.stringify({ comment: "it's \\ here" })));
  });

  it("reads timestamp text as Date.parse reads it as UTC, in the common shape and every other", () => {
    const texts = ["2026-12-01 03:52:23", "2026-12-01 03:52:23.1", "2026-12-01 03:52:23.12", "2026-12-01 03:52:23.123", "2024-02-29 23:59:59.999",
      "2023-02-29 00:00:00", "2026-04-31 00:00:00", "1000-01-01 00:00:00", "0999-12-31 23:59:59", "0099-01-01 00:00:00", "9999-12-31 23:59:59.999",
      "2026-12-01 03:52:23.123456", "2026-12-01 03:52:23.1234", "infinity", "-infinity", "0001-01-01 00:00:00 BC", "12026-01-01 00:00:00", "2026-13-01 00:00:00",
      "2026-12-01 24:00:00", "2026-12-01 03:60:00", "2026-12-01T03:52:23", "2026-12-01 03:52:2x", "2026-12-01 03:52:23."];
    for (let i = 0; i < 2000; i++) {
      const at = new Date(Date.UTC(1000, 0, 1) + Math.floor(Math.random() * (Date.UTC(9999, 11, 31) - Date.UTC(1000, 0, 1))));
      const iso = at.toISOString();
      const fraction = iso.slice(20, 23).replace(/0+$/, "");
      texts.push(`${iso.slice(0, 10)} ${iso.slice(11, 19)}${fraction ? `.${fraction}` : ""}`);
    }
    for (const text of texts) {
      const before = new Date(`${text.replace(" ", "T")}Z`);
      const ours = parseUtcTimestamp(text);
      expect(ours).toBeInstanceOf(Date);
      expect(Number.isNaN(ours.getTime()) ? "NaN" : ours.getTime(), text).toBe(Number.isNaN(before.getTime()) ? "NaN" : before.getTime());
    }
  });
});
