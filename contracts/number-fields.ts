/**
 * Number, whole-number and yes/no fields whose every refusal is ONE human sentence naming the field,
 * so a form, a procedure and a configuration file all read "λ must be a number between 0 and 10" —
 * never zod's "Invalid input: expected number, received NaN" (a form's `Number("abc")`) or
 * "expected int, received number" (1.5 for a count) or "received string" (`"leaseMinutes": "abc"`
 * in a JSON file). Used by every numeric field of contracts/project-config.ts, encoder-config.ts
 * and the settings inputs built from them.
 */
import { z } from "zod";

export interface NumberRange {
  /** Smallest allowed value (inclusive). */
  min?: number;
  /** Largest allowed value (inclusive). */
  max?: number;
  /** Allowed values are strictly above this. */
  gt?: number;
  /** Allowed values are strictly below this. */
  lt?: number;
}

const show = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 6 });

/**
 * The sentence for a field: "<label> must be a number between 0 and 10", "<label> must be a whole
 * number of at least 1", "<label> must be a number above 0 and below 1", "<label> must be a number".
 */
export function numberMessage(label: string, range: NumberRange, whole: boolean): string {
  const what = whole ? "a whole number" : "a number";
  const low = range.min !== undefined ? { n: range.min, strict: false } : range.gt !== undefined ? { n: range.gt, strict: true } : null;
  const high = range.max !== undefined ? { n: range.max, strict: false } : range.lt !== undefined ? { n: range.lt, strict: true } : null;
  let bounds = "";
  if (low && high && !low.strict && !high.strict) bounds = ` between ${show(low.n)} and ${show(high.n)}`;
  else {
    const parts = [low ? (low.strict ? `above ${show(low.n)}` : `of at least ${show(low.n)}`) : null, high ? (high.strict ? `below ${show(high.n)}` : `at most ${show(high.n)}`) : null].filter(Boolean);
    if (parts.length) bounds = ` ${parts.join(" and ")}`;
  }
  return `${label} must be ${what}${bounds}`;
}

function build(label: string, range: NumberRange, whole: boolean) {
  const message = numberMessage(label, range, whole);
  let schema = z.number({ error: message });
  if (whole) schema = schema.int(message);
  if (range.min !== undefined) schema = schema.min(range.min, message);
  if (range.gt !== undefined) schema = schema.gt(range.gt, message);
  if (range.max !== undefined) schema = schema.max(range.max, message);
  if (range.lt !== undefined) schema = schema.lt(range.lt, message);
  return schema;
}

/** A finite number in `range`; any refusal (missing, text, NaN, out of range) is `numberMessage(label, range, false)`. */
export function numberField(label: string, range: NumberRange = {}) {
  return build(label, range, false);
}

/** A whole number in `range`; any refusal (missing, text, NaN, 1.5, out of range) is `numberMessage(label, range, true)`. */
export function wholeNumberField(label: string, range: NumberRange = {}) {
  return build(label, range, true);
}

/** true or false; anything else is "<label> must be true or false". */
export function yesNoField(label: string) {
  return z.boolean({ error: `${label} must be true or false` });
}

/** One of `values`; anything else is "<label> must be one of a, b, c". */
export function choiceField<const T extends readonly [string, ...string[]]>(label: string, values: T) {
  return z.enum(values, { error: `${label} must be one of ${values.join(", ")}` });
}
