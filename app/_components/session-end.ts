/**
 * The app's one rule for an ended session: any 401 from a tRPC call (the query and mutation caches of
 * providers.tsx) or an image request (cornerstone-setup.ts, dicom-image-loader.ts) ends the page's
 * session — Providers clears every cached answer (patient text among them), stops drawing the page and
 * loads the sign-in page with a short reason (SESSION_ENDED_REASON). A 401 means the server no longer
 * accepts the session (signed out elsewhere, deactivated, idle past the timeout, password reset), never
 * a missing right: a missing right is a 403 and a project one is not a member of a 404.
 */
import { TRPCClientError } from "@trpc/client";

/** The `reason` query parameter the sign-in page reads (app/signin/page.tsx). */
export const SESSION_ENDED_REASON = "session-ended";
/** What the sign-in page says for it. */
export const SESSION_ENDED_MESSAGE = "Your session ended — sign in again.";

/** The window event by which an image request (outside React) reports a 401 to Providers. */
export const SESSION_ENDED_EVENT = "rads:session-ended";

/** The tRPC error code of an error the server answered with, or null (not reached, or not a tRPC error). */
export function trpcErrorCode(error: unknown): string | null {
  if (!(error instanceof TRPCClientError)) return null;
  const data = error.data as { code?: unknown; httpStatus?: unknown } | null | undefined;
  return typeof data?.code === "string" ? data.code : null;
}

/** Whether the server refused the call because the caller is not (or no longer) signed in: HTTP 401. */
export function isUnauthorized(error: unknown): boolean {
  if (!(error instanceof TRPCClientError)) return false;
  const data = error.data as { code?: unknown; httpStatus?: unknown } | null | undefined;
  return data?.code === "UNAUTHORIZED" || data?.httpStatus === 401;
}

let leaving = false;

/**
 * The page ends its own session (Sign out, a password change): the 401s that may answer calls in flight are
 * expected, and no "session ended" notice replaces the page's own way to the sign-in page.
 */
export function endingSessionOnPurpose(): void {
  leaving = true;
}

/** Whether endingSessionOnPurpose was called on this page. */
export function isEndingSessionOnPurpose(): boolean {
  return leaving;
}

/** An HTTP status of an image request: 401 reports the ended session (no-op outside a browser). */
export function reportImageStatus(status: number): void {
  if (status === 401 && typeof window !== "undefined") window.dispatchEvent(new Event(SESSION_ENDED_EVENT));
}

/** The sign-in address after a session ended: the reason, and the page to come back to (same origin, a path). */
export function signInAfterSessionEnd(currentPath: string): string {
  const params = new URLSearchParams({ reason: SESSION_ENDED_REASON });
  if (currentPath.startsWith("/") && !currentPath.startsWith("//") && !currentPath.startsWith("/signin")) params.set("callbackUrl", currentPath);
  return `/signin?${params.toString()}`;
}
