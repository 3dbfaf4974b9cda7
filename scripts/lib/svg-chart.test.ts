import { describe, expect, it } from "vitest";
import { escapeXml, niceTicks, renderLineChart, seriesStyle } from "./svg-chart";

describe("niceTicks", () => {
  it("uses 1/2/5 steps that cover the range", () => {
    expect(niceTicks(0, 1, 5)).toEqual([0, 0.2, 0.4, 0.6, 0.8, 1]);
    expect(niceTicks(20, 270, 5)).toEqual([50, 100, 150, 200, 250]);
    // A single value is padded by 10 % so it still gets an axis.
    expect(niceTicks(3, 3, 4)).toEqual([2.8, 3, 3.2]);
  });
});

describe("renderLineChart", () => {
  const svg = renderLineChart(
    [
      { title: "B = 5", row: 0, col: 0, series: [{ label: "rads <exact>", points: [{ x: 20, y: 0.1, lo: 0.05, hi: 0.15 }, { x: 25, y: 0.3, lo: 0.2, hi: 0.4 }] }, { label: "random", points: [{ x: 20, y: 0.1 }, { x: 25, y: 0.12 }] }] },
      { title: "B = 10", row: 0, col: 1, series: [{ label: "random", points: [{ x: 20, y: 0.1 }, { x: 30, y: 0.2 }] }] },
    ],
    { title: "Minority F1 & AUPRC", rowYLabels: ["minority F1"], xLabel: "labelled cases", rowYDomains: [[0, 1]] },
  );

  it("writes one well-formed document with escaped text, a legend and one path per series per panel", () => {
    expect(svg.startsWith("<svg ")).toBe(true);
    expect(svg.trim().endsWith("</svg>")).toBe(true);
    expect(svg).toContain("rads &lt;exact&gt;");
    expect(svg).toContain("Minority F1 &amp; AUPRC");
    expect(svg).not.toMatch(/NaN|undefined/);
    expect((svg.match(/<path d="M[^"]*" fill="none"/g) ?? []).length).toBe(3);
    expect((svg.match(/<polygon /g) ?? []).length).toBe(1);
  });

  it("keeps a series' colour by label across panels", () => {
    const randomColour = seriesStyle(1).colour;
    const randomPaths = svg.match(new RegExp(`stroke="${randomColour}" stroke-width="2"`, "g")) ?? [];
    expect(randomPaths.length).toBe(2);
  });

  it("gives the first eight series distinct colour, dash and marker", () => {
    const styles = Array.from({ length: 8 }, (_, i) => seriesStyle(i));
    expect(new Set(styles.map((s) => s.colour)).size).toBe(8);
    expect(new Set(styles.map((s) => s.dash)).size).toBe(8);
    expect(new Set(styles.map((s) => s.marker)).size).toBe(8);
  });

  it("escapes XML specials", () => {
    expect(escapeXml(`a<b>&"c"`)).toBe("a&lt;b&gt;&amp;&quot;c&quot;");
  });
});
