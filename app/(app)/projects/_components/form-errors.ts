/**
 * Errors for forms: a zod result's issues keyed by field path, and a tRPC error's field-level
 * message (server/api/trpc.ts errorFormatter: `data.field` for a DomainError, `data.fieldErrors`
 * for input the procedure's zod schema refused) keyed the same way.
 */
export { issuesByPath } from "@/contracts/project-admin";

interface TrpcErrorData {
  field?: unknown;
  fieldErrors?: Record<string, string[] | undefined> | null;
}

/** `{ [path]: message }` from a failed mutation; "form" when the error names no field. */
export function serverErrors(error: unknown): Record<string, string> {
  const message = error instanceof Error ? error.message : "Something went wrong.";
  const data = (error as { data?: TrpcErrorData } | null)?.data;
  if (data && typeof data.field === "string" && data.field) return { [data.field]: message };
  if (data?.fieldErrors) {
    const entries = Object.entries(data.fieldErrors).filter(([, v]) => v && v.length > 0);
    if (entries.length) return Object.fromEntries(entries.map(([k, v]) => [k, v![0]!]));
  }
  return { form: message };
}

/** Re-keys errors under `prefix.` to the editor's own paths ("labelSchema.labels.2.key" → "labels.2.key"). */
export function underPrefix(errors: Record<string, string>, rename: (path: string) => string | null): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [path, message] of Object.entries(errors)) {
    const renamed = rename(path);
    if (renamed !== null) out[renamed] ??= message;
  }
  return out;
}

/** ZProjectConfig / ZUpdateLabelSchemaInput paths → the label editor's paths (null: not the editor's). */
export function editorPath(path: string): string | null {
  if (path === "labelSchema" || path === "labelSchema.labels") return "labels";
  if (path.startsWith("labelSchema.labels.")) return path.slice("labelSchema.".length);
  if (path.startsWith("labelSchema.")) return "labels";
  if (path.startsWith("selectionParams.rho")) return path.slice("selectionParams.".length);
  if (path === "rho" || path.startsWith("rho.") || path.startsWith("mapping.") || path === "minorityClasses" || path.startsWith("minorityClasses.")) return path;
  return null;
}
