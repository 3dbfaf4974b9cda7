/**
 * Where gold cases go in a clinician's queue (issue 14 item 3). Pure: no I/O.
 *
 * The cases served to one clinician in one round are numbered 0, 1, 2, … (their `position`). Position k is a
 * gold slot when the running count ⌊k·r + φ⌋ steps up at k + 1, with r = settings.goldRate and a phase
 * φ ∈ [0, 1) drawn from the (round, clinician) pair by sha256. So among the first n positions exactly
 * ⌊n·r + φ⌋ are gold slots — ⌊n·r⌋ or ⌈n·r⌉, the set rate with no drift — and where they fall differs per
 * clinician and round, so neither their place nor their spacing tells a clinician which case is gold.
 * Deterministic: the same round and clinician give the same slots (tests compute them with these functions).
 * A gold slot with no gold case left for the clinician (each is given to a clinician at most once) takes a
 * regular case.
 */
import crypto from "node:crypto";

/** The phase φ ∈ [0, 1) of one clinician in one round: the first 32 bits of sha256("roundId:userId") / 2³². */
export function goldPhase(roundId: string, userId: string): number {
  return crypto.createHash("sha256").update(`${roundId}:${userId}`).digest().readUInt32BE(0) / 2 ** 32;
}

/**
 * Whether position `k` (0-based count of the cases served to the clinician in the round before this one) is a
 * gold slot at rate `rate` ∈ [0, 0.5] with phase `phase` ∈ [0, 1).
 * @throws RangeError for a negative or fractional k, a rate outside [0, 1] or a phase outside [0, 1)
 */
export function isGoldSlot(k: number, rate: number, phase: number): boolean {
  if (!Number.isInteger(k) || k < 0) throw new RangeError(`isGoldSlot: position must be a whole number ≥ 0 (got ${k})`);
  if (!(rate >= 0 && rate <= 1)) throw new RangeError(`isGoldSlot: rate must be in [0, 1] (got ${rate})`);
  if (!(phase >= 0 && phase < 1)) throw new RangeError(`isGoldSlot: phase must be in [0, 1) (got ${phase})`);
  if (rate === 0) return false;
  return Math.floor((k + 1) * rate + phase) > Math.floor(k * rate + phase);
}

/** The gold slots among positions 0 … n − 1 (what a round of n served cases holds when gold cases last). */
export function goldSlots(n: number, rate: number, phase: number): number[] {
  const out: number[] = [];
  for (let k = 0; k < n; k++) if (isGoldSlot(k, rate, phase)) out.push(k);
  return out;
}

/**
 * How many cases a clinician's round holds for them in all, fixed before any gold case is served: the positions
 * 0, 1, … until `items` regular positions are filled, where each position from `served` on is a gold slot
 * (isGoldSlot) taken by a gold case while `goldLeft` last, else a regular one. The queue serves a gold case only
 * at such a planned slot (before the clinician's regular positions reach `items`), so serving one moves a case
 * from `goldLeft` to the served positions and this total stays the same: the "case k of N" a clinician sees
 * never grows when a gold case is served.
 * @param items the round's queue items (the regular positions a clinician can be given)
 * @param servedRegular the clinician's leases in the round so far; @param served their leases plus gold servings
 * @param goldLeft gold cases the clinician may still be given (gold-repo countGoldLeft)
 * @throws RangeError for a negative or fractional count, or a rate or phase outside its range (isGoldSlot)
 */
export function plannedRoundTotal(p: { items: number; servedRegular: number; served: number; goldLeft: number; rate: number; phase: number }): number {
  for (const [name, v] of Object.entries({ items: p.items, servedRegular: p.servedRegular, served: p.served, goldLeft: p.goldLeft })) {
    if (!Number.isInteger(v) || v < 0) throw new RangeError(`plannedRoundTotal: ${name} must be a whole number ≥ 0 (got ${v})`);
  }
  let regular = p.servedRegular;
  let left = p.goldLeft;
  let k = p.served;
  for (; regular < p.items; k++) {
    if (left > 0 && isGoldSlot(k, p.rate, p.phase)) left--;
    else regular++;
  }
  return Math.max(k, p.served);
}
