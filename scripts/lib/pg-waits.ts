/**
 * Where a benchmark phase's requests wait (issue 16, goal 3): while a phase runs, every `intervalMs`
 * (default 10 ms) one query on pg_stat_activity for the backends of the phase's server (its
 * application_name) — each backend's state and wait event, the statement it runs or last ran, and for
 * a backend waiting on a lock the backends that hold it (pg_blocking_pids) — and, beside it, how many
 * HTTP requests the load generator has in flight. At the phase's start and end, /proc/<pid>/schedstat of
 * the server's threads and of those backends: time on a CPU and time runnable but waiting for one.
 *
 * A backend sample falls in one of: "CPU" (active, no wait event: running, or runnable and waiting for a
 * core — the schedstat figures tell which), "Lock:<event>" (a heavyweight lock: transactionid, tuple,
 * advisory…), "LWLock:<event>", "IO:<event>", other active waits, "idle in transaction" (inside a
 * transaction, waiting for the next statement from node: ClientRead), "idle" (free in the pool).
 *
 * Used by scripts/bench-workspace.ts (one sampler for all phases; the sampler's own backend carries
 * application_name rads-bench-waits, so it is never counted in a phase). Linux only for the schedstat part
 * (null elsewhere). The sampling costs a little CPU in this process and in PostgreSQL (one short query
 * per interval), the same in every phase.
 */
import fs from "node:fs";
import pg from "pg";

/** What one backend was doing in one sample. */
export type BackendCategory = string;

/** The categories in the order the tables print them (any other falls under "other"). */
export const WAIT_COLUMNS = ["CPU", "Lock", "LWLock", "IO", "idle in transaction", "other", "idle"] as const;
export type WaitColumn = (typeof WAIT_COLUMNS)[number];

/** The sampled column of a category: "Lock:tuple" → "Lock", "idle" → "idle", "Client:ClientRead" (active) → "other". */
export function columnOf(category: BackendCategory): WaitColumn {
  if (category === "CPU" || category === "idle" || category === "idle in transaction") return category;
  const type = category.split(":")[0];
  if (type === "Lock" || type === "LWLock" || type === "IO") return type;
  return "other";
}

/** One pg_stat_activity row as the sampler reads it. */
export interface ActivityRow {
  pid: number;
  state: string | null;
  wait_event_type: string | null;
  wait_event: string | null;
  query: string | null;
  blockers: number[] | null;
}

/** A backend's category from its pg_stat_activity state and wait event. */
export function categorize(row: Pick<ActivityRow, "state" | "wait_event_type" | "wait_event">): BackendCategory {
  if (row.state === "idle") return "idle";
  if (row.state === "idle in transaction") return "idle in transaction";
  if (row.state !== "active") return row.state ?? "unknown";
  if (!row.wait_event_type) return "CPU";
  return `${row.wait_event_type}:${row.wait_event ?? "?"}`;
}

/**
 * A statement text as a label: literals and numbers replaced by "…", whitespace collapsed, at most `max`
 * characters. A simple-protocol trip ("BEGIN; EXECUTE rads_x_…('…', …); …") keeps its shape.
 */
export function statementLabel(query: string | null, max = 140): string {
  if (!query) return "(none)";
  const text = query
    .replace(/'(?:[^']|'')*'/g, "…")
    .replace(/\b\d+(?:\.\d+)?\b/g, "…")
    .replace(/\((?:…|,|\s|::\w+|\[\]|NULL|true|false|ARRAY\[[^\]]*\])*\)/g, "(…)")
    .replace(/\s+/g, " ")
    .trim();
  return text.length > max ? `${text.slice(0, max - 1)}…` : text;
}

/** `PREPARE name AS text` statements in a trip: name → the first characters of its text (the EXECUTE names' legend). */
export function preparedNames(query: string | null): [string, string][] {
  if (!query) return [];
  const out: [string, string][] = [];
  const re = /PREPARE\s+(\w+)\s+AS\s+([\s\S]*?)(?=;\s*PREPARE\s+\w+\s+AS\s|$)/g;
  for (let m = re.exec(query); m; m = re.exec(query)) out.push([m[1]!, m[2]!.replace(/\s+/g, " ").trim().slice(0, 160)]);
  return out;
}

/** On-CPU and runnable-waiting seconds of a set of threads (/proc/<pid>/task/<tid>/schedstat). */
interface SchedTimes {
  runS: number;
  waitS: number;
}

function schedOf(tids: { pid: number; tid: number }[]): Map<string, SchedTimes> {
  const out = new Map<string, SchedTimes>();
  for (const { pid, tid } of tids) {
    try {
      const [run, wait] = fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ").map(Number);
      out.set(`${pid}/${tid}`, { runS: (run ?? 0) / 1e9, waitS: (wait ?? 0) / 1e9 });
    } catch {
      // Ended in between: left out.
    }
  }
  return out;
}

const threadsOf = (pid: number) => {
  try {
    return fs.readdirSync(`/proc/${pid}/task`).map((t) => ({ pid, tid: Number(t) }));
  } catch {
    return [];
  }
};

