/**
 * A small SVG line-chart writer for learning curves: a grid of panels sharing one legend,
 * each series drawn as mean line + markers with an optional ±band. Colours (Okabe–Ito,
 * colour-blind safe) AND dash patterns AND marker shapes differ per series, so the chart still
 * reads in greyscale print. Pure string output; no DOM, no dependencies.
 */

export interface SeriesPoint {
  x: number;
  y: number;
  /** Band around y (e.g. mean ± std); drawn when both are finite. */
  lo?: number;
  hi?: number;
}

export interface Series {
  label: string;
  points: SeriesPoint[];
}

export interface Panel {
  title: string;
  series: Series[];
  /** Panel position in the grid (0-based). */
  row: number;
  col: number;
}

export interface ChartOptions {
  title: string;
  subtitle?: string;
  /** Axis titles per row (rows may show different metrics). */
  rowYLabels: string[];
  xLabel: string;
  /** Fixed y range per row, e.g. [0, 1] for F1; computed from the data when absent. */
  rowYDomains?: ([number, number] | undefined)[];
  panelWidth?: number;
  panelHeight?: number;
}

const COLOURS = ["#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#000000", "#999999"];
const DASHES = ["", "7 4", "2 3", "9 3 2 3", "4 2", "1 4", "12 4", "5 2 1 2"];
const MARKERS = ["circle", "square", "triangle", "diamond", "triangle-down", "plus", "cross", "circle-open"] as const;

/** Style of the i-th series: colour, dash pattern, marker. Shared by chart and legend. */
export function seriesStyle(i: number): { colour: string; dash: string; marker: (typeof MARKERS)[number] } {
  return { colour: COLOURS[i % COLOURS.length]!, dash: DASHES[i % DASHES.length]!, marker: MARKERS[i % MARKERS.length]! };
}

/** "Nice" tick values covering [lo, hi] (steps of 1, 2 or 5 × 10^k), about `target` of them. */
export function niceTicks(lo: number, hi: number, target = 5): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) {
    const pad = lo === 0 ? 1 : Math.abs(lo) * 0.1;
    lo -= pad;
    hi += pad;
  }
  const raw = (hi - lo) / Math.max(1, target);
  const mag = 10 ** Math.floor(Math.log10(raw));
  const norm = raw / mag;
  const step = (norm <= 1 ? 1 : norm <= 2 ? 2 : norm <= 5 ? 5 : 10) * mag;
  const first = Math.ceil(lo / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toPrecision(12)));
  return ticks;
}

function formatTick(v: number): string {
  if (v === 0) return "0";
  const a = Math.abs(v);
  if (a >= 1000) return v.toFixed(0);
  if (Number.isInteger(v)) return String(v);
  return Number(v.toPrecision(3)).toString();
}

export function escapeXml(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;").replace(/"/g, "&quot;");
}

function markerSvg(kind: (typeof MARKERS)[number], x: number, y: number, colour: string): string {
  const r = 3.2;
  const f = (n: number) => n.toFixed(1);
  switch (kind) {
    case "circle":
      return `<circle cx="${f(x)}" cy="${f(y)}" r="${r}" fill="${colour}"/>`;
    case "circle-open":
      return `<circle cx="${f(x)}" cy="${f(y)}" r="${r}" fill="white" stroke="${colour}" stroke-width="1.5"/>`;
    case "square":
      return `<rect x="${f(x - r)}" y="${f(y - r)}" width="${f(2 * r)}" height="${f(2 * r)}" fill="${colour}"/>`;
    case "triangle":
      return `<path d="M${f(x)},${f(y - r * 1.2)} L${f(x + r * 1.1)},${f(y + r * 0.8)} L${f(x - r * 1.1)},${f(y + r * 0.8)} Z" fill="${colour}"/>`;
    case "triangle-down":
      return `<path d="M${f(x)},${f(y + r * 1.2)} L${f(x + r * 1.1)},${f(y - r * 0.8)} L${f(x - r * 1.1)},${f(y - r * 0.8)} Z" fill="${colour}"/>`;
    case "diamond":
      return `<path d="M${f(x)},${f(y - r * 1.3)} L${f(x + r * 1.1)},${f(y)} L${f(x)},${f(y + r * 1.3)} L${f(x - r * 1.1)},${f(y)} Z" fill="${colour}"/>`;
    case "plus":
      return `<path d="M${f(x - r)},${f(y)} H${f(x + r)} M${f(x)},${f(y - r)} V${f(y + r)}" stroke="${colour}" stroke-width="2"/>`;
    case "cross":
      return `<path d="M${f(x - r)},${f(y - r)} L${f(x + r)},${f(y + r)} M${f(x - r)},${f(y + r)} L${f(x + r)},${f(y - r)}" stroke="${colour}" stroke-width="2"/>`;
  }
}

