import { describe, expect, it } from "vitest";
import { childPids, cpuBetween, cpuSnapshot, findDescendant, parseMachineStat, parseProcStat, processTable, treePids, type ProcSource } from "./proc-cpu";

/** A /proc/<pid>/stat line as proc(5) lays it out (52 fields); times in clock ticks. */
function statLine(p: { pid: number; comm: string; ppid: number; utime: number; stime: number; cutime?: number; cstime?: number; nice?: number; start: number }): string {
  const fields = Array.from({ length: 52 }, () => "0");
  const set = (field: number, value: string | number) => (fields[field - 1] = String(value));
  set(1, p.pid);
  set(2, `(${p.comm})`);
  set(3, "S");
  set(4, p.ppid);
  set(14, p.utime);
  set(15, p.stime);
  set(16, p.cutime ?? 0);
  set(17, p.cstime ?? 0);
  set(18, 20 + (p.nice ?? 0));
  set(19, p.nice ?? 0);
  set(22, p.start);
  set(23, 123456789); // vsize: a field after starttime, so an off-by-one would read it
  return `${fields.join(" ")}\n`;
}

/** A synthetic /proc: per pid a stat line and a command line; the machine's "cpu" line in ticks. */
function fakeProc() {
  const stats = new Map<number, Parameters<typeof statLine>[0]>();
  const cmdlines = new Map<number, string>();
  const machine = { user: 0, nice: 0, system: 0, idle: 0, iowait: 0, irq: 0, softirq: 0, steal: 0, guest: 0 };
  const source: ProcSource = {
    pids: () => [...stats.keys()],
    stat: (pid) => (stats.has(pid) ? statLine(stats.get(pid)!) : null),
    cmdline: (pid) => cmdlines.get(pid) ?? null,
    machineStat: () => `cpu  ${machine.user} ${machine.nice} ${machine.system} ${machine.idle} ${machine.iowait} ${machine.irq} ${machine.softirq} ${machine.steal} ${machine.guest} 0\ncpu0 1 2 3 4 5 6 7 8 0 0\n`,
  };
  const add = (pid: number, ppid: number, cmdline: string, ticks = 0, start = pid * 10) => {
    stats.set(pid, { pid, comm: cmdline.split(" ")[0]!.slice(0, 15), ppid, utime: ticks, stime: 0, start });
    cmdlines.set(pid, cmdline.replace(/ /g, "\0") + "\0");
  };
  const run = (pid: number, ticks: number) => (stats.get(pid)!.utime += ticks);
  return { source, stats, machine, add, run, remove: (pid: number) => (stats.delete(pid), cmdlines.delete(pid)) };
}

describe("parseProcStat", () => {
  it("reads ppid, own and children's times (seconds), nice and start time, counting fields from the last ')'", () => {
    const line = statLine({ pid: 4242, comm: "postgres: rads (x) idle", ppid: 17, utime: 250, stime: 50, cutime: 1000, cstime: 234, nice: 10, start: 98765 });
    expect(parseProcStat(line)).toEqual({ pid: 4242, ppid: 17, ownS: 3, childrenS: 12.34, nice: 10, startTicks: 98765 });
  });

  it("reads a negative nice value", () => {
    expect(parseProcStat(statLine({ pid: 5, comm: "node", ppid: 1, utime: 1, stime: 1, nice: -5, start: 1 }))!.nice).toBe(-5);
  });

  it("returns null for text that is not a stat line", () => {
    expect(parseProcStat("")).toBeNull();
    expect(parseProcStat("12 (node) S 1 2")).toBeNull(); // cut short: no utime/stime
  });
});

describe("parseMachineStat", () => {
  it("sums user through steal as total and leaves idle and iowait out of busy; guest is inside user", () => {
    // user nice system idle iowait irq softirq steal guest guest_nice (ticks)
    expect(parseMachineStat("cpu  100 20 30 400 50 5 5 10 70 0\ncpu0 1 1 1 1 1 1 1 1 0 0\n")).toEqual({ busyS: 1.7, totalS: 6.2 });
  });

  it("refuses a file whose first line is not the cpu total", () => {
    expect(() => parseMachineStat("intr 1 2 3\n")).toThrow(/first line is not the "cpu" total/);
  });
});

describe("process table", () => {
  it("lists parents and command lines, walks trees and finds a descendant by its command line", () => {
    const proc = fakeProc();
    proc.add(1, 0, "init");
    proc.add(10, 1, "node scripts/start.ts");
    proc.add(11, 10, "node scripts/lib/web-cluster.mjs 2");
    proc.add(12, 11, "node scripts/web-server.mjs --port 3000");
    proc.add(13, 11, "node scripts/web-server.mjs --port 3000");
    proc.add(20, 10, "/usr/lib/postgresql/bin/postgres -D /tmp/pg");
    proc.add(21, 20, "postgres: rads idle");
    const table = processTable(proc.source);
    expect(table.get(12)).toEqual({ ppid: 11, cmdline: "node scripts/web-server.mjs --port 3000" });
    expect(treePids(11, table).sort()).toEqual([11, 12, 13]);
    expect(childPids(20, table)).toEqual([21]);
    expect(findDescendant(10, /\/bin\/postgres\b.*-D/, table)).toBe(20);
    expect(findDescendant(10, /web-server\.mjs|web-cluster\.mjs/, table)).toBe(11); // breadth first: the cluster primary
    expect(findDescendant(10, /nothing-like-this/, table)).toBeNull();
  });

  it("skips a process that vanished between listing and reading", () => {
    const proc = fakeProc();
    proc.add(5, 1, "node a.js");
    const source: ProcSource = { ...proc.source, pids: () => [5, 6] };
    expect([...processTable(source).keys()]).toEqual([5]);
  });
});

