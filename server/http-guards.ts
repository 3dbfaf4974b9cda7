/**
 * Checks shared by the route handlers outside tRPC (upload, export, images): same-origin POSTs
 * (CSRF), the session user as the services' Actor (`routeActor`; the project front door refuses a
 * user who must still change their password, server/services/project-access.ts), and the one mapping from
 * failures to HTTP answers for plain JSON responses (domain errors → their status; anything else →
 * a generic 500 with an error id, the detail in the log only).
 */
import crypto from "node:crypto";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "./db/unavailable";
import { loadServerEnv } from "./env";
import { DomainError, type DomainErrorKind } from "./errors";
import { logger } from "./log";
import type { SessionUser } from "./services/auth-service";
import type { Actor } from "./services/context";

export const MUST_CHANGE_PASSWORD_MESSAGE = "Choose a new password first: yours was set for you by someone else. Open the Change password page (/change-password).";

/**
 * A REST route's signed-in user as the Actor its service call runs as — mustChangePassword included,
 * so the project front door (requireActor) refuses a user who must still change their password with
 * 403 MUST_CHANGE_PASSWORD_MESSAGE, as tRPC does. Every route under app/api builds its actor here.
 */
export function routeActor(user: SessionUser): Actor {
  return { id: user.id, role: user.role, name: user.name, email: user.email, mustChangePassword: user.mustChangePassword === true };
}

/**
 * Browsers send Origin on POST; it must name this host, so another site cannot post with our
 * cookie. The host is the request's own Host header; X-Forwarded-Host (which any client can send)
 * counts only when a reverse proxy is declared (TRUSTED_PROXY_HOPS > 0), since that proxy then
 * sets it (issue 12, fault 12).
 */
export function isSameOrigin(request: Request, trustedProxyHops: number = loadServerEnv().TRUSTED_PROXY_HOPS): boolean {
  return hasSameOrigin((name) => request.headers.get(name), trustedProxyHops);
}

/** The answer to a POST from another site (403): the tRPC route's, and the node server's before it reads the body. */
export function crossSiteRefusal(): Response {
  return Response.json({ error: { message: "Cross-site request refused." } }, { status: 403 });
}

/** isSameOrigin on headers read by `header(lower-case name)` (null when absent): for a request not yet made a Fetch Request. */
export function hasSameOrigin(header: (name: string) => string | null | undefined, trustedProxyHops: number = loadServerEnv().TRUSTED_PROXY_HOPS): boolean {
  const origin = header("origin");
  const forwarded = trustedProxyHops > 0 ? header("x-forwarded-host")?.split(",")[0]?.trim() : undefined;
  const host = forwarded || header("host");
  if (!origin || !host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

const STATUS: Record<DomainErrorKind, number> = { BAD_INPUT: 400, UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, THROTTLED: 429 };

export function jsonError(status: number, message: string, extra: Record<string, string> = {}): Response {
  return Response.json({ error: { message, ...extra } }, { status, headers: { "Cache-Control": "no-store" } });
}

/** A DomainError as its HTTP answer; anything else is rethrown (routeFailure turns it into a generic 500). */
export function domainErrorResponse(error: unknown): Response {
  if (error instanceof DomainError) return jsonError(STATUS[error.kind], error.message);
  throw error;
}

/** What a client reads for an unexpected failure; the log holds the detail under the same id. */
export function internalErrorMessage(errorId: string): string {
  return `Something went wrong on the server. If it happens again, give the administrator this error id: ${errorId}.`;
}

/**
 * Any failure of a route as its answer: a DomainError → its status and message, a database outage →
 * 503, anything else → 500 with a generic message and an error id (never the error's own text,
 * which may hold database details); the log gets the detail under that id.
 */
export function routeFailure(error: unknown, route: string): Response {
  if (error instanceof DomainError) return jsonError(STATUS[error.kind], error.message);
  if (isDatabaseUnavailable(error)) return jsonError(503, DATABASE_UNAVAILABLE_MESSAGE);
  const errorId = crypto.randomUUID();
  logger.error("route failed", { errorId, route, error: error instanceof Error ? error.message : String(error) });
  return jsonError(500, internalErrorMessage(errorId), { errorId });
}
