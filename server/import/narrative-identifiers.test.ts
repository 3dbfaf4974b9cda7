/**
 * The narrative identifier scan: recall ≥ 0.95 on seeded synthetic notes with planted fake
 * identifiers (overall and for each kind: a planted value counts as found when a finding of its kind
 * covers all of it), masking removes every found value, placeholders of de-identified corpora and
 * clinical numbers are not flagged.
 */
import { describe, expect, it } from "vitest";
import { syntheticNotes } from "@/server/testing/synthetic-identifiers";
import { findingTotals, IDENTIFIER_KINDS, maskIdentifiers, scanNarrative, scanNarrativeRows, type IdentifierKind } from "./narrative-identifiers";

function recall(seed: number, count: number) {
  const perKind = new Map<IdentifierKind, { planted: number; found: number }>(IDENTIFIER_KINDS.map((k) => [k, { planted: 0, found: 0 }]));
  const missed: string[] = [];
  for (const note of syntheticNotes(count, seed)) {
    const findings = scanNarrative(note.text);
    for (const p of note.planted) {
      const stats = perKind.get(p.kind)!;
      stats.planted++;
      if (findings.some((f) => f.kind === p.kind && f.start <= p.start && f.end >= p.end)) stats.found++;
      else missed.push(`${p.kind}: …${note.text.slice(Math.max(0, p.start - 30), p.end + 10)}…`);
    }
  }
  const planted = [...perKind.values()].reduce((n, s) => n + s.planted, 0);
  const found = [...perKind.values()].reduce((n, s) => n + s.found, 0);
  return { overall: found / planted, perKind, missed, planted };
}

describe("scanNarrative", () => {
  it("finds ≥ 95% of the planted identifiers of 600 seeded synthetic notes, for each kind", () => {
    const result = recall(20261130, 600);
    expect(result.planted).toBeGreaterThan(1000);
    expect(result.overall, result.missed.slice(0, 10).join("\n")).toBeGreaterThanOrEqual(0.95);
    for (const [kind, s] of result.perKind) {
      expect(s.planted, kind).toBeGreaterThan(100);
      expect(s.found / s.planted, `${kind}: ${result.missed.filter((m) => m.startsWith(kind)).slice(0, 5).join("\n")}`).toBeGreaterThanOrEqual(0.95);
    }
  });

  it("masks every finding: no planted value survives in a masked note it was found in", () => {
    for (const note of syntheticNotes(200, 7)) {
      const findings = scanNarrative(note.text);
      const masked = maskIdentifiers(note.text, findings);
      for (const p of note.planted) {
        const value = note.text.slice(p.start, p.end);
        if (findings.some((f) => f.start <= p.start && f.end >= p.end)) expect(masked.includes(value), value).toBe(false);
      }
    }
  });

  it("names each kind in context", () => {
    const kinds = (text: string) => scanNarrative(text).map((f) => [f.kind, text.slice(f.start, f.end)]);
    expect(kinds("Seen by Dr. Maria Rossi today.")).toEqual([["name", "Maria Rossi"]]);
    expect(kinds("MRN: 00482913. Follow up.")).toEqual([["mrn", "00482913"]]);
    expect(kinds("DOB: 04/17/1962.")).toEqual([["dob", "04/17/1962"]]);
    expect(kinds("Call (617) 555-0182 tomorrow.")).toEqual([["phone", "(617) 555-0182"]]);
    expect(kinds("Write to jane.doe@example.com.")).toEqual([["email", "jane.doe@example.com"]]);
    expect(kinds("Lives at 42 Elm Street, Salem, MA 01970.")).toEqual([["address", "42 Elm Street, Salem, MA 01970"]]);
  });

  it("leaves placeholders and clinical numbers alone", () => {
    const clean = [
      "Dr. XYZ saw Mr. ABC today; Ms. Xxxxx and Dr. Abcd agree.",
      "DOB: MM/DD/YYYY. Blood pressure 124/78, pulse 88, weight 130 pounds.",
      "Platelets 245,000; 1000 mg of acetaminophen every 6 hours; 2.5 mg/kg.",
      "CC: Chest pain. HPI: The patient is a 23-year-old female.",
      "Laceration repaired with 4-0 Vicryl; EBL 50 mL; 3 x 4 cm mass.",
    ];
    for (const text of clean) expect(scanNarrative(text), text).toEqual([]);
  });
});

describe("scanNarrativeRows", () => {
  it("reports file, line and counts by kind, and masks the rows in place with mode mask", () => {
    const rows = [
      { file: "notes.csv", line: 2, narrative: "Dr. Maria Rossi called 617-555-0182." },
      { file: "notes.csv", line: 3, narrative: "No identifiers here." },
      { file: "notes.csv", line: 4, narrative: null },
    ];
    const found = scanNarrativeRows(rows, "mask");
    expect(found).toEqual([{ file: "notes.csv", line: 2, kinds: { name: 1, phone: 1 } }]);
    expect(rows[0]!.narrative).toBe("Dr. [NAME] called [PHONE].");
    expect(rows[1]!.narrative).toBe("No identifiers here.");
    expect(findingTotals(found)).toEqual({ rows: 1, byKind: { name: 1, phone: 1 } });
  });

  it("keeps the text with mode keep", () => {
    const rows = [{ file: "a.jsonl", line: 1, narrative: "Email jane@example.com" }];
    expect(scanNarrativeRows(rows, "keep")).toHaveLength(1);
    expect(rows[0]!.narrative).toBe("Email jane@example.com");
  });
});
