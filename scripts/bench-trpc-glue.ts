/**
 * npx tsx scripts/bench-trpc-glue.ts [-- --baseline <checkout> --rounds 8 --requests 3000 --clients 50]
 *
 * The web process's CPU per tRPC call spent in the production server's node:http glue alone
 * (server/web/trpc-node.ts `serveTrpc` and server/api/request-limits.ts `limitTrpcRequest`, and where
 * the checkout has it server/api/trpc-resolve.ts `createTrpcAnswer`: tRPC without Fetch objects), issue 16.
 * A benchmark, not a test. Each checkout under test runs in its own server process: node:http →
 * serveTrpc → (the checkout's answer, or) limitTrpcRequest → tRPC's fetch adapter with a stand-in
 * router of two procedures (superjson as the app's; a query like health.ping; a mutation with a zod
 * input and an answer the size of submit-and-take-the-next's), no database, no session, no
 * Next.js — so what differs between two checkouts is the glue.
 * This process sends `--requests` calls per phase from `--clients` kept-alive connections and reads
 * each server's CPU time (process.cpuUsage, all threads) before and after; with `--baseline` (another
 * checkout of this repository with its node_modules, e.g. a `git worktree` of an earlier commit) both
 * servers run and the phases alternate their order per round. Prints the median CPU ms per call and
 * each round's figure.
 */
import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";

const { values: args } = parseArgs({
  options: {
    baseline: { type: "string" },
    rounds: { type: "string", default: "8" },
    requests: { type: "string", default: "3000" },
    clients: { type: "string", default: "50" },
    serve: { type: "string" },
    port: { type: "string" },
  },
});

/** The server half (`--serve <checkout> --port N`): the checkout's glue in front of a stand-in router. */
async function serve(root: string, port: number): Promise<void> {
  const { initTRPC } = await import("@trpc/server");
  const { fetchRequestHandler } = await import("@trpc/server/adapters/fetch");
  const { z } = await import("zod");
  const { serveTrpc } = (await import(pathToFileURL(path.join(root, "server/web/trpc-node.ts")).href)) as {
    serveTrpc: (handle: (request: Request) => Promise<Response>, req: http.IncomingMessage, res: http.ServerResponse, trustedProxyHops?: number, answer?: unknown) => Promise<void>; // older checkouts take 3 or 4 arguments
  };
  const { limitTrpcRequest } = (await import(pathToFileURL(path.join(root, "server/api/request-limits.ts")).href)) as {
    limitTrpcRequest: (request: Request, endpoint: string) => Promise<Response | Request>;
  };
  const superjson = (await import("superjson")).default;
  // tRPC without Fetch objects, in checkouts that have it (server/api/trpc-resolve.ts).
  const plain = (await import(pathToFileURL(path.join(root, "server/api/trpc-resolve.ts")).href).catch(() => null)) as {
    createTrpcAnswer: (options: { router: unknown; endpoint: string; createContext: (header: (name: string) => string | null) => Promise<unknown>; trustedProxyHops?: number }) => unknown;
  } | null;
  const t = initTRPC.create({ transformer: superjson });
  const router = t.router({
    ping: t.procedure.query(() => ({ ok: true, at: new Date().toISOString() })),
    submit: t.procedure
      .input(z.object({ caseId: z.string(), content: z.object({ labels: z.array(z.string()), comment: z.string() }) }))
      .mutation(({ input }) => ({ id: input.caseId, version: 1, next: { caseId: "cmx3rckq0001e1b7dcx4fk7ch", text: "FINDINGS: lungs clear. ".repeat(20) } })),
  });
  const handle = async (incoming: Request): Promise<Response> => {
    const request = await limitTrpcRequest(incoming, "/api/trpc");
    if (request instanceof Response) return request;
    return fetchRequestHandler({ endpoint: "/api/trpc", req: request, router, createContext: async () => ({ cookie: request.headers.get("cookie") }) });
  };
  const answer = plain?.createTrpcAnswer({ router, endpoint: "/api/trpc", createContext: async (header) => ({ cookie: header("cookie") }), trustedProxyHops: 0 });
  const server = http.createServer((req, res) => {
    if (req.url === "/cpu") {
      const used = process.cpuUsage();
      res.end(String(used.user + used.system));
    } else void serveTrpc(handle, req, res, 0, answer);
  });
  server.listen(port, "127.0.0.1", () => process.stdout.write("ready\n"));
}

