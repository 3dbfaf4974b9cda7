/**
 * node --import tsx scripts/bench-pg-transport.ts [--rounds 7 --read-ops 6000 --write-ops 2000]
 *
 * A benchmark, not a test (issue 16 goals 2–3): does the embedded PostgreSQL cost less CPU over a
 * Unix-domain socket than over loopback TCP? A fresh embedded PostgreSQL in a temporary folder,
 * started like `npm start` (startEmbeddedPostgres), gets two small tables; the same mix then runs
 * over both transports with a pg Pool of 10 connections and 10 or 50 concurrent callers:
 *   read:  one prepared SELECT by primary key;
 *   write: BEGIN; UPDATE one row by primary key; INSERT one row; COMMIT (4 round trips).
 * Each round runs every (workload, callers) cell over TCP and over the socket back to back, the
 * order alternating between rounds, so both see the same machine load. Per cell: client CPU ms per
 * operation (process.cpuUsage), the PostgreSQL processes' CPU ms per operation (/proc: the
 * postmaster and all its children — backends, WAL writer, checkpointer — utime + stime, 10 ms
 * ticks) and operations per second; the table gives medians over the rounds and the change of
 * client + PostgreSQL CPU per operation (socket ÷ TCP − 1). Linux only (/proc).
 *
 * Both pools are opened and filled before the rounds, so connection set-up is not measured.
 */
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import pg from "pg";
import { freePort, startEmbeddedPostgres } from "../server/db/embedded-postgres";
import { childPids, cpuBetween, cpuSnapshot, processTable } from "./lib/proc-cpu";

const { values: args } = parseArgs({
  options: {
    rounds: { type: "string", default: "7" },
    "read-ops": { type: "string", default: "6000" },
    "write-ops": { type: "string", default: "2000" },
  },
});
const ROUNDS = Number(args.rounds);
const OPS = { read: Number(args["read-ops"]), write: Number(args["write-ops"]) } as const;
const CALLERS = [10, 50] as const;
const POOL_SIZE = 10;
const ROWS = 10_000;
const say = (line: string) => process.stderr.write(`[bench:pg-transport] ${line}\n`);

type Transport = "tcp" | "socket";
type Workload = keyof typeof OPS;

/** The same URL with the host replaced by a socket folder (node-postgres and libpq read `?host=<dir>`). */
function socketUrlOf(tcpUrl: string, socketDir: string): string {
  const parsed = new URL(tcpUrl);
  const port = parsed.port;
  parsed.hostname = "localhost";
  parsed.port = "";
  parsed.searchParams.set("host", socketDir);
  parsed.searchParams.set("port", port);
  return parsed.toString();
}

/** The postmaster's pid: the PostgreSQL process started with `-p <port>`. */
function postmasterPid(port: number): number {
  for (const [pid, info] of processTable()) if (/\/postgres -D /.test(info.cmdline) && info.cmdline.includes(` -p ${port} `)) return pid;
  throw new Error(`no postmaster for port ${port} in /proc`);
}

async function runCell(pool: pg.Pool, workload: Workload, callers: number, ops: number): Promise<void> {
  let next = 0;
  const oneRead = async (i: number) => {
    await pool.query({ name: "bench-read", text: "SELECT id, status, version FROM bench_case WHERE id = $1", values: [1 + (i % ROWS)] });
  };
  const oneWrite = async (i: number) => {
    const client = await pool.connect();
    try {
      await client.query("BEGIN");
      await client.query({ name: "bench-update", text: "UPDATE bench_case SET version = version + 1, status = $2 WHERE id = $1", values: [1 + ((i * 7919) % ROWS), i % 2 ? "DONE" : "OPEN"] });
      await client.query({ name: "bench-insert", text: "INSERT INTO bench_event (case_id, kind, payload) VALUES ($1, $2, $3)", values: [1 + (i % ROWS), "submit", `{"i":${i}}`] });
      await client.query("COMMIT");
    } catch (error) {
      await client.query("ROLLBACK").catch(() => undefined);
      throw error;
    } finally {
      client.release();
    }
  };
  const one = workload === "read" ? oneRead : oneWrite;
  await Promise.all(
    Array.from({ length: callers }, async () => {
      for (let i = next++; i < ops; i = next++) await one(i);
    }),
  );
}

interface Sample {
  clientMs: number;
  pgMs: number;
  opsPerS: number;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
};

