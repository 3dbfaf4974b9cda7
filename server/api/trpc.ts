/**
 * tRPC init: the request context, the one place domain errors become HTTP statuses, and the
 * procedure factory. Every procedure is `procedure("router.name")`: its access comes from the
 * permission matrix, it is checked on the server before input is parsed, and a mutation that
 * changed something without writing an audit event is refused.
 */
import crypto from "node:crypto";
import { initTRPC, TRPCError } from "@trpc/server";
import superjson from "superjson";
import { z } from "zod";
import type { Db } from "../db/client";
import { DATABASE_UNAVAILABLE_MESSAGE, isDatabaseUnavailable } from "../db/unavailable";
import { DomainError, type DomainErrorKind } from "../errors";
import { internalErrorMessage, MUST_CHANGE_PASSWORD_MESSAGE } from "../http-guards";
import { logger } from "../log";
import { createServiceContext, type Actor, type RequestClient, type ServiceContext } from "../services/context";
import { projectAccessChecked } from "../services/project-access";
import { isAllowed, PERMISSIONS, projectPermissionOf, type Access, type ProcedurePath } from "./permissions";

export interface TrpcContext {
  db: Db;
  actor: Actor | null;
  /** Where the HTTP request came from (app/api/trpc); absent for server-side callers and tests. */
  client?: RequestClient;
}


export interface ProcedureMeta {
  path: ProcedurePath;
}

const t = initTRPC
  .context<TrpcContext>()
  .meta<ProcedureMeta>()
  .create({
    transformer: superjson,
    errorFormatter({ shape, error, path }) {
      // Unexpected failures (database error text, bugs) never reach the client (issue 12, fault 12):
      // it gets a generic message and an error id; the log gets the detail under that id.
      if (error.code === "INTERNAL_SERVER_ERROR") {
        const errorId = crypto.randomUUID();
        const cause = error.cause instanceof Error ? error.cause : error;
        logger.error("request failed", { errorId, path: path ?? null, error: cause.message });
        return { ...shape, message: internalErrorMessage(errorId), data: { ...shape.data, stack: undefined, errorId, fieldErrors: null, field: null, conflict: null } };
      }
      return {
        ...shape,
        // An input refused by its zod schema: "content.comment: The text contains a NUL character …",
        // not the issues as JSON (the default), so a page can show the message as it is. An input tRPC could
        // not read (not JSON, or not in superjson's envelope) carries the parser's own text, e.g. "Cannot
        // destructure property 'json' of 'e' as it is null." from the bundle: a fixed message instead.
        message: error.cause instanceof z.ZodError ? readableIssues(error.cause) : unreadableInput(error) ? UNREADABLE_INPUT_MESSAGE : shape.message,
        data: {
          ...shape.data,
          // Field messages for forms: the same zod schema validated on the client and here.
          fieldErrors: error.cause instanceof z.ZodError ? z.flattenError(error.cause).fieldErrors : null,
          field: error.cause instanceof DomainError ? (error.cause.details?.field ?? null) : null,
          // A versioning conflict carries both versions so the page can show "yours" vs "theirs".
          conflict: error.cause instanceof DomainError ? (error.cause.details?.conflict ?? null) : null,
        },
      };
    },
  });

/** What a client reads when tRPC could not read its input (unreadableInput). */
export const UNREADABLE_INPUT_MESSAGE = "The request's input could not be read: it must be JSON in tRPC's format ({\"json\": …}).";

/**
 * Whether tRPC refused a call because it could not read its input: BAD_REQUEST or PARSE_ERROR caused by the
 * JavaScript parser itself (JSON.parse's SyntaxError, superjson's TypeError on `null`), whose text names our
 * bundle's internals — not a refusal of ours (DomainError, zod) or one of tRPC's own worded ones (no such cause).
 */
function unreadableInput(error: TRPCError): boolean {
  if (error.code !== "BAD_REQUEST" && error.code !== "PARSE_ERROR") return false;
  const cause = error.cause;
  return cause instanceof SyntaxError || cause instanceof TypeError || cause instanceof RangeError;
}

