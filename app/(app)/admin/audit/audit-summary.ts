/**
 * The one-line summary of an audit event's details shown in the collapsed row of the audit log
 * (app/(app)/admin/audit/audit-log.tsx): its first few fields, each value as a reader takes it —
 * an empty list is "none", a short list of plain values is written out, a longer one or a list of
 * objects is counted ("3 items"), an object is "{…}". The full JSON is one click away.
 */
const MAX_FIELDS = 3;
const MAX_LISTED = 3;

function value(v: unknown): string {
  if (Array.isArray(v)) {
    if (v.length === 0) return "none";
    const plain = v.every((x) => x === null || ["string", "number", "boolean"].includes(typeof x));
    if (plain && v.length <= MAX_LISTED) return v.map((x) => String(x)).join(", ");
    return `${v.length} ${v.length === 1 ? "item" : "items"}`;
  }
  if (typeof v === "object" && v !== null) return Object.keys(v).length === 0 ? "none" : "{…}";
  return String(v);
}

export function auditDetailsSummary(details: unknown): string {
  if (!details || typeof details !== "object") return String(details ?? "");
  const entries = Object.entries(details as Record<string, unknown>);
  if (entries.length === 0) return "—";
  const text = entries
    .slice(0, MAX_FIELDS)
    .map(([k, v]) => `${k}: ${value(v)}`)
    .join(", ");
  return entries.length > MAX_FIELDS ? `${text}, … (${entries.length} fields)` : text;
}
