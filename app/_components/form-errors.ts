/**
 * Field-level messages for forms: from the shared zod schema on the client (dotted paths, e.g.
 * "retrainTriggers.everyNLabels") and from a tRPC error (server/api/trpc.ts puts the zod field
 * errors in `data.fieldErrors` and a service's field in `data.field`).
 */
import type { z } from "zod";

export type FieldErrors = Record<string, string>;

/** The first message per field path of a failed zod parse. */
export function zodFieldErrors(error: z.ZodError): FieldErrors {
  const out: FieldErrors = {};
  for (const issue of error.issues) {
    const key = issue.path.map(String).join(".") || "form";
    out[key] ??= issue.message;
  }
  return out;
}

/** Field messages carried by a tRPC error; `fallback` names the field for a message without one. */
export function serverFieldErrors(error: unknown, fallback = "form"): FieldErrors {
  const data = (error as { data?: { fieldErrors?: Record<string, string[] | undefined> | null; field?: string | null } } | null)?.data;
  const message = error instanceof Error ? error.message : "Something went wrong.";
  const out: FieldErrors = {};
  for (const [key, messages] of Object.entries(data?.fieldErrors ?? {})) if (messages?.[0]) out[key] = messages[0];
  if (data?.field) out[data.field] = message;
  if (Object.keys(out).length === 0) out[fallback] = message;
  return out;
}
