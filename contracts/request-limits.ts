/**
 * Limits on one tRPC request, shared by the web client (which batches at most TRPC_MAX_BATCH calls)
 * and the server (server/api/request-limits.ts, which refuses larger requests before parsing them).
 */

/** Most procedure calls in one HTTP batch. */
export const TRPC_MAX_BATCH = 20;
/** Largest tRPC request body, in bytes (4 MiB: a draft at its schema limits, 200 spans of 10,000 characters, fits with room for a batch). */
export const TRPC_MAX_BODY_BYTES = 4 * 1024 * 1024;
