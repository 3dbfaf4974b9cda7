/**
 * The raw-SQL helper of the hot path (server/db/sql.ts) on the test database: timestamps read as UTC
 * whatever the process's time zone, transactions commit, roll back on a throw, refuse to run past
 * their timeout and give up waiting for a connection after maxWait; BEGIN's companion statements
 * return their rows; ids have cuid's shape.
 */
import { afterAll, describe, expect, it } from "vitest";
import { testDb } from "../testing/fixtures";
import { createDb, poolOf, type Db } from "./client";
import { literal, newId, sql, transaction, transactionInOneTrip, TransactionTimeoutError } from "./sql";

const own: Db[] = [];
afterAll(async () => {
  for (const db of own) await db.$disconnect();
  await testDb().$disconnect();
});

async function scratchTable(): Promise<string> {
  const name = `sql_test_${newId()}`;
  await sql(testDb()).query(`CREATE TABLE "${name}" (id text PRIMARY KEY, at timestamp(3))`);
  return name;
}

describe("sql", () => {
  it("writes a Date as its UTC time and reads timestamp without time zone back as UTC, in any process time zone", async () => {
    const table = await scratchTable();
    const at = new Date("2026-03-29T01:30:00.123Z"); // a daylight-saving change in Europe
    const savedTz = process.env.TZ;
    try {
      process.env.TZ = "America/New_York";
      await sql(testDb()).query(`INSERT INTO "${table}" (id, at) VALUES ($1, $2::timestamp)`, ["a", at]);
      const [row] = await sql(testDb()).query<{ at: Date; text: string }>(`SELECT at, at::text AS text FROM "${table}" WHERE id = 'a'`);
      expect(row!.text).toBe("2026-03-29 01:30:00.123");
      expect(row!.at.getTime()).toBe(at.getTime());
      // Prisma reads the same row as the same instant.
      process.env.TZ = "Asia/Kolkata";
      const [again] = await sql(testDb()).query<{ at: Date }>(`SELECT at FROM "${table}" WHERE id = 'a'`);
      expect(again!.at.toISOString()).toBe(at.toISOString());
    } finally {
      if (savedTz === undefined) delete process.env.TZ;
      else process.env.TZ = savedTz;
    }
  });

  it("commits a transaction, and rolls everything back when its function throws", async () => {
    const table = await scratchTable();
    await transaction(testDb(), async (tx) => {
      await tx.query(`INSERT INTO "${table}" (id) VALUES ($1)`, ["kept"]);
    });
    await expect(
      transaction(testDb(), async (tx) => {
        await tx.query(`INSERT INTO "${table}" (id) VALUES ($1)`, ["lost"]);
        throw new Error("refused");
      }),
    ).rejects.toThrow("refused");
    const rows = await sql(testDb()).query<{ id: string }>(`SELECT id FROM "${table}" ORDER BY id`);
    expect(rows.map((r) => r.id)).toEqual(["kept"]);
  });

  it("sends BEGIN's companion statements in one go and hands their rows to the function", async () => {
    const table = await scratchTable();
    await sql(testDb()).query(`INSERT INTO "${table}" (id) VALUES ('x'), ('y')`);
    const seen = await transaction(testDb(), async (_tx, rows) => rows, {
      begin: [`SELECT id FROM "${table}" WHERE id = ${literal("x")} FOR UPDATE`, `SELECT count(*)::int AS n FROM "${table}" WHERE id <> ${literal("it's")}`],
    });
    expect(seen).toEqual([[{ id: "x" }], [{ n: 2 }]]);
  });

  it("runs a transaction in one round trip: each statement's rows in order, committed; a failing statement rolls all of it back", async () => {
    const table = await scratchTable();
    const rows = await transactionInOneTrip(testDb(), [
      `INSERT INTO "${table}" (id) VALUES (${literal("a")}) RETURNING id`,
      `SELECT set_config('rads.test_value', ${literal("carried")}, true) AS v`,
      // A later statement sees the earlier one's row and the transaction-local setting.
      `SELECT count(*)::int AS n, current_setting('rads.test_value', true) AS v FROM "${table}"`,
    ]);
    expect(rows).toEqual([[{ id: "a" }], [{ v: "carried" }], [{ n: 1, v: "carried" }]]);
    await expect(transactionInOneTrip(testDb(), [`INSERT INTO "${table}" (id) VALUES ('b')`, `INSERT INTO "${table}" (id) VALUES ('a')`])).rejects.toMatchObject({ code: "23505" });
    const after = await sql(testDb()).query<{ id: string }>(`SELECT id FROM "${table}" ORDER BY id`);
    expect(after.map((r) => r.id)).toEqual(["a"]);
    // The client went back to the pool usable (no transaction left open, the setting gone with it).
    const [fresh] = await sql(testDb()).query<{ v: string | null }>(`SELECT nullif(current_setting('rads.test_value', true), '') AS v`);
    expect(fresh!.v).toBeNull();
  });

  it("refuses statements and the commit once the timeout has passed, and rolls back", async () => {
    const table = await scratchTable();
    const late = transaction(
      testDb(),
      async (tx) => {
        await tx.query(`INSERT INTO "${table}" (id) VALUES ('early')`);
        await new Promise((r) => setTimeout(r, 150));
        await tx.query(`INSERT INTO "${table}" (id) VALUES ('late')`);
      },
      { limits: { maxWait: 1000, timeout: 50 } },
    );
    await expect(late).rejects.toBeInstanceOf(TransactionTimeoutError);
    expect(await sql(testDb()).query(`SELECT id FROM "${table}"`)).toEqual([]);
  });

  it("gives up waiting for a pool connection after maxWait, and the pool still works afterwards", async () => {
    const db = createDb(process.env.DATABASE_URL!);
    own.push(db);
    const pool = poolOf(db);
    const held = await Promise.all(Array.from({ length: 10 }, () => pool.connect()));
    await expect(transaction(db, async () => "never", { limits: { maxWait: 50, timeout: 1000 } })).rejects.toThrow(/no database connection was free/);
    for (const client of held) client.release();
    expect(await transaction(db, async (tx) => (await tx.query<{ one: number }>("SELECT 1 AS one"))[0]!.one)).toBe(1);
  });

  it("a client's $disconnect ends the pool it shares with the raw statements (Prisma itself never ends it)", async () => {
    const db = createDb(process.env.DATABASE_URL!);
    const pool = poolOf(db);
    expect(await db.$queryRawUnsafe<{ one: number }[]>("SELECT 1 AS one")).toEqual([{ one: 1 }]);
    expect((await sql(db).query<{ one: number }>("SELECT 1 AS one"))[0]!.one).toBe(1);
    expect(pool.ended).toBe(false);
    await db.$disconnect();
    expect(pool.ended).toBe(true);
  });

  it("poolOf refuses a client that createDb did not make", () => {
    expect(() => poolOf({} as Db)).toThrow(/createDb/);
  });

  it("newId gives distinct 25-character lower-case ids starting with c", () => {
    const ids = Array.from({ length: 1000 }, newId);
    expect(new Set(ids).size).toBe(1000);
    for (const id of ids) expect(id).toMatch(/^c[0-9a-z]{24}$/);
  });
});
