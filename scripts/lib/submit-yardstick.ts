/**
 * The physical limit for a submission (issue 16, goal 3): a minimal `node:http` server that does
 * one transaction equivalent to `annotations.submit` on the platform's PostgreSQL — lock the case
 * row, insert the annotation version, complete the lease, append the audit event — with nothing
 * else: no framework, no session check, no validation, no ORM; a `pg` pool of the web process's
 * size (10), application_name `rads-yardstick`, idle connections never closed. scripts/bench-workspace.ts runs it as a child process beside the real web server and
 * drives both with the same load generator; our submissions/s over its transactions/s is the ratio.
 *
 *   YARDSTICK_PORT=3360 DATABASE_URL=… node --import tsx scripts/lib/submit-yardstick.ts
 *
 * POST /submit with JSON { caseId, authorId, projectId, queueItemId, version, labels: string[],
 * comment, timeSpentMs } → 200 { annotationId } (500 { error } on a database error). Trusts its
 * input: a benchmark fixture on loopback, never part of the platform.
 */
import crypto from "node:crypto";
import http from "node:http";
import pg from "pg";

interface SubmitBody {
  caseId: string;
  authorId: string;
  projectId: string;
  queueItemId: string;
  version: number;
  labels: string[];
  comment: string;
  timeSpentMs: number;
}

async function submit(pool: pg.Pool, body: SubmitBody): Promise<string> {
  const client = await pool.connect();
  try {
    await client.query("BEGIN");
    await client.query(`SELECT id FROM "Case" WHERE id = $1 FOR UPDATE`, [body.caseId]);
    const id = crypto.randomUUID();
    await client.query(
      `INSERT INTO "Annotation" (id, "caseId", "authorId", version, kind, labels, spans, regions, uncertain, comment, "timeSpentMs") VALUES ($1, $2, $3, $4, 'SUBMITTED', $5, '[]', '[]', false, $6, $7)`,
      [id, body.caseId, body.authorId, body.version, body.labels, body.comment, body.timeSpentMs],
    );
    await client.query(`UPDATE "QueueLease" SET "completedAt" = now() WHERE "queueItemId" = $1 AND "userId" = $2`, [body.queueItemId, body.authorId]);
    await client.query(
      `INSERT INTO "AuditEvent" ("actorId", "actorRole", action, "targetType", "targetId", "projectId", details) VALUES ($1, 'CLINICIAN', 'annotation.submit', 'Case', $2, $3, $4)`,
      [body.authorId, body.caseId, body.projectId, JSON.stringify({ version: body.version, annotationId: id })],
    );
    await client.query("COMMIT");
    return id;
  } catch (error) {
    await client.query("ROLLBACK").catch(() => undefined);
    throw error;
  } finally {
    client.release();
  }
}

function main() {
  const port = Number(process.env.YARDSTICK_PORT);
  const databaseUrl = process.env.DATABASE_URL;
  if (!databaseUrl || !Number.isInteger(port) || port <= 0) throw new Error("submit-yardstick needs DATABASE_URL and YARDSTICK_PORT");
  // Named, so bench-workspace tells its PostgreSQL backends from the web's (pg_stat_activity.application_name);
  // idle connections kept (no idle timeout), so no backend ends mid-phase and takes its CPU time with it.
  const pool = new pg.Pool({ connectionString: databaseUrl, max: 10, application_name: "rads-yardstick", idleTimeoutMillis: 0 });
  const server = http.createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on("data", (chunk: Buffer) => chunks.push(chunk));
    request.on("end", () => {
      const reply = (status: number, value: unknown) => {
        response.writeHead(status, { "content-type": "application/json" });
        response.end(JSON.stringify(value));
      };
      if (request.method === "GET") return reply(200, { ok: true });
      let body: SubmitBody;
      try {
        body = JSON.parse(Buffer.concat(chunks).toString("utf8")) as SubmitBody;
      } catch {
        return reply(400, { error: "not JSON" });
      }
      submit(pool, body).then(
        (annotationId) => reply(200, { annotationId }),
        (error: unknown) => reply(500, { error: (error as Error).message }),
      );
    });
  });
  server.listen(port, "127.0.0.1");
  process.on("SIGTERM", () => {
    server.close();
    void pool.end().then(() => process.exit(0));
  });
}

main();
