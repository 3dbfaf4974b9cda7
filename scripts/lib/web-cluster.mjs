/**
 * Several web processes behind one port (issue 16, goal 4): a Node cluster primary that forks
 * WEB_PROCESSES production web processes (scripts/web-server.mjs: tRPC on node:http, the rest
 * through Next.js); each one's `listen` goes through this primary, which owns the socket and hands
 * connections round-robin to the processes (Node's default scheduling on Linux). Used by
 * scripts/start.ts when WEB_PROCESSES > 1 and by scripts/bench-workspace.ts.
 *
 *   node scripts/lib/web-cluster.mjs <processes> <web-server arguments…>   (--port N --host H [--dir D])
 *
 * (A checkout from before scripts/web-server.mjs existed has its own copy of this file, which forks
 * `next start`: bench-workspace's --baseline-tree runs that one.)
 *
 * Every process is a whole web server with its own database pool (10 connections) and its own
 * in-process state. Sessions, the sign-in throttle (per address, per account) and leases live in
 * PostgreSQL and hold across processes. The two in-process caps — concurrent password hashing
 * (LOGIN_MAX_CONCURRENT_HASHES, server/auth/hash-gate.ts) and concurrent imports
 * (IMPORT_MAX_CONCURRENT, server/import/upload-gate.ts) — are machine-wide budgets (CPU, memory),
 * so each process gets its share: the value divided by N, at least 1 (so with more processes than
 * the cap, the machine admits N at once). The session-check cache (SESSION_CHECK_CACHE_MS,
 * server/auth/session-cache.ts) is per process too: when one process ends or narrows a session
 * (sign-out, deactivation, role change, password reset or change), this primary relays the "forget"
 * to all the others and tells that process once they have all applied it (scripts/lib/session-relay.mjs),
 * so the change holds in every process before its request answers. Each
 * process gets RADS_WEB_INSTANCE (0…N-1). SIGTERM/SIGINT stop all of them; when
 * one exits on its own, the others are stopped and the primary exits with its code (the start
 * script then stops the platform, as it does for a single web process).
 */
import cluster from "node:cluster";
import process from "node:process";
import { clearTimeout, setTimeout } from "node:timers";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { relaySessionForgets } from "./session-relay.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, "../..");
const [countArg, ...serverArgs] = process.argv.slice(2);
const count = Number(countArg);
if (!Number.isInteger(count) || count < 1 || count > 64) {
  process.stderr.write(`web-cluster: the number of web processes must be a whole number from 1 to 64 (got "${countArg}")\n`);
  process.exit(1);
}

// The entry stamps the peer address itself (it imports scripts/peer-address.mjs first).
cluster.setupPrimary({ exec: path.join(root, "scripts/web-server.mjs"), args: serverArgs });

let stopping = false;
const stop = (code) => {
  if (stopping) return;
  stopping = true;
  const workers = Object.values(cluster.workers ?? {}).filter(Boolean);
  if (workers.length === 0) process.exit(code);
  let left = workers.length;
  const timer = setTimeout(() => process.exit(code), 10_000);
  for (const worker of workers) {
    worker.once("exit", () => {
      if (--left === 0) {
        clearTimeout(timer);
        process.exit(code);
      }
    });
    worker.process.kill("SIGTERM");
  }
};

/** A machine-wide cap's share per process (defaults as in server/env.ts); an invalid value is passed on for the env check to name. */
function share(name, fallback) {
  const raw = process.env[name] ?? String(fallback);
  const total = Number(raw);
  return Number.isInteger(total) && total >= 1 ? String(Math.max(1, Math.floor(total / count))) : raw;
}
const caps = { LOGIN_MAX_CONCURRENT_HASHES: share("LOGIN_MAX_CONCURRENT_HASHES", 2), IMPORT_MAX_CONCURRENT: share("IMPORT_MAX_CONCURRENT", 2) };

relaySessionForgets(cluster);
for (let i = 0; i < count; i++) cluster.fork({ ...caps, RADS_WEB_INSTANCE: String(i) });
cluster.on("exit", (worker, code, signal) => {
  if (stopping) return;
  process.stderr.write(`web-cluster: web process ${worker.process.pid} exited (${signal ?? `code ${code}`}); stopping the others\n`);
  stop(code || 1);
});
process.on("SIGTERM", () => stop(0));
process.on("SIGINT", () => stop(0));
