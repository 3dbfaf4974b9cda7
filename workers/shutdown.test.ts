import { describe, expect, it } from "vitest";
import { ADMIN_SHUTDOWN, isAdminShutdown, queueErrorLevel, workerLifecycle, type QueueErrorLevel } from "./shutdown";

/** pg's DatabaseError as the driver raises it (a message and the SQLSTATE in `code`). */
function pgError(message: string, code?: string): Error {
  return Object.assign(new Error(message), code ? { code, severity: "FATAL" } : {});
}

const adminShutdown = () => pgError("terminating connection due to administrator command", ADMIN_SHUTDOWN);

describe("queueErrorLevel", () => {
  it("the database's administrator shutdown is info, and anything unreachable while stopping is debug", () => {
    expect(isAdminShutdown(adminShutdown())).toBe(true);
    expect(isAdminShutdown(new Error("wrapped", { cause: adminShutdown() }))).toBe(true);
    expect(queueErrorLevel(adminShutdown(), false)).toBe("info");
    expect(queueErrorLevel(adminShutdown(), true)).toBe("debug");
    expect(queueErrorLevel(pgError("connect ECONNREFUSED 127.0.0.1:54329", "ECONNREFUSED"), true)).toBe("debug");
    expect(queueErrorLevel(pgError("Connection terminated unexpectedly"), true)).toBe("debug");
  });

  it("an outage outside a stop is a warning; any other failure stays an error, stopping or not", () => {
    expect(queueErrorLevel(pgError("connect ECONNREFUSED 127.0.0.1:54329", "ECONNREFUSED"), false)).toBe("warn");
    expect(queueErrorLevel(pgError('relation "pgboss.job" does not exist', "42P01"), false)).toBe("error");
    expect(queueErrorLevel(pgError('relation "pgboss.job" does not exist', "42P01"), true)).toBe("error");
    expect(queueErrorLevel(new TypeError("x is not a function"), true)).toBe("error");
  });
});

describe("workerLifecycle", () => {
  function harness() {
    const lines: { level: QueueErrorLevel; message: string }[] = [];
    const exits: number[] = [];
    let queueStops = 0;
    let finishQueueStop: () => void = () => undefined;
    const lifecycle = workerLifecycle({
      stopQueue: () => {
        queueStops++;
        return new Promise<void>((resolve) => (finishQueueStop = resolve));
      },
      exit: (code) => exits.push(code),
      log: (level, message) => lines.push({ level, message }),
    });
    return { lifecycle, lines, exits, queueStops: () => queueStops, finishQueueStop: () => finishQueueStop() };
  }

  it("Ctrl-C's SIGINT, start.ts's SIGTERM and the database's shutdown: one stop, no error-level line", async () => {
    const h = harness();
    // The database is told to stop at the same moment as the worker: its notice may come first, from each pg-boss loop.
    h.lifecycle.onQueueError(adminShutdown());
    h.lifecycle.onQueueError(adminShutdown());
    const first = h.lifecycle.stop();
    const second = h.lifecycle.stop();
    expect(h.lifecycle.stopping).toBe(true);
    h.lifecycle.onQueueError(adminShutdown());
    h.lifecycle.onQueueError(pgError("connect ECONNREFUSED 127.0.0.1:54329", "ECONNREFUSED"));
    h.finishQueueStop();
    await Promise.all([first, second]);
    expect(h.queueStops()).toBe(1);
    expect(h.exits).toEqual([0]);
    expect(h.lines.filter((l) => l.level === "error" || l.level === "warn")).toEqual([]);
    expect(h.lines.filter((l) => l.message === "worker stopping")).toHaveLength(1);
    expect(h.lines.filter((l) => l.message === "worker stopped")).toHaveLength(1);
    expect(h.lines.filter((l) => l.level === "info" && /database is shutting down/.test(l.message))).toHaveLength(1);
  });

  it("a failing queue stop still exits once; a real error before the stop is still an error", async () => {
    const lines: { level: QueueErrorLevel; message: string }[] = [];
    const exits: number[] = [];
    const lifecycle = workerLifecycle({ stopQueue: () => Promise.reject(adminShutdown()), exit: (code) => exits.push(code), log: (level, message) => lines.push({ level, message }) });
    lifecycle.onQueueError(new Error("boom"));
    await lifecycle.stop();
    expect(exits).toEqual([0]);
    expect(lines.filter((l) => l.level === "error")).toEqual([{ level: "error", message: "job queue error" }]);
  });
});
