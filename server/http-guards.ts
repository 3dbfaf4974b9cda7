/**
 * Checks shared by the route handlers outside tRPC (upload, export): same-origin POSTs (CSRF) and
 * the one mapping from domain errors to HTTP statuses for plain JSON responses.
 */
import { DomainError, type DomainErrorKind } from "./errors";

/** Browsers send Origin on POST; it must name this host, so another site cannot post with our cookie. */
export function isSameOrigin(request: Request): boolean {
  const origin = request.headers.get("origin");
  const host = request.headers.get("x-forwarded-host") ?? request.headers.get("host");
  if (!origin || !host) return false;
  try {
    return new URL(origin).host === host;
  } catch {
    return false;
  }
}

const STATUS: Record<DomainErrorKind, number> = { BAD_INPUT: 400, UNAUTHORIZED: 401, FORBIDDEN: 403, NOT_FOUND: 404, CONFLICT: 409, THROTTLED: 429 };

export function jsonError(status: number, message: string): Response {
  return Response.json({ error: { message } }, { status, headers: { "Cache-Control": "no-store" } });
}

/** A DomainError as its HTTP answer; anything else is rethrown (a 500 with nothing leaked). */
export function domainErrorResponse(error: unknown): Response {
  if (error instanceof DomainError) return jsonError(STATUS[error.kind], error.message);
  throw error;
}
