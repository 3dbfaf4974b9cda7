/**
 * CPU time per process group from Linux /proc, for the benchmarks that run the platform on the
 * machine they measure (scripts/soak.ts: every 2 s; scripts/bench-workspace.ts: at each phase's
 * start and end). Linux only; on another system `/proc` is missing and `linuxProc` throws.
 *
 * The figures: per process `utime + stime` of /proc/<pid>/stat (its own threads, in clock ticks of
 * 1/100 s, `CLK_TCK`), per group the sum over its processes; the machine's busy time from the first
 * line of /proc/stat (all cores); the load generator's own time from `process.cpuUsage()`.
 * Between two snapshots (`cpuBetween`) a process counts from the first snapshot that saw it — one
 * started in between counts whole — and a process that ended in between is missed in its group: its
 * time in between is in `endedS` when its parent (e.g. PostgreSQL's postmaster, `reapedOf`) waited for
 * it, and always in the machine's busy time (`restS`).
 */
import fs from "node:fs";

/** Clock ticks per second of /proc/<pid>/stat and /proc/stat times (sysconf(_SC_CLK_TCK): 100 on Linux). */
export const CLK_TCK = 100;

/** One /proc/<pid>/stat, times in seconds. */
export interface ProcStat {
  pid: number;
  ppid: number;
  /** utime + stime: the process's own threads. */
  ownS: number;
  /** cutime + cstime: its children that ended and that it waited for. */
  childrenS: number;
  nice: number;
  /** Start time in clock ticks after boot: with the pid, tells a reused pid from the process before it. */
  startTicks: number;
}

/**
 * Parses the text of /proc/<pid>/stat ("pid (comm) state ppid … utime stime cutime cstime priority
 * nice … starttime …", proc(5)); comm may hold spaces and parentheses, so fields are counted from the
 * last ")". Null when the text is not such a line.
 */
export function parseProcStat(text: string): ProcStat | null {
  const close = text.lastIndexOf(")");
  const pid = Number(text.slice(0, text.indexOf(" (")));
  if (close < 0 || !Number.isInteger(pid)) return null;
  // Index 0 is field 3 (state): field n of proc(5) is index n − 3.
  const f = text.slice(close + 2).trim().split(" ");
  const at = (field: number) => Number(f[field - 3]);
  const values = { ppid: at(4), utime: at(14), stime: at(15), cutime: at(16), cstime: at(17), nice: at(19), starttime: at(22) };
  if (Object.values(values).some((v) => !Number.isFinite(v))) return null;
  return { pid, ppid: values.ppid, ownS: (values.utime + values.stime) / CLK_TCK, childrenS: (values.cutime + values.cstime) / CLK_TCK, nice: values.nice, startTicks: values.starttime };
}

/**
 * Busy and total CPU seconds of the whole machine, all cores, from the text of /proc/stat (its first,
 * "cpu", line: user nice system idle iowait irq softirq steal guest guest_nice). Total is user through
 * steal (guest time is already inside user and nice); busy is total less idle and iowait.
 */
export function parseMachineStat(text: string): { busyS: number; totalS: number } {
  const line = text.split("\n")[0]!.trim();
  if (!/^cpu\s/.test(line)) throw new Error(`/proc/stat: the first line is not the "cpu" total: ${line.slice(0, 40)}`);
  const ticks = line.split(/\s+/).slice(1, 9).map(Number);
  const total = ticks.reduce((a, b) => a + b, 0);
  const idle = (ticks[3] ?? 0) + (ticks[4] ?? 0);
  return { busyS: (total - idle) / CLK_TCK, totalS: total / CLK_TCK };
}

/** Where the /proc files come from: the real /proc, or a test's synthetic texts. Null: that process is gone. */
export interface ProcSource {
  pids(): number[];
  stat(pid: number): string | null;
  cmdline(pid: number): string | null;
  machineStat(): string;
}

const readOrNull = (file: string) => {
  try {
    return fs.readFileSync(file, "utf8");
  } catch {
    return null; // the process ended between listing and reading
  }
};

/** The machine's /proc. */
export const linuxProc: ProcSource = {
  pids: () => fs.readdirSync("/proc").filter((e) => /^\d+$/.test(e)).map(Number),
  stat: (pid) => readOrNull(`/proc/${pid}/stat`),
  cmdline: (pid) => readOrNull(`/proc/${pid}/cmdline`),
  machineStat: () => fs.readFileSync("/proc/stat", "utf8"),
};

export interface ProcessInfo {
  ppid: number;
  /** Arguments joined by spaces (NULs of /proc/<pid>/cmdline replaced). */
  cmdline: string;
}

/** Every process now: pid → parent pid and command line. */
export function processTable(source: ProcSource = linuxProc): Map<number, ProcessInfo> {
  const table = new Map<number, ProcessInfo>();
  for (const pid of source.pids()) {
    const stat = source.stat(pid);
    const parsed = stat === null ? null : parseProcStat(stat);
    const cmdline = source.cmdline(pid);
    if (parsed && cmdline !== null) table.set(pid, { ppid: parsed.ppid, cmdline: cmdline.replace(/\0/g, " ").trim() });
  }
  return table;
}

/** `root` and all its descendants in `table` (root first). */
export function treePids(root: number, table: Map<number, { ppid: number }>): number[] {
  const out = [root];
  for (let i = 0; i < out.length; i++) for (const [pid, info] of table) if (info.ppid === out[i]) out.push(pid);
  return out;
}

