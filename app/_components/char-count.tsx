"use client";
/**
 * The counter of a free-text field near its limit ("4,120 / 5,000 characters"), shown from 80 % of
 * the limit of contracts/text-limits.ts (the zod schemas refuse beyond it; the input's `maxLength`
 * stops typing at it). Counts UTF-16 units, as `maxLength` does. Announced politely to screen readers.
 */
import { showsCounter, TEXT_LIMITS, type TextField } from "@/contracts/text-limits";

export function CharCount({ field, value }: { field: TextField; value: string }) {
  if (!showsCounter(field, value.length)) return null;
  const limit = TEXT_LIMITS[field];
  return (
    <span className="muted" aria-live="polite" data-testid={`char-count-${field}`} style={{ fontSize: "0.85em", display: "block", textAlign: "right", color: value.length >= limit ? "var(--danger)" : undefined }}>
      {value.length.toLocaleString("en-US")} / {limit.toLocaleString("en-US")} characters
    </span>
  );
}
