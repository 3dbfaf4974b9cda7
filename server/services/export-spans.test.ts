import fs from "node:fs";
import path from "node:path";
import { describe, expect, it } from "vitest";
import { exportSpans } from "./export-service";

const ROBUSTNESS = path.resolve(import.meta.dirname, "../../../shared/data/robustness");

/** Python's text[start:end]: slicing by code points. */
const pySlice = (text: string, start: number, end: number) => Array.from(text).slice(start, end).join("");

describe("exported span offsets (01-emoji-spans.jsonl)", () => {
  const narratives = fs
    .readFileSync(path.join(ROBUSTNESS, "01-emoji-spans.jsonl"), "utf8")
    .split("\n")
    .filter((l) => l.trim())
    .map((l) => JSON.parse(l) as { id: string; text: string });

  it("code-point offsets slice like Python after emoji, skin-tone modifiers and NFD accents; UTF-16 offsets kept beside them", () => {
    let afterEmoji = 0;
    for (const { text } of narratives) {
      // Every word of the narrative as a span, selected the way the browser counts (UTF-16).
      for (const m of text.matchAll(/[\p{L}\p{M}]+/gu)) {
        const start = m.index;
        const end = start + m[0].length;
        const [span] = exportSpans([{ start, end, label: "x", text: m[0] }], text);
        expect(span!.startUtf16).toBe(start);
        expect(span!.endUtf16).toBe(end);
        expect(text.slice(span!.startUtf16, span!.endUtf16)).toBe(m[0]);
        expect(pySlice(text, span!.start, span!.end)).toBe(m[0]);
        if (span!.start !== start) afterEmoji++;
      }
    }
    // The file does have spans whose two offsets differ (after an emoji), so the check above bites.
    expect(afterEmoji).toBeGreaterThan(0);
  });

  it("reads what is stored defensively", () => {
    expect(exportSpans(null, "x")).toEqual([]);
    expect(exportSpans([{ start: "a" }], "x")).toEqual([]);
    expect(exportSpans([{ start: 3, end: 9, label: "l", text: "t" }], "text")).toEqual([{ label: "l", text: "t", start: 3, end: 9, startUtf16: 3, endUtf16: 9 }]);
  });
});
