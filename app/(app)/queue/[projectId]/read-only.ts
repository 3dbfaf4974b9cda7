/**
 * A case the server refuses to this clinician (the case view's `refusal`: a TEST case, another clinician's, one not in
 * their queue) is read-only in the workspace: nothing that would change an answer or skip it is offered.
 */

/** The shortcut keys (lower case) that change the answer or skip the case: S skip, U uncertain, C the comment. Label keys too (blockedWhenReadOnly). */
const EDITING_KEYS: ReadonlySet<string> = new Set(["s", "u", "c"]);

/** Whether a shortcut key does nothing on a read-only case: a label's key (label or text evidence) or an editing key. Navigation and viewing keys still work. */
export function blockedWhenReadOnly(key: string, isLabelKey: boolean): boolean {
  return isLabelKey || EDITING_KEYS.has(key.toLowerCase());
}

/** The badge beside the case's heading: "read-only" for a refused case, "editing" for a past case opened to edit, else none. */
export function caseBadge(mode: "queue" | "edit" | undefined, refusal: string | null): "read-only" | "editing" | null {
  if (refusal !== null) return "read-only";
  return mode === "edit" ? "editing" : null;
}
