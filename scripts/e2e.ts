/**
 * Runs the Playwright suite against a fresh platform (new embedded database in a temporary folder)
 * and fails when no end-to-end test ran, so the suite can never be skipped silently.
 *   npm run test:e2e [-- <playwright args>]
 */
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { freePort } from "../server/db/embedded-postgres";

const root = path.resolve(import.meta.dirname, "..");
const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), "rads-e2e-"));
fs.chmodSync(dataDir, 0o755); // the embedded postgres user must reach it when run as root
const resultsFile = path.join(root, "test-results/e2e-results.json");
fs.rmSync(resultsFile, { force: true });

const chromium = process.env.CHROMIUM_PATH ?? "/usr/bin/chromium";
if (!fs.existsSync(chromium)) {
  console.error(`error: Chromium not found at ${chromium}.\n  → Install Debian's chromium (apt-get install chromium) or set CHROMIUM_PATH.`);
  process.exit(1);
}

// Free ports unless given, so the suite runs beside `npm start` or another test run on this machine.
const ports: Record<string, string> = {};
for (const name of ["E2E_PORT", "E2E_PG_PORT", "E2E_EMPTY_PORT", "E2E_EMPTY_PG_PORT"]) {
  let port = process.env[name] || String(await freePort());
  while (Object.values(ports).includes(port)) port = String(await freePort());
  ports[name] = port;
}

const run = spawnSync(process.execPath, [path.join(root, "node_modules/@playwright/test/cli.js"), "test", ...process.argv.slice(2)], {
  cwd: root,
  stdio: "inherit",
  env: { ...process.env, ...ports, E2E_DATA_DIR: dataDir, NEXT_TELEMETRY_DISABLED: "1" },
});
fs.rmSync(dataDir, { recursive: true, force: true });

let expected = 0;
let unexpected = 0;
let skipped = 0;
if (fs.existsSync(resultsFile)) {
  const stats = JSON.parse(fs.readFileSync(resultsFile, "utf8")).stats ?? {};
  expected = stats.expected ?? 0;
  unexpected = (stats.unexpected ?? 0) + (stats.flaky ?? 0);
  skipped = stats.skipped ?? 0;
}
if (expected + unexpected === 0) {
  console.error("error: the end-to-end suite ran no test.");
  process.exit(1);
}
if (skipped > 0) {
  console.error(`error: ${skipped} end-to-end test(s) were skipped; skipped tests are not allowed.`);
  process.exit(1);
}
process.exit(run.status ?? 1);