/**
 * Summed difference of two schedstat reads; a thread missing at the first read counts from zero with `whole` (a
 * backend the pool opened during the phase), else is left out; one that ended before the second is left out.
 */
function schedBetween(before: Map<string, SchedTimes>, after: Map<string, SchedTimes>, whole = false): SchedTimes {
  let runS = 0;
  let waitS = 0;
  for (const [key, b] of after) {
    const a = before.get(key) ?? (whole ? { runS: 0, waitS: 0 } : undefined);
    if (!a) continue;
    runS += b.runS - a.runS;
    waitS += b.waitS - a.waitS;
  }
  return { runS, waitS };
}

/** A phase's waits, as printed. All shares are of the phase's backend samples (every open connection, idle ones too). */
export interface PhaseWaits {
  samples: number;
  /** Mean open connections of the server's pool (backends with its application_name). */
  connections: number;
  /** Backend samples per category. */
  byCategory: Map<BackendCategory, number>;
  /** Backend samples per "category | statement" (every category but idle). */
  byStatement: Map<string, number>;
  /** Lock waits: "waiting statement ⟵ holder's state: holder's statement" → samples. */
  lockHolders: Map<string, number>;
  /** Mean backends not idle (active or in a transaction), and the share of samples where none was idle. */
  busyMean: number;
  allBusyShare: number;
  /** Mean HTTP requests in flight (sent by the load generator, not yet answered). */
  inFlightMean: number;
  /**
   * Per interval between two samples, the server's main thread(s) on a CPU or runnable (schedstat): the share of
   * intervals where it was so ≥ 90 % of the time (the event loop saturated), < 50 % (the event loop mostly idle), and
   * < 50 % with every pool connection busy at the sample (node waiting for the pool). Null without /proc. schedstat
   * adds a thread's time at scheduling events (a switch, a tick), so over 10 ms intervals it comes in lumps: the idle
   * shares are upper bounds (an interval spent waiting in the run queue can read as idle), the saturated one a lower bound.
   */
  mainSaturatedShare: number | null;
  mainIdleShare: number | null;
  mainIdlePoolFullShare: number | null;
  /** EXECUTE names seen in PREPARE trips → their text's start. */
  legend: Map<string, string>;
  /** From schedstat over the phase, in cores (seconds ÷ wall seconds); null without /proc. */
  sched: {
    /** The server's main thread(s) (a node process's event loop; each worker's with more processes): on a CPU, runnable but waiting. */
    mainRun: number;
    mainWait: number;
    /** All the server's threads (libuv pool, GC, …). */
    serverRun: number;
    serverWait: number;
    /** The backends of its application_name at the phase's end (one opened during the phase counts whole). */
    pgRun: number;
    pgWait: number;
  } | null;
}

const SAMPLE_SQL = `SELECT pid, state, wait_event_type, wait_event, query,
  CASE WHEN wait_event_type = 'Lock' THEN pg_blocking_pids(pid) END AS blockers
  FROM pg_stat_activity WHERE application_name = $1`;

export class PhaseWaitSampler {
  private constructor(
    private readonly client: pg.Client,
    private readonly intervalMs: number,
  ) {}

  static async open(databaseUrl: string, intervalMs = 10): Promise<PhaseWaitSampler> {
    const client = new pg.Client({ connectionString: databaseUrl, application_name: "rads-bench-waits" });
    await client.connect();
    return new PhaseWaitSampler(client, intervalMs);
  }

  private async activity(appName: string): Promise<ActivityRow[]> {
    const { rows } = await this.client.query<ActivityRow>({ name: "rads-bench-waits-sample", text: SAMPLE_SQL, values: [appName] });
    return rows;
  }