const CLIENTS = Number(args.clients);
const agent = new http.Agent({ keepAlive: true, maxSockets: CLIENTS });
const COOKIE = `next-auth.session-token=${"x".repeat(700)}`;
const BODY = JSON.stringify({ json: { caseId: "cmx3rckq0001e1b7dcx4fk7ch", content: { labels: ["normal"], comment: "a comment" } } });

function call(port: number, kind: "ping" | "submit"): Promise<void> {
  return new Promise((resolve, reject) => {
    const post = kind === "submit";
    const headers: http.OutgoingHttpHeaders = post
      ? { cookie: COOKIE, origin: `http://127.0.0.1:${port}`, "content-type": "application/json", "content-length": Buffer.byteLength(BODY) }
      : { cookie: COOKIE, origin: `http://127.0.0.1:${port}`, "content-type": "application/json" }; // as scripts/lib/api-client.ts sends a query
    const req = http.request({ host: "127.0.0.1", port, agent, method: post ? "POST" : "GET", path: post ? `/api/trpc/${kind}` : `/api/trpc/${kind}?input=${encodeURIComponent("{}")}`, headers }, (res) => {
      res.resume();
      res.on("end", () => (res.statusCode === 200 ? resolve() : reject(new Error(`${kind}: status ${res.statusCode}`))));
    });
    req.on("error", reject);
    req.end(post ? BODY : undefined);
  });
}

function cpuMicros(port: number): Promise<number> {
  return new Promise((resolve, reject) => {
    http.get({ host: "127.0.0.1", port, path: "/cpu", agent }, (res) => {
      let text = "";
      res.on("data", (chunk: Buffer) => (text += chunk.toString()));
      res.on("end", () => resolve(Number(text)));
    }).on("error", reject);
  });
}

async function load(port: number, kind: "ping" | "submit", requests: number): Promise<void> {
  let sent = 0;
  await Promise.all(Array.from({ length: CLIENTS }, async () => {
    while (sent++ < requests) await call(port, kind);
  }));
}

async function main(): Promise<void> {
  const here = path.resolve(import.meta.dirname, "..");
  const checkouts: { name: string; root: string; port: number; child?: ChildProcess }[] = [{ name: "this checkout", root: here, port: 4700 + (process.pid % 200) * 2 }];
  if (args.baseline) checkouts.unshift({ name: "baseline", root: path.resolve(args.baseline), port: checkouts[0]!.port + 1 });
  try {
    for (const c of checkouts) {
      // cwd: the checkout, so tsx resolves its `@/` paths from its own tsconfig.
      const child = spawn(process.execPath, ["--import", "tsx", path.join(here, "scripts/bench-trpc-glue.ts"), "--serve", c.root, "--port", String(c.port)], { cwd: c.root, stdio: ["ignore", "pipe", "inherit"] });
      c.child = child;
      await new Promise<void>((resolve, reject) => {
        child.stdout!.on("data", (chunk: Buffer) => chunk.toString().includes("ready") && resolve());
        child.once("exit", (code) => reject(new Error(`${c.name}: server exited (${code})`)));
      });
    }
    const requests = Number(args.requests);
    for (const c of checkouts) for (const kind of ["ping", "submit"] as const) await load(c.port, kind, Math.min(2000, requests)); // warm-up
    const perCall = new Map<string, number[]>();
    for (let round = 0; round < Number(args.rounds); round++) {
      const order = round % 2 === 0 ? checkouts : [...checkouts].reverse();
      for (const kind of ["ping", "submit"] as const) {
        for (const c of order) {
          const before = await cpuMicros(c.port);
          await load(c.port, kind, requests);
          const after = await cpuMicros(c.port);
          const key = `${kind === "ping" ? "GET query (like health.ping)" : "POST mutation (like annotations.submit)"} | ${c.name}`;
          perCall.set(key, [...(perCall.get(key) ?? []), (after - before) / 1000 / requests]);
        }
      }
    }
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
    process.stdout.write(`node:http glue, CPU ms per call (${CLIENTS} clients, ${requests} calls per phase, ${args.rounds} rounds), load average ${(await import("node:os")).loadavg().map((x) => x.toFixed(1)).join(", ")}\n\n`);
    process.stdout.write("| call | server | median CPU ms per call | rounds |\n|---|---|---:|---|\n");
    for (const [key, values] of perCall) process.stdout.write(`| ${key} | ${median(values).toFixed(3)} | ${values.map((v) => v.toFixed(3)).join(", ")} |\n`);
  } finally {
    for (const c of checkouts) c.child?.kill();
    agent.destroy();
  }
}

if (args.serve) await serve(path.resolve(args.serve), Number(args.port));
else await main();
