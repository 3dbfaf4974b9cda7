/**
 * Text that PostgreSQL can store and every client can show: no NUL character (U+0000: PostgreSQL
 * text and jsonb refuse it) and no unpaired UTF-16 surrogate (U+D800–U+DFFF alone: not Unicode, so
 * not encodable as UTF-8). One check for everything a user or a file can fill — imported ids, texts,
 * labels and metadata (server/import/tables.ts), comments, drafts, spans and skip reasons
 * (contracts/annotations.ts) — so such input is refused at validation, naming the field, instead of
 * failing in the database insert.
 */
import { z } from "zod";

/** Why `value` cannot be stored as text, or null. Positions are 1-based UTF-16 code units. */
export function unsafeTextReason(value: string): string | null {
  for (let i = 0; i < value.length; i++) {
    const c = value.charCodeAt(i);
    if (c === 0) return `contains a NUL character (U+0000) at position ${i + 1}; remove it`;
    if (c >= 0xd800 && c <= 0xdbff) {
      const next = value.charCodeAt(i + 1);
      if (next >= 0xdc00 && next <= 0xdfff) {
        i++;
        continue;
      }
      return `contains an unpaired surrogate (U+${c.toString(16).toUpperCase()}) at position ${i + 1}: the text is not valid Unicode (a broken emoji?)`;
    }
    if (c >= 0xdc00 && c <= 0xdfff) return `contains an unpaired surrogate (U+${c.toString(16).toUpperCase()}) at position ${i + 1}: the text is not valid Unicode (a broken emoji?)`;
  }
  return null;
}

/**
 * The first unsafe string inside a JSON-like value (object keys included), with its path
 * ("" for `value` itself, "a.b[2]" inside), or null.
 */
export function unsafeTextIn(value: unknown, path = ""): { path: string; reason: string } | null {
  if (typeof value === "string") {
    const reason = unsafeTextReason(value);
    return reason ? { path, reason } : null;
  }
  if (Array.isArray(value)) {
    for (let i = 0; i < value.length; i++) {
      const found = unsafeTextIn(value[i], `${path}[${i}]`);
      if (found) return found;
    }
    return null;
  }
  if (value && typeof value === "object") {
    for (const [key, inner] of Object.entries(value)) {
      const keyReason = unsafeTextReason(key);
      if (keyReason) return { path: path ? `${path}.${key}` : key, reason: `its key ${keyReason}` };
      const found = unsafeTextIn(inner, path ? `${path}.${key}` : key);
      if (found) return found;
    }
  }
  return null;
}

/** A zod string refused when it holds a NUL or an unpaired surrogate (the message says which and where). */
export function safeText(schema: z.ZodString = z.string()): z.ZodString {
  return schema.superRefine((value, ctx) => {
    const reason = unsafeTextReason(value);
    if (reason) ctx.addIssue({ code: "custom", message: `The text ${reason}.` });
  });
}

/** Whether `offset` (UTF-16 code units) falls between the two halves of a surrogate pair of `text`. */
export function splitsSurrogatePair(text: string, offset: number): boolean {
  if (offset <= 0 || offset >= text.length) return false;
  const before = text.charCodeAt(offset - 1);
  const at = text.charCodeAt(offset);
  return before >= 0xd800 && before <= 0xdbff && at >= 0xdc00 && at <= 0xdfff;
}
