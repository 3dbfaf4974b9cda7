/**
 * Child of scripts/bench-submit-ab.ts: runs `annotations.submit` with `advanceInProject` (submit and take the next)
 * with the service code of the tree it is started in (its working directory), on DATABASE_URL as USER_ID in
 * PROJECT_ID. Prints "ready" once it holds its first lease; then, for each line N on stdin, runs N calls and prints
 * {"cpuMs", "wallMs"} (its own process's CPU and the wall time of the N calls); a line 0 ends it.
 */
import path from "node:path";
import readline from "node:readline";

const tree = process.cwd();
const { createDb } = await import(path.join(tree, "server/db/client.ts"));
const { submitAnnotation } = await import(path.join(tree, "server/services/annotation-service.ts"));
const { leaseNext } = await import(path.join(tree, "server/services/queue-service.ts"));
const { createServiceContext } = await import(path.join(tree, "server/services/context.ts"));

const db = createDb(process.env.DATABASE_URL!);
const projectId = process.env.PROJECT_ID!;
const actor = { id: process.env.USER_ID!, role: "CLINICIAN", name: "Bench", email: "bench@bench.local", mustChangePassword: false };
const ctx = () => createServiceContext(db, actor);
let next: { caseId: string } | null = await leaseNext(ctx(), { projectId });
const content = { labels: ["normal"], spans: [], uncertain: false, comment: "" };
process.stdout.write("ready\n");
for await (const line of readline.createInterface({ input: process.stdin })) {
  const n = Number(line);
  if (!n) break;
  const cpu = process.cpuUsage();
  const t0 = process.hrtime.bigint();
  for (let i = 0; i < n; i++) {
    if (!next) throw new Error("the queue ran out: seed more cases");
    next = (await submitAnnotation(ctx(), { caseId: next.caseId, expectedVersion: 0, content, timeSpentMs: 1, advanceInProject: projectId })).next;
  }
  const used = process.cpuUsage(cpu);
  process.stdout.write(`${JSON.stringify({ cpuMs: (used.user + used.system) / 1000, wallMs: Number(process.hrtime.bigint() - t0) / 1e6 })}\n`);
}
await db.$disconnect();
process.exit(0);