  /**
   * Runs `phase` while sampling the backends named `appName` every interval (one sample at a time: the next waits
   * for the last to answer), `inFlight()` read at each sample; `serverPids`: the server's processes (schedstat).
   */
  async measure<T>(appName: string, serverPids: number[], inFlight: () => number, phase: () => Promise<T>): Promise<{ result: T; waits: PhaseWaits }> {
    const proc = fs.existsSync("/proc/self/task");
    const backends0 = (await this.activity(appName)).map((r) => r.pid);
    const serverThreads = () => serverPids.flatMap(threadsOf);
    const main0 = proc ? schedOf(serverPids.map((pid) => ({ pid, tid: pid }))) : null;
    const server0 = proc ? schedOf(serverThreads()) : null;
    const pg0 = proc ? schedOf(backends0.map((pid) => ({ pid, tid: pid }))) : null;
    const t0 = performance.now();

    const waits: PhaseWaits = { samples: 0, connections: 0, byCategory: new Map(), byStatement: new Map(), lockHolders: new Map(), busyMean: 0, allBusyShare: 0, inFlightMean: 0, mainSaturatedShare: null, mainIdleShare: null, mainIdlePoolFullShare: null, legend: new Map(), sched: null };
    const mainThreads = serverPids.map((pid) => ({ pid, tid: pid }));
    /** The main threads' on-CPU + runnable seconds now, and when read. */
    const mainNow = () => {
      let s = 0;
      for (const t of schedOf(mainThreads).values()) s += t.runS + t.waitS;
      return { s, at: performance.now() };
    };
    let mainLast = proc && mainThreads.length > 0 ? mainNow() : null;
    let intervals = 0;
    let saturated = 0;
    let mainIdle = 0;
    let idlePoolFull = 0;
    const add = (map: Map<string, number>, key: string) => map.set(key, (map.get(key) ?? 0) + 1);
    let connections = 0;
    let busy = 0;
    let allBusy = 0;
    let flying = 0;
    let done = false;
    const loop = (async () => {
      while (!done) {
        const requests = inFlight();
        const rows = await this.activity(appName);
        waits.samples++;
        flying += requests;
        connections += rows.length;
        const byPid = new Map(rows.map((r) => [r.pid, r]));
        let notIdle = 0;
        for (const row of rows) {
          const category = categorize(row);
          add(waits.byCategory, category);
          for (const [name, text] of preparedNames(row.query)) waits.legend.set(name, text);
          if (category === "idle") continue;
          notIdle++;
          const label = statementLabel(row.query);
          add(waits.byStatement, `${category} | ${label}`);
          if (category.startsWith("Lock:")) {
            for (const holder of row.blockers ?? []) {
              const h = byPid.get(holder);
              add(waits.lockHolders, `${category} ${label} ⟵ ${h ? `${categorize(h)}: ${statementLabel(h.query)}` : "another server's backend"}`);
            }
          }
        }
        busy += notIdle;
        const poolFull = rows.length > 0 && notIdle === rows.length;
        if (poolFull) allBusy++;
        if (mainLast) {
          const now = mainNow();
          const wall = (now.at - mainLast.at) / 1000;
          if (wall > 0) {
            const load = (now.s - mainLast.s) / wall / mainThreads.length;
            intervals++;
            if (load >= 0.9) saturated++;
            if (load < 0.5) {
              mainIdle++;
              if (poolFull) idlePoolFull++;
            }
          }
          mainLast = now;
        }
        await new Promise((r) => setTimeout(r, this.intervalMs));
      }
    })();
    let result: T;
    try {
      result = await phase();
    } finally {
      done = true;
      await loop;
    }
    const wallS = (performance.now() - t0) / 1000;
    const n = Math.max(1, waits.samples);
    waits.connections = connections / n;
    waits.busyMean = busy / n;
    waits.allBusyShare = allBusy / n;
    waits.inFlightMean = flying / n;
    if (intervals > 0) [waits.mainSaturatedShare, waits.mainIdleShare, waits.mainIdlePoolFullShare] = [saturated / intervals, mainIdle / intervals, idlePoolFull / intervals];
    if (main0 && server0 && pg0) {
      const main = schedBetween(main0, schedOf(serverPids.map((pid) => ({ pid, tid: pid }))));
      const server = schedBetween(server0, schedOf(serverThreads()));
      const backends1 = (await this.activity(appName)).map((r) => r.pid);
      const pgs = schedBetween(pg0, schedOf(backends1.map((pid) => ({ pid, tid: pid }))), true);
      waits.sched = { mainRun: main.runS / wallS, mainWait: main.waitS / wallS, serverRun: server.runS / wallS, serverWait: server.waitS / wallS, pgRun: pgs.runS / wallS, pgWait: pgs.waitS / wallS };
    }
    return { result, waits };
  }

  async close() {
    await this.client.end().catch(() => undefined);
  }
}

/** Share of `part` in the phase's backend samples, as a percentage with one decimal. */
export function share(waits: PhaseWaits, part: number): string {
  const total = [...waits.byCategory.values()].reduce((a, b) => a + b, 0);
  return total === 0 ? "–" : `${((100 * part) / total).toFixed(1)}`;
}

/** Backend samples per printed column. */
export function byColumn(waits: PhaseWaits): Map<WaitColumn, number> {
  const out = new Map<WaitColumn, number>(WAIT_COLUMNS.map((c) => [c, 0]));
  for (const [category, count] of waits.byCategory) out.set(columnOf(category), out.get(columnOf(category))! + count);
  return out;
}

/** Merges phases' counts (e.g. every round of one server and loop) for the detail lists. */
export function mergeWaits(list: PhaseWaits[]): { total: number; byCategory: Map<string, number>; byStatement: Map<string, number>; lockHolders: Map<string, number>; legend: Map<string, string> } {
  const merge = (maps: Map<string, number>[]) => {
    const out = new Map<string, number>();
    for (const m of maps) for (const [k, v] of m) out.set(k, (out.get(k) ?? 0) + v);
    return out;
  };
  const byCategory = merge(list.map((w) => w.byCategory));
  return {
    total: [...byCategory.values()].reduce((a, b) => a + b, 0),
    byCategory,
    byStatement: merge(list.map((w) => w.byStatement)),
    lockHolders: merge(list.map((w) => w.lockHolders)),
    legend: new Map(list.flatMap((w) => [...w.legend])),
  };
}
