"use client";

import { forwardRef, useMemo } from "react";
import type { EvidenceSpan } from "@/contracts/annotations";

/**
 * Offsets [start, end) of the current text selection inside `container`, in the narrative's
 * UTF-16 units, or null when nothing (or something outside) is selected. The rendered text is the
 * narrative exactly (marks only wrap it), so a range's text length from the container's start is
 * the offset.
 */
export function selectionOffsets(container: HTMLElement | null): { start: number; end: number } | null {
  const selection = window.getSelection();
  if (!container || !selection || selection.rangeCount === 0 || selection.isCollapsed) return null;
  const range = selection.getRangeAt(0);
  if (!container.contains(range.startContainer) || !container.contains(range.endContainer)) return null;
  const before = document.createRange();
  before.selectNodeContents(container);
  before.setEnd(range.startContainer, range.startOffset);
  const start = before.toString().length;
  const end = start + range.toString().length;
  return end > start ? { start, end } : null;
}

/** The narrative with evidence spans highlighted; overlapping spans split the text at every boundary. */
/** A label's colour as a translucent highlight (the schema's #rrggbb at about 35 % opacity). */
export const highlight = (colour: string | undefined) => (colour && /^#[0-9a-fA-F]{6}$/.test(colour) ? `${colour}59` : undefined);

export const Narrative = forwardRef<HTMLDivElement, { text: string; spans: EvidenceSpan[]; labelNames: Map<string, string>; labelColours?: Map<string, string> }>(function Narrative({ text, spans, labelNames, labelColours }, ref) {
  const segments = useMemo(() => {
    const cuts = new Set([0, text.length]);
    for (const span of spans) {
      cuts.add(Math.min(span.start, text.length));
      cuts.add(Math.min(span.end, text.length));
    }
    const points = [...cuts].sort((a, b) => a - b);
    const out: { from: number; to: number; labels: string[] }[] = [];
    for (let i = 0; i + 1 < points.length; i++) {
      const from = points[i]!;
      const to = points[i + 1]!;
      out.push({ from, to, labels: spans.filter((s) => s.start <= from && s.end >= to).map((s) => s.label) });
    }
    return out;
  }, [text, spans]);
  if (!text) return <p className="muted">This case has no report text.</p>;
  return (
    <div ref={ref} className="narrative" data-testid="narrative">
      {segments.map((segment) =>
        segment.labels.length ? (
          <mark
            key={segment.from}
            title={segment.labels.map((l) => labelNames.get(l) ?? l).join(", ")}
            data-label={segment.labels[0]}
            style={{ background: highlight(labelColours?.get(segment.labels[0]!)), boxShadow: segment.labels.length > 1 ? `inset 0 -3px 0 ${labelColours?.get(segment.labels[1]!) ?? "#868e96"}` : undefined }}
          >
            {text.slice(segment.from, segment.to)}
          </mark>
        ) : (
          <span key={segment.from}>{text.slice(segment.from, segment.to)}</span>
        ),
      )}
    </div>
  );
});
