/**
 * Measures the narrative identifier scan (server/import/narrative-identifiers.ts):
 *   - recall on seeded synthetic notes with planted fake identifiers (server/testing/synthetic-identifiers.ts):
 *     a planted value counts as found when a finding of its kind covers all of it;
 *   - flag rate on the mtsamples transcriptions (../shared/data/text/mtsamples/mtsamples.csv): the
 *     corpus is published de-identified (placeholders "Dr. XYZ", "MM/DD/YYYY"), so every flagged note
 *     counts as a false positive — an upper bound, since a few real-looking names and numbers remain.
 * Prints counts only (never a matched value).
 *
 *   npm run scan:identifiers [-- --notes 2000 --seed 20261130]
 */
import fs from "node:fs";
import path from "node:path";
import { parseCsv } from "./lib/csv";
import { IDENTIFIER_KINDS, scanNarrative, type IdentifierKind } from "../server/import/narrative-identifiers";
import { syntheticNotes } from "../server/testing/synthetic-identifiers";

function arg(name: string, fallback: number): number {
  const i = process.argv.indexOf(`--${name}`);
  const value = i >= 0 ? Number(process.argv[i + 1]) : fallback;
  if (!Number.isInteger(value) || value <= 0) throw new Error(`--${name} must be a positive integer`);
  return value;
}

const count = arg("notes", 2000);
const seed = arg("seed", 20261130);

// Recall on synthetic notes.
const perKind = new Map<IdentifierKind, { planted: number; found: number }>(IDENTIFIER_KINDS.map((k) => [k, { planted: 0, found: 0 }]));
for (const note of syntheticNotes(count, seed)) {
  const findings = scanNarrative(note.text);
  for (const p of note.planted) {
    const s = perKind.get(p.kind)!;
    s.planted++;
    if (findings.some((f) => f.kind === p.kind && f.start <= p.start && f.end >= p.end)) s.found++;
  }
}
const planted = [...perKind.values()].reduce((n, s) => n + s.planted, 0);
const found = [...perKind.values()].reduce((n, s) => n + s.found, 0);
console.log(`Synthetic notes: ${count} (seed ${seed}), ${planted} planted identifiers`);
console.log(`  recall overall ${(found / planted).toFixed(3)}`);
for (const [kind, s] of perKind) console.log(`  ${kind.padEnd(8)} ${String(s.found).padStart(5)}/${String(s.planted).padEnd(5)} recall ${(s.found / s.planted).toFixed(3)}`);

// Flag rate on mtsamples.
const file = path.resolve(import.meta.dirname, "../../shared/data/text/mtsamples/mtsamples.csv");
const table = parseCsv(fs.readFileSync(file, "utf8"), { file });
const column = table.header.indexOf("transcription");
const texts = table.rows.map((r) => r[column] ?? "").filter((t) => t.trim() !== "");
let flagged = 0;
const findingsByKind = new Map<IdentifierKind, { findings: number; notes: number }>(IDENTIFIER_KINDS.map((k) => [k, { findings: 0, notes: 0 }]));
const started = Date.now();
for (const text of texts) {
  const findings = scanNarrative(text);
  if (findings.length) flagged++;
  for (const kind of IDENTIFIER_KINDS) {
    const n = findings.filter((f) => f.kind === kind).length;
    const s = findingsByKind.get(kind)!;
    s.findings += n;
    if (n) s.notes++;
  }
}
const ms = Date.now() - started;
console.log(`mtsamples: ${texts.length} non-empty transcriptions, scanned in ${ms} ms (${((ms / texts.length) * 1000).toFixed(0)} µs/note)`);
console.log(`  notes flagged ${flagged} → false-positive rate (notes) ${(flagged / texts.length).toFixed(3)}`);
for (const [kind, s] of findingsByKind) console.log(`  ${kind.padEnd(8)} ${String(s.findings).padStart(5)} findings in ${String(s.notes).padStart(5)} notes (${(s.notes / texts.length).toFixed(3)})`);
