/**
 * Test harness (server/auth/session-cache-cluster.int.test.ts): a Node cluster primary with the
 * production relay of session-cache forgets (scripts/lib/session-relay.mjs) and two web-process
 * stand-ins (server/testing/session-cluster-worker.ts, each with its own session-check cache).
 * Forked by the test with an IPC channel: { worker: 0|1, reqId, cmd, … } goes to that worker, and
 * every answer with a reqId comes back; { ready: true } once both workers are up.
 */
import cluster from "node:cluster";
import path from "node:path";
import process from "node:process";
import { setTimeout } from "node:timers";
import { fileURLToPath } from "node:url";
import { relaySessionForgets } from "../../scripts/lib/session-relay.mjs";

const here = path.dirname(fileURLToPath(import.meta.url));
cluster.setupPrimary({ exec: path.join(here, "session-cluster-worker.ts"), execArgv: ["--import", "tsx"] });
relaySessionForgets(cluster);

const workers = [cluster.fork(), cluster.fork()];
let up = 0;
for (const worker of workers) {
  worker.on("message", (message) => {
    if (message?.harnessReady && ++up === workers.length) process.send({ ready: true });
    else if (message?.reqId !== undefined) process.send(message);
  });
}
process.on("message", (message) => {
  if (message?.stop) {
    for (const worker of workers) worker.process.kill("SIGTERM");
    setTimeout(() => process.exit(0), 200).unref();
    return;
  }
  workers[message.worker].send(message);
});
cluster.on("exit", (worker, code, signal) => {
  if (code !== 0 && signal !== "SIGTERM") process.stderr.write(`session-cluster: worker ${worker.id} exited (${signal ?? code})\n`);
});
process.on("disconnect", () => {
  for (const worker of workers) worker.process.kill("SIGTERM");
  process.exit(0);
});
