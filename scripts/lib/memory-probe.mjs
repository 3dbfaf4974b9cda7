/**
 * Preloaded into every platform process by `npm run soak -- --memory-probe` (NODE_OPTIONS=--import):
 * every 5 s it appends one JSON line of `process.memoryUsage()` (bytes: rss, heapTotal, heapUsed,
 * external, arrayBuffers) with the process's role (RADS_PROCESS: web, worker; a cluster primary has
 * none) to RADS_MEMORY_PROBE_DIR/<pid>.jsonl. Does nothing when that variable is unset. The timer
 * is unref'd so it never keeps a process alive.
 */
import fs from "node:fs";
import path from "node:path";
import process from "node:process";
import { setInterval } from "node:timers";

const dir = process.env.RADS_MEMORY_PROBE_DIR;
if (dir) {
  const file = path.join(dir, `${process.pid}.jsonl`);
  const sample = () => {
    const m = process.memoryUsage();
    const line = { t: Date.now(), role: process.env.RADS_PROCESS ?? "other", argv: process.argv.slice(1, 2).map((a) => path.basename(a)), rss: m.rss, heapTotal: m.heapTotal, heapUsed: m.heapUsed, external: m.external, arrayBuffers: m.arrayBuffers };
    try {
      fs.appendFileSync(file, `${JSON.stringify(line)}\n`);
    } catch {
      // the folder went away (the soak ended)
    }
  };
  sample();
  setInterval(sample, 5000).unref();
}