describe("cpuSnapshot / cpuBetween", () => {
  it("charges each group its processes' time between two snapshots, the driver its own and the rest of the machine what is left", () => {
    const proc = fakeProc();
    proc.add(100, 1, "web", 500);
    proc.add(200, 1, "postgres", 50);
    proc.add(201, 200, "backend", 1000);
    proc.machine.user = 10_000;
    proc.machine.idle = 5_000;
    const groups = () => [["web", [100]], ["pg", [201]], ["pg other", [200]]] as const;
    const before = cpuSnapshot(groups(), { source: proc.source, driverS: 7, reapedOf: 200 });
    proc.run(100, 120); // web 1.2 s
    proc.run(201, 80); // backend 0.8 s
    proc.machine.user += 350; // 3.5 s busy in all: 1.2 + 0.8 + driver 0.5 + 1.0 of others
    proc.machine.idle += 50;
    const after = cpuSnapshot(groups(), { source: proc.source, driverS: 7.5, reapedOf: 200 });
    const d = cpuBetween(before, after);
    expect([...d.groups.keys()]).toEqual(["web", "pg", "pg other"]);
    expect(d.groups.get("web")).toBeCloseTo(1.2, 9);
    expect(d.groups.get("pg")).toBeCloseTo(0.8, 9);
    expect(d.groups.get("pg other")).toBe(0);
    expect(d.driverS).toBeCloseTo(0.5, 9);
    expect(d.busyS).toBeCloseTo(3.5, 9);
    expect(d.totalS).toBeCloseTo(4, 9);
    expect(d.restS).toBeCloseTo(1.0, 9);
    expect(d.reapedS).toBe(0);
  });

  it("counts a process started in between whole, misses one that ended (its parent's reaped time shows it) and tells a reused pid apart", () => {
    const proc = fakeProc();
    proc.add(200, 1, "postgres", 0);
    proc.add(201, 200, "backend", 300); // ends in between
    proc.add(202, 200, "backend", 400, 5000); // its pid is reused in between
    const backends = () => [["pg", [200, 201, 202, 203].filter((p) => proc.stats.has(p))]] as const;
    const before = cpuSnapshot(backends(), { source: proc.source, driverS: 0, reapedOf: 200 });
    proc.run(201, 25);
    proc.remove(201);
    proc.stats.get(200)!.cutime = 325; // the postmaster waited for it: all of its 3.25 s
    proc.remove(202);
    proc.stats.get(200)!.cutime = 325 + 400; // and for the old 202, idle in between: its 4.0 s
    proc.add(202, 200, "backend", 40, 6000); // a new process with the old pid: 0.4 s, all in between
    proc.add(203, 200, "backend", 60); // started in between: 0.6 s
    proc.machine.user += 200;
    const after = cpuSnapshot(backends(), { source: proc.source, driverS: 0, reapedOf: 200 });
    const d = cpuBetween(before, after);
    expect(d.groups.get("pg")).toBeCloseTo(1.0, 9);
    expect(d.reapedS).toBeCloseTo(7.25, 9);
    // Of which 0.25 s in between: 7.25 less what the two ended backends had used at the first snapshot (3.0 + 4.0).
    expect(d.endedS).toBeCloseTo(0.25, 9);
    // The ended backend's 0.25 s in between is part of the machine's busy time, so of the rest.
    expect(d.restS).toBeCloseTo(1.0, 9);
  });

  it("counts a pid listed in two groups once, in the first, and keeps each group's nice values", () => {
    const proc = fakeProc();
    proc.add(300, 1, "worker", 0);
    proc.stats.get(300)!.nice = 19;
    const groups = [["worker", [300]], ["tree", [300]]] as const;
    const before = cpuSnapshot(groups, { source: proc.source, driverS: 0 });
    proc.run(300, 100);
    proc.machine.user += 100;
    const d = cpuBetween(before, cpuSnapshot(groups, { source: proc.source, driverS: 0 }));
    expect(Object.fromEntries(d.groups)).toEqual({ worker: 1 });
    expect([...d.nice.get("worker")!]).toEqual([19]);
    expect(d.restS).toBe(0);
  });

  it("without reapedOf reports no reaped time, and never a negative rest", () => {
    const proc = fakeProc();
    proc.add(400, 1, "busy", 0);
    const before = cpuSnapshot([["x", [400]]], { source: proc.source, driverS: 0 });
    proc.run(400, 100); // 1 s of process time, but the machine line moved less (tick rounding)
    proc.machine.user += 90;
    const d = cpuBetween(before, cpuSnapshot([["x", [400]]], { source: proc.source, driverS: 0 }));
    expect(d.reapedS).toBe(0);
    expect(d.restS).toBe(0);
  });
});