/** The direct children of `parent` in `table`. */
export function childPids(parent: number, table: Map<number, { ppid: number }>): number[] {
  return [...table].filter(([, info]) => info.ppid === parent).map(([pid]) => pid);
}

/** The first descendant of `parent` (breadth first) whose command line matches `pattern`; null when none. */
export function findDescendant(parent: number, pattern: RegExp, table: Map<number, ProcessInfo>): number | null {
  const queue = [parent];
  while (queue.length) {
    const pid = queue.shift()!;
    for (const [child, info] of table) {
      if (info.ppid !== pid) continue;
      if (pattern.test(info.cmdline)) return child;
      queue.push(child);
    }
  }
  return null;
}

/** CPU seconds of every process of every group at one moment, with the machine's and the load generator's. */
export interface CpuSnapshot<G extends string> {
  /** Key `pid:startTicks` → its group (the first group that listed it), own CPU seconds, nice value and parent. */
  processes: Map<string, { group: G; seconds: number; nice: number; ppid: number }>;
  /** The calling process's own CPU seconds (user + system). */
  driverS: number;
  machine: { busyS: number; totalS: number };
  /** The process whose ended children are counted, and their CPU seconds (its cutime + cstime); null without one. */
  reapedOf: number | null;
  reapedS: number | null;
}

/**
 * Reads the CPU time of each listed process now (a pid listed twice counts in the first group that
 * lists it; pids that are gone are skipped), the machine's (/proc/stat), the caller's own
 * (`driverS`, default `process.cpuUsage()`) and, with `reapedOf`, that process's reaped children.
 */
export function cpuSnapshot<G extends string>(groups: Iterable<readonly [G, readonly number[]]>, options: { source?: ProcSource; driverS?: number; reapedOf?: number | null } = {}): CpuSnapshot<G> {
  const source = options.source ?? linuxProc;
  const processes = new Map<string, { group: G; seconds: number; nice: number; ppid: number }>();
  for (const [group, pids] of groups) {
    for (const pid of pids) {
      const text = source.stat(pid);
      const stat = text === null ? null : parseProcStat(text);
      if (!stat) continue;
      const key = `${pid}:${stat.startTicks}`;
      if (!processes.has(key)) processes.set(key, { group, seconds: stat.ownS, nice: stat.nice, ppid: stat.ppid });
    }
  }
  let reapedS: number | null = null;
  if (options.reapedOf != null) {
    const text = source.stat(options.reapedOf);
    reapedS = (text === null ? null : parseProcStat(text))?.childrenS ?? null;
  }
  const usage = options.driverS === undefined ? process.cpuUsage() : null;
  return { processes, driverS: usage ? (usage.user + usage.system) / 1e6 : options.driverS!, machine: parseMachineStat(source.machineStat()), reapedOf: options.reapedOf ?? null, reapedS };
}

/** CPU seconds spent between two snapshots. */
export interface CpuBetween<G extends string> {
  /** Per group: each process's time since the first snapshot that saw it (whole, when started in between). */
  groups: Map<G, number>;
  /** Per group: the nice values its processes had at `after`. */
  nice: Map<G, Set<number>>;
  /** The load generator (the caller). */
  driverS: number;
  /** The machine: busy and total (busy + idle) seconds over all cores; total ÷ wall seconds ≈ the number of cores. */
  busyS: number;
  totalS: number;
  /** Children of `reapedOf` that ended in between (e.g. PostgreSQL backends that exited), their whole CPU time, also
   * what they used before `before`; 0 without `reapedOf`. */
  reapedS: number;
  /** The part of `reapedS` spent in between: less what the ended children listed in `before` had used by then (exact
   * when `before` listed all of `reapedOf`'s children). Missed in `groups`, inside `restS`. */
  endedS: number;
  /** Busy time of no listed group and not the driver (other processes; processes that ended in between). */
  restS: number;
}

export function cpuBetween<G extends string>(before: CpuSnapshot<G>, after: CpuSnapshot<G>): CpuBetween<G> {
  const groups = new Map<G, number>();
  const nice = new Map<G, Set<number>>();
  let listed = 0;
  for (const [key, now] of after.processes) {
    const seconds = now.seconds - (before.processes.get(key)?.seconds ?? 0);
    groups.set(now.group, (groups.get(now.group) ?? 0) + seconds);
    if (!nice.has(now.group)) nice.set(now.group, new Set());
    nice.get(now.group)!.add(now.nice);
    listed += seconds;
  }
  const driverS = after.driverS - before.driverS;
  const busyS = after.machine.busyS - before.machine.busyS;
  const reaped = before.reapedS !== null && after.reapedS !== null && before.reapedOf === after.reapedOf;
  const reapedS = reaped ? Math.max(0, after.reapedS! - before.reapedS!) : 0;
  let endedBefore = 0;
  if (reaped) for (const [key, then] of before.processes) if (then.ppid === before.reapedOf && !after.processes.has(key)) endedBefore += then.seconds;
  return { groups, nice, driverS, busyS, totalS: after.machine.totalS - before.machine.totalS, reapedS, endedS: Math.max(0, reapedS - endedBefore), restS: Math.max(0, busyS - listed - driverS) };
}
