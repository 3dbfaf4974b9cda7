/**
 * Tells "the database cannot be reached right now" apart from every other failure, so the API can
 * answer 503 "database unavailable" (the page keeps the clinician's draft and retries) instead of
 * a generic 500 that reads like a bug. Lives beside the Prisma client because it knows Prisma's and
 * pg's error shapes; it only inspects error objects, it never imports Prisma.
 *
 * Recognised, anywhere in the error's cause chain:
 *  - Prisma P1001 (can't reach), P1002 (timed out reaching), P1008 (operation timed out),
 *    P1017 (server closed the connection), P2024 (timed out waiting for a pooled connection);
 *  - driver-adapter kinds DatabaseNotReachable / ConnectionClosed / SocketTimeout / TooManyConnections;
 *  - PostgreSQL SQLSTATE class 08 (connection exception), 57P01–57P03 (shutdown, crash, starting up),
 *    53300 (too many connections);
 *  - Node socket errors ECONNREFUSED, ECONNRESET, EPIPE, ETIMEDOUT, ENOENT from `connect` (the embedded
 *    PostgreSQL's Unix socket file is gone while it is down), and pg's "Connection terminated" /
 *    "Client has encountered a connection error" / "Client was closed and is not queryable" (a pooled
 *    client whose socket died).
 */
const PRISMA_CODES = new Set(["P1001", "P1002", "P1008", "P1017", "P2024"]);
const ADAPTER_KINDS = new Set(["DatabaseNotReachable", "ConnectionClosed", "SocketTimeout", "TooManyConnections"]);
const SOCKET_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH"]);
const SQLSTATE = /^(08[0-9A-Z]{3}|57P0[123]|53300)$/;
const MESSAGES = /Connection terminated|Client was closed and is not queryable|Client has encountered a connection error|Can't reach database server|Server has closed the connection|the database system is (starting up|shutting down|in recovery mode)/i;

function looksUnavailable(value: Record<string, unknown>): boolean {
  const code = typeof value.code === "string" ? value.code : null;
  if (code && (PRISMA_CODES.has(code) || SOCKET_CODES.has(code) || SQLSTATE.test(code))) return true;
  if (code === "ENOENT" && value.syscall === "connect") return true;
  if (typeof value.kind === "string" && ADAPTER_KINDS.has(value.kind)) return true;
  // A driver-adapter error surfaced by Prisma wraps pg's SQLSTATE as { kind: "postgres", code }.
  if (value.kind === "postgres" && typeof value.code === "string" && SQLSTATE.test(value.code)) return true;
  return typeof value.message === "string" && MESSAGES.test(value.message);
}

export function isDatabaseUnavailable(error: unknown): boolean {
  const seen = new Set<unknown>();
  const queue: unknown[] = [error];
  while (queue.length > 0) {
    const value = queue.shift();
    if (!value || typeof value !== "object" || seen.has(value)) continue;
    seen.add(value);
    const record = value as Record<string, unknown>;
    if (looksUnavailable(record)) return true;
    queue.push(record.cause);
    const meta = record.meta as Record<string, unknown> | undefined;
    if (meta && typeof meta === "object") queue.push(meta.driverAdapterError);
    if (Array.isArray(record.errors)) queue.push(...record.errors); // AggregateError (IPv4 + IPv6 refused)
  }
  return false;
}

/** What a user reads when the database is away: nothing they did is wrong, and their work is kept. */
export const DATABASE_UNAVAILABLE_MESSAGE = "The database is unavailable at the moment — nothing was saved on the server; your draft is kept. Try again in a moment.";