/** "path: message; path: message" for a refused input (at most five issues). */
function readableIssues(error: z.ZodError): string {
  const parts = error.issues.slice(0, 5).map((issue) => (issue.path.length > 0 ? `${issue.path.join(".")}: ${issue.message}` : issue.message));
  if (error.issues.length > 5) parts.push(`and ${error.issues.length - 5} more`);
  return parts.join("; ");
}

const STATUS_OF: Record<DomainErrorKind, TRPCError["code"]> = {
  BAD_INPUT: "BAD_REQUEST",
  NOT_FOUND: "NOT_FOUND",
  CONFLICT: "CONFLICT",
  FORBIDDEN: "FORBIDDEN",
  UNAUTHORIZED: "UNAUTHORIZED",
  THROTTLED: "TOO_MANY_REQUESTS",
};

export const createRouter = t.router;
export const createCallerFactory = t.createCallerFactory;

/**
 * A procedure whose access is declared in PERMISSIONS under `path` (which must be its router path).
 * Platform entries are checked here before the input is read; project entries need a caller here
 * and are checked by the service's front door (requireProject / memberProjectIds) — a call that
 * succeeded without that check is refused, so a project procedure cannot skip it.
 */
/** What a user whose password must still be changed may call: who they are, and the change itself. */
const ALLOWED_BEFORE_PASSWORD_CHANGE: ReadonlySet<ProcedurePath> = new Set<ProcedurePath>(["health.ping", "me.get", "account.changePassword"]);
export { MUST_CHANGE_PASSWORD_MESSAGE };

export function procedure(path: ProcedurePath) {
  const access: Access = PERMISSIONS[path];
  const projectPermission = projectPermissionOf(access);
  return t.procedure
    .meta({ path })
    .use(async ({ ctx, next, type }) => {
      if (!isAllowed(access, ctx.actor?.role ?? null)) {
        throw new TRPCError(ctx.actor ? { code: "FORBIDDEN", message: "Your role may not do this." } : { code: "UNAUTHORIZED", message: "Sign in first." });
      }
      // A printed or temporary password (User.mustChangePassword) must be replaced before anything else.
      if (ctx.actor?.mustChangePassword && !ALLOWED_BEFORE_PASSWORD_CHANGE.has(path)) {
        throw new TRPCError({ code: "FORBIDDEN", message: MUST_CHANGE_PASSWORD_MESSAGE });
      }
      const service: ServiceContext = createServiceContext(ctx.db, ctx.actor, ctx.client);
      const result = await next({ ctx: { service } });
      if (!result.ok) {
        const cause = result.error.cause;
        if (cause instanceof DomainError) throw new TRPCError({ code: STATUS_OF[cause.kind], message: cause.message, cause });
        // An outage is not a bug: 503 with a message the page can act on (keep the draft, retry).
        if (isDatabaseUnavailable(cause)) {
          logger.warn("database unavailable", { path, userId: ctx.actor?.id ?? null });
          throw new TRPCError({ code: "SERVICE_UNAVAILABLE", message: DATABASE_UNAVAILABLE_MESSAGE, cause });
        }
        if (result.error.code === "INTERNAL_SERVER_ERROR") logger.error("procedure failed", { path, userId: ctx.actor?.id ?? null, error: result.error.message });
        return result;
      }
      if (projectPermission && !projectAccessChecked(service, projectPermission)) {
        logger.error("project procedure skipped the front door", { path });
        throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `Procedure ${path} must check "${projectPermission}" through requireProject.` });
      }
      if (type === "mutation" && service.audit.count === 0 && !service.audit.unchanged) {
        logger.error("mutation wrote no audit event", { path });
        throw new TRPCError({ code: "INTERNAL_SERVER_ERROR", message: `Mutation ${path} must record an audit event.` });
      }
      return result;
    });
}
