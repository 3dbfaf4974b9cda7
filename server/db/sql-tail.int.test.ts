/**
 * transactionWithTail's commit trip (server/db/sql.ts, issue 16): the end of the transaction's own work (the head) and
 * work that must never cost it (the tail, behind a savepoint) go with the COMMIT in one round trip. A failed tail is
 * rolled back alone and the head's answer is read again (its rows are lost with the failed trip); a failed head rolls
 * everything back and throws its own error; the connection goes back to the pool clean either way.
 */
import { afterAll, describe, expect, it } from "vitest";
import { testDb } from "../testing/fixtures";
import { createDb, type Db } from "./client";
import { literal, newId, sql, transaction, transactionWithTail } from "./sql";

const own: Db[] = [];
afterAll(async () => {
  for (const db of own) await db.$disconnect();
  await testDb().$disconnect();
});

async function scratchTable(): Promise<string> {
  const name = `tail_test_${newId()}`;
  await sql(testDb()).query(`CREATE TABLE "${name}" (id text PRIMARY KEY, n int NOT NULL DEFAULT 0)`);
  return name;
}

const ids = async (table: string) => (await sql(testDb()).query<{ id: string }>(`SELECT id FROM "${table}" ORDER BY id`)).map((r) => r.id);

describe("transactionWithTail with a head", () => {
  it("sends head, tail and COMMIT in one trip and answers with each one's rows", async () => {
    const table = await scratchTable();
    const { result, head, tail } = await transactionWithTail(testDb(), async () => ({
      result: "done",
      head: { statements: [`INSERT INTO "${table}" (id) VALUES (${literal("head")}) RETURNING id`], recovery: [`SELECT id FROM "${table}" WHERE id = 'head'`] },
      tail: [`INSERT INTO "${table}" (id) VALUES (${literal("tail")}) RETURNING id`],
    }));
    expect(result).toBe("done");
    expect(head).toEqual([[{ id: "head" }]]);
    expect(tail).toEqual({ rows: [[{ id: "tail" }]] });
    expect(await ids(table)).toEqual(["head", "tail"]);
  });

  it("a head without a tail commits with it (\"h; COMMIT\")", async () => {
    const table = await scratchTable();
    const { head, tail } = await transactionWithTail(testDb(), async () => ({
      result: null,
      head: { statements: [`INSERT INTO "${table}" (id) VALUES ('only') RETURNING id`], recovery: [] },
      tail: null,
    }));
    expect([head, tail]).toEqual([[[{ id: "only" }]], null]);
    expect(await ids(table)).toEqual(["only"]);
  });

  it("a failed tail is rolled back alone: the head's work commits and its answer comes from the recovery statements", async () => {
    const table = await scratchTable();
    const { head, tail } = await transactionWithTail(testDb(), async () => ({
      result: null,
      head: { statements: [`INSERT INTO "${table}" (id, n) VALUES ('head', 7) RETURNING id, n`], recovery: [`SELECT id, n + 100 AS n FROM "${table}" WHERE id = 'head'`] },
      tail: [`INSERT INTO "${table}" (id) VALUES ('tail')`, `INSERT INTO "${table}" (id) VALUES ('tail')`],
    }));
    expect(head).toEqual([[{ id: "head", n: 107 }]]); // read again by the recovery (n + 100), not the lost trip's answer
    expect(tail).toMatchObject({ error: { code: "23505" } });
    expect(await ids(table)).toEqual(["head"]);
  });

  it("a failed head rolls everything back and throws its own error (not the missing savepoint's); the connection is clean after", async () => {
    const table = await scratchTable();
    const db = createDb(process.env.DATABASE_URL!);
    own.push(db);
    await sql(db).query(`INSERT INTO "${table}" (id) VALUES ('before')`);
    const refused = await transactionWithTail(db, async (tx) => {
      await tx.query(`INSERT INTO "${table}" (id) VALUES ('fn')`);
      return {
        result: null,
        head: { statements: [`INSERT INTO "${table}" (id) VALUES ('before')`], recovery: [`SELECT 1`] },
        tail: [`INSERT INTO "${table}" (id) VALUES ('tail')`],
      };
    }).catch((e: unknown) => e);
    expect(refused).toMatchObject({ code: "23505", table });
    expect(await ids(table)).toEqual(["before"]);
    // The connection went back to the pool clean: the next statement (on the idle connection the pool hands out last-in
    // first-out) is the first of its own transaction — statement_timestamp() equals now() only then — and a transaction runs.
    const [row] = await sql(db).query<{ own: boolean }>(`SELECT now() = statement_timestamp() AS own`);
    expect(row!.own).toBe(true);
    await transaction(db, (tx) => tx.query(`INSERT INTO "${table}" (id) VALUES ('after')`));
    expect(await ids(table)).toEqual(["after", "before"]);
  });
});
