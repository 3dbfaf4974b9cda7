import { describe, expect, it } from "vitest";
import { byColumn, categorize, columnOf, mergeWaits, preparedNames, statementLabel, type PhaseWaits } from "./pg-waits";

describe("pg-waits", () => {
  it("puts a backend in a category from its state and wait event", () => {
    expect(categorize({ state: "active", wait_event_type: null, wait_event: null })).toBe("CPU");
    expect(categorize({ state: "active", wait_event_type: "Lock", wait_event: "transactionid" })).toBe("Lock:transactionid");
    expect(categorize({ state: "active", wait_event_type: "LWLock", wait_event: "WALWrite" })).toBe("LWLock:WALWrite");
    // An idle backend waits for its client too (ClientRead): the state decides.
    expect(categorize({ state: "idle", wait_event_type: "Client", wait_event: "ClientRead" })).toBe("idle");
    expect(categorize({ state: "idle in transaction", wait_event_type: "Client", wait_event: "ClientRead" })).toBe("idle in transaction");
    expect(categorize({ state: "idle in transaction (aborted)", wait_event_type: null, wait_event: null })).toBe("idle in transaction (aborted)");
  });

  it("prints a category under its column", () => {
    expect(columnOf("Lock:tuple")).toBe("Lock");
    expect(columnOf("Lock:advisory")).toBe("Lock");
    expect(columnOf("LWLock:BufferContent")).toBe("LWLock");
    expect(columnOf("IO:WalSync")).toBe("IO");
    expect(columnOf("Client:ClientRead")).toBe("other");
    expect(columnOf("idle in transaction (aborted)")).toBe("other");
    expect(columnOf("CPU")).toBe("CPU");
  });

  it("labels a trip without its values", () => {
    const trip = "BEGIN;\nEXECUTE rads_x_ab12('cmx1', 'it''s', 3, NULL, '{\"a\":1}'::jsonb);\nEXECUTE rads_x_cd34('u1', true)";
    expect(statementLabel(trip)).toBe("BEGIN; EXECUTE rads_x_ab12(…); EXECUTE rads_x_cd34(…)");
    expect(statementLabel("SELECT id FROM \"Case\" WHERE id = $1 FOR UPDATE")).toBe("SELECT id FROM \"Case\" WHERE id = $… FOR UPDATE");
    expect(statementLabel("x".repeat(200), 10)).toHaveLength(10);
    expect(statementLabel(null)).toBe("(none)");
  });

  it("reads the names of a PREPARE trip", () => {
    const trip = "PREPARE rads_x_ab12 AS SELECT 1 FROM \"Case\" WHERE id = $1;\nPREPARE rads_x_cd34 AS WITH r AS (SELECT 2) SELECT * FROM r";
    expect(preparedNames(trip)).toEqual([
      ["rads_x_ab12", "SELECT 1 FROM \"Case\" WHERE id = $1"],
      ["rads_x_cd34", "WITH r AS (SELECT 2) SELECT * FROM r"],
    ]);
    expect(preparedNames("EXECUTE rads_x_ab12('a')")).toEqual([]);
  });

  it("sums the columns and merges phases", () => {
    const phase = (entries: [string, number][]): PhaseWaits => ({ samples: 1, connections: 1, byCategory: new Map(entries), byStatement: new Map([["CPU | x", 1]]), lockHolders: new Map(), busyMean: 0, allBusyShare: 0, inFlightMean: 0, mainSaturatedShare: null, mainIdleShare: null, mainIdlePoolFullShare: null, legend: new Map([["rads_x_1", "SELECT"]]), sched: null });
    const a = phase([["Lock:tuple", 2], ["Lock:transactionid", 3], ["idle", 5]]);
    expect(byColumn(a).get("Lock")).toBe(5);
    expect(byColumn(a).get("CPU")).toBe(0);
    const m = mergeWaits([a, phase([["idle", 1], ["CPU", 4]])]);
    expect(m.total).toBe(15);
    expect(m.byCategory.get("idle")).toBe(6);
    expect(m.byStatement.get("CPU | x")).toBe(2);
    expect(m.legend.get("rads_x_1")).toBe("SELECT");
  });
});