/** Render the panels as one standalone SVG document. Series keep their colour by label across panels. */
export function renderLineChart(panels: Panel[], options: ChartOptions): string {
  const pw = options.panelWidth ?? 330;
  const ph = options.panelHeight ?? 250;
  const rows = Math.max(1, ...panels.map((p) => p.row + 1));
  const cols = Math.max(1, ...panels.map((p) => p.col + 1));
  const labels: string[] = [];
  for (const p of panels) for (const s of p.series) if (!labels.includes(s.label)) labels.push(s.label);

  const margin = { top: 34, right: 14, bottom: 46, left: 58 };
  const headerH = options.subtitle ? 52 : 36;
  const legendRowH = 22;
  const legendItemW = 170;
  const totalW = cols * pw;
  const perLegendRow = Math.max(1, Math.floor((totalW - 20) / legendItemW));
  const legendH = Math.ceil(labels.length / perLegendRow) * legendRowH + 8;
  const totalH = headerH + legendH + rows * ph;
  const f = (n: number) => n.toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${totalW}" height="${totalH}" viewBox="0 0 ${totalW} ${totalH}" font-family="Helvetica, Arial, sans-serif" font-size="11">`,
  );
  out.push(`<rect width="100%" height="100%" fill="white"/>`);
  out.push(`<text x="${totalW / 2}" y="20" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`);
  if (options.subtitle) out.push(`<text x="${totalW / 2}" y="38" text-anchor="middle" font-size="11" fill="#444">${escapeXml(options.subtitle)}</text>`);

  // Legend: line sample with dash + marker, then the label.
  labels.forEach((label, i) => {
    const st = seriesStyle(i);
    const lx = 10 + (i % perLegendRow) * legendItemW;
    const ly = headerH + Math.floor(i / perLegendRow) * legendRowH + 12;
    out.push(`<line x1="${lx}" y1="${ly}" x2="${lx + 34}" y2="${ly}" stroke="${st.colour}" stroke-width="2.2"${st.dash ? ` stroke-dasharray="${st.dash}"` : ""}/>`);
    out.push(markerSvg(st.marker, lx + 17, ly, st.colour));
    out.push(`<text x="${lx + 40}" y="${ly + 4}">${escapeXml(label)}</text>`);
  });

  for (const panel of panels) {
    // One x range per grid column (panels stacked in a column line up); columns differ, because
    // a budget of 5 and one of 50 cover very different label counts.
    const xs = panels.filter((p) => p.col === panel.col).flatMap((p) => p.series.flatMap((s) => s.points.map((q) => q.x)));
    const xTicks = niceTicks(Math.min(...xs), Math.max(...xs), 5);
    const xMin = Math.min(...xs);
    const xMax = Math.max(...xs);
    const ox = panel.col * pw;
    const oy = headerH + legendH + panel.row * ph;
    const plotW = pw - margin.left - margin.right;
    const plotH = ph - margin.top - margin.bottom;
    const px = ox + margin.left;
    const py = oy + margin.top;

    let domain = options.rowYDomains?.[panel.row];
    if (!domain) {
      const ys = panels.filter((p) => p.row === panel.row).flatMap((p) => p.series.flatMap((s) => s.points.flatMap((q) => [q.y, q.lo ?? q.y, q.hi ?? q.y]))).filter(Number.isFinite);
      const t = niceTicks(Math.min(...ys), Math.max(...ys), 5);
      domain = [t[0] ?? 0, t[t.length - 1] ?? 1];
    }
    const [yLo, yHi] = domain;
    const yTicks = niceTicks(yLo, yHi, 5).filter((v) => v >= yLo - 1e-9 && v <= yHi + 1e-9);
    const sx = (x: number) => px + ((x - xMin) / (xMax - xMin || 1)) * plotW;
    const sy = (y: number) => py + plotH - ((Math.min(Math.max(y, yLo), yHi) - yLo) / (yHi - yLo || 1)) * plotH;

    out.push(`<g>`);
    out.push(`<text x="${f(px + plotW / 2)}" y="${f(oy + 18)}" text-anchor="middle" font-size="12" font-weight="bold">${escapeXml(panel.title)}</text>`);
    // Grid and ticks.
    for (const v of yTicks) {
      out.push(`<line x1="${f(px)}" y1="${f(sy(v))}" x2="${f(px + plotW)}" y2="${f(sy(v))}" stroke="#e3e3e3"/>`);
      out.push(`<text x="${f(px - 6)}" y="${f(sy(v) + 4)}" text-anchor="end">${formatTick(v)}</text>`);
    }
    for (const v of xTicks) {
      if (v < xMin - 1e-9 || v > xMax + 1e-9) continue;
      out.push(`<line x1="${f(sx(v))}" y1="${f(py)}" x2="${f(sx(v))}" y2="${f(py + plotH)}" stroke="#f0f0f0"/>`);
      out.push(`<line x1="${f(sx(v))}" y1="${f(py + plotH)}" x2="${f(sx(v))}" y2="${f(py + plotH + 4)}" stroke="#333"/>`);
      out.push(`<text x="${f(sx(v))}" y="${f(py + plotH + 16)}" text-anchor="middle">${formatTick(v)}</text>`);
    }
    out.push(`<rect x="${f(px)}" y="${f(py)}" width="${f(plotW)}" height="${f(plotH)}" fill="none" stroke="#333"/>`);
    out.push(`<text x="${f(px + plotW / 2)}" y="${f(py + plotH + 34)}" text-anchor="middle">${escapeXml(options.xLabel)}</text>`);
    const yl = options.rowYLabels[panel.row] ?? "";
    out.push(`<text transform="translate(${f(ox + 16)},${f(py + plotH / 2)}) rotate(-90)" text-anchor="middle">${escapeXml(yl)}</text>`);

    // Bands first, so every line is drawn above every band.
    for (const s of panel.series) {
      const st = seriesStyle(labels.indexOf(s.label));
      const band = s.points.filter((q) => Number.isFinite(q.lo) && Number.isFinite(q.hi));
      if (band.length < 2) continue;
      const upper = band.map((q) => `${f(sx(q.x))},${f(sy(q.hi!))}`);
      const lower = band.slice().reverse().map((q) => `${f(sx(q.x))},${f(sy(q.lo!))}`);
      out.push(`<polygon points="${[...upper, ...lower].join(" ")}" fill="${st.colour}" fill-opacity="0.10" stroke="none"/>`);
    }
    for (const s of panel.series) {
      const st = seriesStyle(labels.indexOf(s.label));
      const pts = s.points.filter((q) => Number.isFinite(q.y));
      if (pts.length === 0) continue;
      const d = pts.map((q, j) => `${j === 0 ? "M" : "L"}${f(sx(q.x))},${f(sy(q.y))}`).join(" ");
      out.push(`<path d="${d}" fill="none" stroke="${st.colour}" stroke-width="2"${st.dash ? ` stroke-dasharray="${st.dash}"` : ""}><title>${escapeXml(s.label)}</title></path>`);
      for (const q of pts) out.push(markerSvg(st.marker, sx(q.x), sy(q.y), st.colour));
    }
    out.push(`</g>`);
  }
  out.push(`</svg>`);
  return out.join("\n") + "\n";
}
