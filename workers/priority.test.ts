import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { backendRenicer, DEFAULT_WORKER_NICE, parseWorkerNice, renicePlan, type RenicerOptions } from "./priority";

describe("parseWorkerNice", () => {
  it("defaults to the lowest priority (19) and accepts 0–19", () => {
    expect(DEFAULT_WORKER_NICE).toBe(19);
    expect(parseWorkerNice(undefined)).toBe(DEFAULT_WORKER_NICE);
    expect(parseWorkerNice("")).toBe(DEFAULT_WORKER_NICE);
    expect(parseWorkerNice("0")).toBe(0);
    expect(parseWorkerNice("19")).toBe(19);
  });
  it("refuses anything else, naming the variable", () => {
    for (const bad of ["-1", "20", "2.5", "low"]) expect(() => parseWorkerNice(bad)).toThrow(/WORKER_NICE/);
  });
});

describe("lowerWorkerPriority", () => {
  it.runIf(fs.existsSync("/proc/self/task"))("gives every thread of the process, and threads started later, the nice value", () => {
    // A child process, so the test runner's own priority is left alone.
    const script = `
      import { lowerWorkerPriority } from ${JSON.stringify(path.resolve(import.meta.dirname, "priority.ts"))};
      import { Worker } from "node:worker_threads";
      import fs from "node:fs";
      const base = (await import("node:os")).getPriority();
      lowerWorkerPriority(base + 5);
      const w = new Worker("setTimeout(() => {}, 2000)", { eval: true });
      await new Promise((r) => w.once("online", r));
      const nice = fs.readdirSync("/proc/self/task").map((t) => Number(fs.readFileSync("/proc/self/task/" + t + "/stat", "utf8").split(") ")[1].split(" ")[16]));
      console.log(JSON.stringify({ base, nice }));
      await w.terminate();
    `;
    const run = spawnSync(process.execPath, ["--import", "tsx", "--input-type=module", "-e", script], { encoding: "utf8" });
    expect(run.status, run.stderr).toBe(0);
    const { base, nice } = JSON.parse(run.stdout.trim().split("\n").pop()!) as { base: number; nice: number[] };
    const want = Math.min(19, base + 5);
    expect(nice.length).toBeGreaterThan(3);
    expect(nice.every((n) => n === want)).toBe(true);
  });
});

describe("renicePlan", () => {
  it("renices only a database on this machine, and only with a nice value above 0", () => {
    for (const url of ["postgresql://u:p@127.0.0.1:5432/db", "postgresql://u:p@localhost/db", "postgresql://u:p@[::1]:5432/db", "postgresql://u:p@/db?host=%2Fvar%2Frun%2Fpostgresql"]) {
      expect(renicePlan(url, 19), url).toEqual({ kind: "renice" });
    }
    expect(renicePlan("postgresql://u:p@db.internal:5432/db", 19)).toEqual({ kind: "skip", reason: "the database (db.internal) is not on this machine" });
    expect(renicePlan("postgresql://u:p@127.0.0.1:5432/db", 0).kind).toBe("skip");
    expect(renicePlan("not a url", 19).kind).toBe("skip");
  });
});

describe("backendRenicer", () => {
  /** A pg client as the pool hands it to "connect" listeners: its backend pid and socket port. */
  const client = (pid: number, port = 40000) => ({ processID: pid, connection: { stream: { localPort: port } } });
  function fakeSystem(processes: Record<number, { title: string; nice: number }>, options: { refuse?: boolean } = {}) {
    const calls: [number, number][] = [];
    const system: NonNullable<RenicerOptions["system"]> = {
      getPriority: (pid) => processes[pid]!.nice,
      setPriority(pid, nice) {
        calls.push([pid, nice]);
        if (options.refuse) throw Object.assign(new Error("EPERM: operation not permitted"), { code: "EPERM" });
        processes[pid]!.nice = nice;
      },
      cmdline: (pid) => processes[pid]?.title ?? null,
    };
    return { system, calls };
  }
  const local = "postgresql://rads:pw@127.0.0.1:5432/rads";

  it("gives the backend of each new connection the worker's nice value", () => {
    const { system, calls } = fakeSystem({ 101: { title: "postgres: rads rads 127.0.0.1(40000) idle", nice: 0 }, 102: { title: "postgres: rads rads 127.0.0.1(40001) idle", nice: 0 } });
    const logs: string[] = [];
    const renice = backendRenicer({ databaseUrl: local, nice: 19, log: (m) => logs.push(m), system });
    expect(renice(client(101, 40000))).toBe("reniced");
    expect(renice(client(102, 40001))).toBe("reniced");
    expect(renice(client(102, 40001))).toBe("already");
    expect(calls).toEqual([[101, 19], [102, 19]]);
    expect(logs).toEqual(["database backends of the worker reniced"]);
  });

  it("is a no-op, logged once, for a database on another machine", () => {
    const { system, calls } = fakeSystem({ 101: { title: "postgres: rads rads 10.0.0.5(40000) idle", nice: 0 } });
    const logs: unknown[] = [];
    const renice = backendRenicer({ databaseUrl: "postgresql://rads:pw@db.internal:5432/rads", nice: 19, log: (m, f) => logs.push([m, f.reason]), system });
    expect([renice(client(101)), renice(client(101))]).toEqual(["skipped", "skipped"]);
    expect(calls).toEqual([]);
    expect(logs).toEqual([["database backends keep their priority", "the database (db.internal) is not on this machine"]]);
  });

  it("leaves alone a local pid that is not this connection's PostgreSQL backend (another PID namespace)", () => {
    const { system, calls } = fakeSystem({ 101: { title: "/usr/bin/node server.js", nice: 0 }, 102: { title: "postgres: rads rads 127.0.0.1(49999) idle", nice: 0 } });
    const logs: string[] = [];
    const renice = backendRenicer({ databaseUrl: local, nice: 19, log: (m) => logs.push(m), system });
    expect(renice(client(101))).toBe("skipped");
    // Once it cannot tell, it stops trying: a port that does not match is not ours either way.
    expect(renice(client(102, 40000))).toBe("skipped");
    expect(calls).toEqual([]);
    expect(logs).toEqual(["database backends keep their priority"]);
  });

  it("stops after the system refuses (PostgreSQL runs as another user), logged once, never throwing", () => {
    const { system, calls } = fakeSystem({ 101: { title: "postgres: rads rads 127.0.0.1(40000) idle", nice: 0 }, 102: { title: "postgres: rads rads 127.0.0.1(40001) idle", nice: 0 } }, { refuse: true });
    const logs: unknown[] = [];
    const renice = backendRenicer({ databaseUrl: local, nice: 19, log: (m, f) => logs.push([m, f.reason]), system });
    expect(renice(client(101, 40000))).toBe("skipped");
    expect(renice(client(102, 40001))).toBe("skipped");
    expect(calls).toEqual([[101, 19]]);
    expect(logs).toEqual([["database backends keep their priority", "could not renice: EPERM: operation not permitted"]]);
  });

  it("reads a pid and port only from a client that has them", () => {
    const { system, calls } = fakeSystem({});
    const renice = backendRenicer({ databaseUrl: local, nice: 19, log: () => undefined, system });
    expect(renice({})).toBe("skipped");
    expect(renice(null)).toBe("skipped");
    expect(calls).toEqual([]);
  });
});