async function main() {
  if (!fs.existsSync("/proc/stat")) throw new Error("bench-pg-transport reads /proc: Linux only");
  const temp = fs.mkdtempSync(path.join(os.tmpdir(), "rads-pgt-"));
  fs.chmodSync(temp, 0o755); // the postgres user must reach the data folder when run as root
  const port = await freePort();
  const db = await startEmbeddedPostgres({ dataDir: path.join(temp, "pg"), port, database: "rads_transport" });
  const pools: Partial<Record<Transport, pg.Pool>> = {};
  try {
    // The embedded server's Unix socket: its own folder when embedded-postgres.ts gives it one (?host=), else the
    // binaries' compiled-in default, /tmp.
    const given = new URL(db.url).searchParams.get("host");
    const socketDir = given ?? "/tmp";
    if (!fs.existsSync(path.join(socketDir, `.s.PGSQL.${port}`))) throw new Error(`no socket ${socketDir}/.s.PGSQL.${port}`);
    const tcpUrl = given ? `postgresql://${new URL(db.url).username}:${new URL(db.url).password}@127.0.0.1:${port}${new URL(db.url).pathname}` : db.url;
    const urls: Record<Transport, string> = { tcp: tcpUrl, socket: socketUrlOf(tcpUrl, socketDir) };
    say(`PostgreSQL on port ${port}, socket ${socketDir}/.s.PGSQL.${port}; load average ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);

    const setup = new pg.Client({ connectionString: urls.tcp });
    await setup.connect();
    await setup.query(`CREATE TABLE bench_case (id int PRIMARY KEY, status text NOT NULL, version int NOT NULL);
      CREATE TABLE bench_event (id bigserial PRIMARY KEY, case_id int NOT NULL, kind text NOT NULL, payload jsonb NOT NULL, at timestamptz NOT NULL DEFAULT now());
      INSERT INTO bench_case SELECT g, 'OPEN', 0 FROM generate_series(1, ${ROWS}) g; ANALYZE bench_case;`);
    await setup.end();

    for (const transport of ["tcp", "socket"] as const) {
      const pool = new pg.Pool({ connectionString: urls[transport], max: POOL_SIZE, idleTimeoutMillis: 0 });
      pool.on("error", () => undefined); // idle connections closed by the server's shutdown at the end
      pools[transport] = pool;
      // Fill the pool and check where each connection goes (inet_client_addr is null over a Unix socket).
      const clients = await Promise.all(Array.from({ length: POOL_SIZE }, () => pool.connect()));
      const [{ addr }] = (await clients[0]!.query<{ addr: string | null }>("SELECT inet_client_addr()::text AS addr")).rows as [{ addr: string | null }];
      if ((addr === null) !== (transport === "socket")) throw new Error(`${transport} pool connected from ${addr ?? "a Unix socket"}`);
      for (const c of clients) c.release();
      await runCell(pool, "read", 10, 500);
      await runCell(pool, "write", 10, 100);
    }

    const postmaster = postmasterPid(port);
    const samples = new Map<string, Sample[]>();
    for (let round = 0; round < ROUNDS; round++) {
      const order: Transport[] = round % 2 === 0 ? ["tcp", "socket"] : ["socket", "tcp"];
      for (const workload of ["read", "write"] as const) {
        for (const callers of CALLERS) {
          for (const transport of order) {
            const pids = [postmaster, ...childPids(postmaster, processTable())];
            const before = cpuSnapshot([["pg", pids]]);
            const started = performance.now();
            await runCell(pools[transport]!, workload, callers, OPS[workload]);
            const seconds = (performance.now() - started) / 1000;
            const between = cpuBetween(before, cpuSnapshot([["pg", pids]]));
            const key = `${workload}|${callers}|${transport}`;
            const list = samples.get(key) ?? [];
            list.push({ clientMs: (between.driverS * 1000) / OPS[workload], pgMs: ((between.groups.get("pg") ?? 0) * 1000) / OPS[workload], opsPerS: OPS[workload] / seconds });
            samples.set(key, list);
          }
        }
      }
      say(`round ${round + 1}/${ROUNDS} done; load average ${os.loadavg()[0]!.toFixed(1)}`);
    }

    const lines = [
      `| workload | callers | transport | client CPU ms/op | PostgreSQL CPU ms/op | sum ms/op | ops/s | sum: socket vs TCP |`,
      `|---|---:|---|---:|---:|---:|---:|---:|`,
    ];
    for (const workload of ["read", "write"] as const) {
      for (const callers of CALLERS) {
        const sums: Partial<Record<Transport, number>> = {};
        for (const transport of ["tcp", "socket"] as const) {
          const list = samples.get(`${workload}|${callers}|${transport}`)!;
          const client = median(list.map((s) => s.clientMs));
          const pgMs = median(list.map((s) => s.pgMs));
          const sum = median(list.map((s) => s.clientMs + s.pgMs));
          sums[transport] = sum;
          const change = transport === "socket" ? `${(((sum / sums.tcp!) - 1) * 100).toFixed(1)} %` : "";
          lines.push(`| ${workload} | ${callers} | ${transport === "tcp" ? "TCP 127.0.0.1" : "Unix socket"} | ${client.toFixed(3)} | ${pgMs.toFixed(3)} | ${sum.toFixed(3)} | ${median(list.map((s) => s.opsPerS)).toFixed(0)} | ${change} |`);
        }
      }
    }
    // Per-round sums, so the reader sees whether every round agrees with the median.
    const perRound = ["", "Per round, client + PostgreSQL CPU ms/op, TCP → socket:"];
    for (const workload of ["read", "write"] as const) {
      for (const callers of CALLERS) {
        const tcp = samples.get(`${workload}|${callers}|tcp`)!;
        const socket = samples.get(`${workload}|${callers}|socket`)!;
        perRound.push(`- ${workload}, ${callers} callers: ${tcp.map((t, i) => `${(t.clientMs + t.pgMs).toFixed(3)} → ${(socket[i]!.clientMs + socket[i]!.pgMs).toFixed(3)}`).join("; ")}`);
      }
    }
    process.stdout.write(`${lines.join("\n")}\n${perRound.join("\n")}\n`);
    say(`${ROUNDS} rounds; load average at the end ${os.loadavg().map((l) => l.toFixed(1)).join(" ")}`);
  } finally {
    for (const pool of Object.values(pools)) await pool.end().catch(() => undefined);
    await db.stop().catch(() => undefined);
    fs.rmSync(temp, { recursive: true, force: true });
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
