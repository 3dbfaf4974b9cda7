/**
 * The production web process (issue 16): `node scripts/web-server.mjs [--dir DIR] [--port N]
 * [--host H]` (defaults: this repository, PORT or 3000, HOST or 127.0.0.1). One `node:http` server
 * that answers `/api/trpc/*` itself and everything else through Next.js's request handler on the
 * production build in DIR/.next (server/web/server.ts). Started by scripts/start.ts (one web
 * process) and by scripts/lib/web-cluster.mjs (each of WEB_PROCESSES processes behind one port),
 * and by the benchmarks that start the production server (bench:workspace, profile:api, soak).
 *
 * Plain JavaScript so that it needs no loader flag: it stamps the peer address (scripts/peer-address.mjs,
 * imported first, before any server exists), then registers tsx (with this repository's tsconfig,
 * for the `@/` paths) for the few TypeScript files of the server itself (server/web/); the API's
 * code runs from the production build, as Next.js runs it.
 * SIGTERM/SIGINT: stop accepting, finish answers in flight (≤ 5 s), exit 0.
 */
import "./peer-address.mjs";
import path from "node:path";
import process from "node:process";
import { fileURLToPath, pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { register as registerTsx } from "tsx/esm/api";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const { values: args } = parseArgs({
  options: { dir: { type: "string" }, port: { type: "string" }, host: { type: "string" } },
});
const dir = path.resolve(args.dir ?? root);
const port = Number(args.port ?? process.env.PORT ?? 3000);
const host = args.host ?? process.env.HOST ?? "127.0.0.1";
if (!Number.isInteger(port) || port < 0 || port > 65535) {
  process.stderr.write(`web-server: the port must be a whole number from 0 to 65535 (got "${args.port ?? process.env.PORT}")\n`);
  process.exit(1);
}
process.env.NODE_ENV ??= "production";
process.env.NEXT_TELEMETRY_DISABLED ??= "1";
process.env.RADS_PROCESS ??= "web";

registerTsx({ tsconfig: path.join(root, "tsconfig.json") });

const { startWebServer } = await import(pathToFileURL(path.join(root, "server/web/server.ts")).href);
const { StartupError } = await import(pathToFileURL(path.join(root, "server/startup-error.ts")).href);

let web;
try {
  web = await startWebServer({ dir, port, host });
} catch (error) {
  if (error instanceof StartupError) {
    process.stderr.write(`error: ${error.message}\n  → ${error.hint}\n`);
    process.exit(1);
  }
  if (error && typeof error === "object" && error.code === "EADDRINUSE") {
    process.stderr.write(`error: port ${port} on ${host} is already in use\n`);
    process.exit(1);
  }
  throw error;
}
process.stdout.write(`web-server: ready on http://${host}:${web.port} (pid ${process.pid}${web.directTrpc ? "" : "; tRPC through Next.js"})\n`);

let stopping = false;
const stop = () => {
  if (stopping) return;
  stopping = true;
  web.close(5000).then(
    () => process.exit(0),
    () => process.exit(0),
  );
};
process.on("SIGTERM", stop);
process.on("SIGINT", stop);
