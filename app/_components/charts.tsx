"use client";

/**
 * Charts of the review and selection pages (recharts). Each chart carries a title, axis labels and
 * a legend, so it reads without the surrounding text; the figure is labelled for screen readers.
 */
import type { ReactNode } from "react";
import "./charts.css";
import { Bar, BarChart, CartesianGrid, Legend, Line, LineChart, ResponsiveContainer, Tooltip, XAxis, YAxis } from "recharts";

export const SERIES_COLOURS = ["#0b6bcb", "#d9480f", "#2b8a3e", "#862e9c", "#c92a2a", "#5c7cfa", "#e67700", "#0ca678"];
const GRID = "#e3e7ec";

/**
 * The frame of every chart: title, and the axis titles as HTML outside the plot (the y title above the
 * plot on the left, the x title below it), so no axis title can ever sit on the tick numbers.
 */
export function ChartFrame({ title, subtitle, children, testId, xLabel, yLabel }: { title: string; subtitle?: string; children: ReactNode; testId?: string; xLabel?: string; yLabel?: string }) {
  return (
    <figure className="chart" aria-label={title} data-testid={testId}>
      <figcaption>
        <strong>{title}</strong>
        {subtitle && <span className="muted"> — {subtitle}</span>}
      </figcaption>
      {yLabel && <div className="axis-title axis-y">↑ {yLabel}</div>}
      {children}
      {xLabel && <div className="axis-title axis-x">{xLabel} →</div>}
    </figure>
  );
}

// ---------------------------------------------------------------------------------------------
// The shared axis: every chart's axes come from here (ticks, domains, formats).

export type AxisDomain = [number | "auto", number | "auto"];

/** About `count` round-numbered ticks (1, 2, 5 × 10^k steps) covering [lo, hi]; integers only when `integer`. */
export function niceTicks(lo: number, hi: number, count = 5, integer = false): number[] {
  if (!Number.isFinite(lo) || !Number.isFinite(hi)) return [];
  if (hi < lo) [lo, hi] = [hi, lo];
  if (hi === lo) return [lo];
  const raw = (hi - lo) / Math.max(1, count);
  const mag = 10 ** Math.floor(Math.log10(raw));
  let step = [1, 2, 5, 10].map((m) => m * mag).find((s) => s >= raw) ?? 10 * mag;
  if (integer) step = Math.max(1, Math.round(step));
  const first = Math.ceil(lo / step - 1e-9) * step;
  const ticks: number[] = [];
  for (let v = first; v <= hi + step * 1e-9; v += step) ticks.push(Number(v.toFixed(12)));
  return ticks;
}

/** Decimals that tell neighbouring ticks apart (0 for integer steps), at most 4. */
export function tickDecimals(ticks: number[]): number {
  if (ticks.length < 2) return ticks.every(Number.isInteger) ? 0 : 2;
  const step = Math.abs(ticks[1]! - ticks[0]!);
  return Math.min(4, Math.max(0, Math.ceil(-Math.log10(step) - 1e-9)));
}

/**
 * A numeric axis's domain and ticks from its data: the given domain where fixed, else the data's
 * range rounded out to nice ticks. Integer axes (days, counts, episodes) get whole-number ticks, and
 * data that are never negative never get a negative axis (no "day −1").
 */
export function numericScale(values: number[], domain: AxisDomain | undefined, integer: boolean) {
  const finite = values.filter(Number.isFinite);
  let lo = typeof domain?.[0] === "number" ? domain[0] : finite.length ? Math.min(...finite) : 0;
  let hi = typeof domain?.[1] === "number" ? domain[1] : finite.length ? Math.max(...finite) : 1;
  if (lo === hi) {
    const pad = integer ? 1 : Math.abs(lo) * 0.1 || 1;
    if (typeof domain?.[0] !== "number") lo -= pad;
    if (typeof domain?.[1] !== "number") hi += pad;
  }
  if (finite.length && Math.min(...finite) >= 0 && typeof domain?.[0] !== "number") lo = Math.max(0, lo);
  let ticks = niceTicks(lo, hi, 5, integer);
  if (typeof domain?.[0] !== "number" && ticks.length && ticks[0]! > lo) ticks = [ticks[0]! - (ticks[1]! - ticks[0]!), ...ticks];
  if (typeof domain?.[1] !== "number" && ticks.length > 1 && ticks.at(-1)! < hi) ticks = [...ticks, ticks.at(-1)! + (ticks[1]! - ticks[0]!)];
  if (finite.length && Math.min(...finite) >= 0) ticks = ticks.filter((t) => t >= 0);
  const decimals = tickDecimals(ticks);
  return { domain: [ticks[0] ?? lo, ticks.at(-1) ?? hi] as [number, number], ticks, format: (v: unknown) => (typeof v === "number" ? v.toFixed(decimals) : String(v)) };
}

const AXIS_TICK = { fontSize: 11, fill: "#495057" };

/** The numeric x axis of every line chart. */
export function numericXAxis(scale: ReturnType<typeof numericScale>) {
  return <XAxis type="number" dataKey="x" domain={scale.domain} ticks={scale.ticks} tickFormatter={scale.format} interval="preserveStartEnd" minTickGap={8} tick={AXIS_TICK} allowDuplicatedCategory={false} />;
}

/** The numeric y axis of every chart: wide enough for its longest tick, never a title beside it (the frame shows it). */
export function numericYAxis(scale: ReturnType<typeof numericScale>) {
  const width = Math.max(32, 8 + 7 * Math.max(...scale.ticks.map((t) => scale.format(t).length), 1));
  return <YAxis type="number" domain={scale.domain} ticks={scale.ticks} tickFormatter={scale.format} width={width} tick={AXIS_TICK} interval={0} />;
}

/**
 * A category tick that wraps its words to the width each category has, so neighbours never collide.
 * A number longer than its slot (a histogram's bin edge such as "0.125" among 20 bins) is never cut:
 * only every k-th tick is labelled instead, k just large enough for it to fit; a longer word of a
 * named category is cut with "…" (every category keeps a label).
 */
function WrappedTick(props: { x?: number; y?: number; index?: number; payload?: { value: unknown; index?: number }; width?: number; visibleTicksCount?: number }) {
  const { x = 0, y = 0, payload, width = 300, visibleTicksCount = 1 } = props;
  const index = props.index ?? payload?.index ?? 0;
  const slot = width / Math.max(1, visibleTicksCount);
  const words = String(payload?.value ?? "").split(/\s+/);
  const longest = Math.max(...words.map((w) => w.length), 1);
  // Ordered numeric bins may skip labels (the axis still reads); named categories never do (a word is cut instead).
  const numeric = words.every((w) => /^[-+]?\d/.test(w));
  const step = numeric ? Math.max(1, Math.ceil((longest * 6.4 + 6) / slot)) : 1;
  if (index % step !== 0) return null;
  const perLine = Math.max(3, Math.floor((slot * step - 6) / 6.4));
  const lines: string[] = [];
  for (const word of words) {
    const last = lines.at(-1);
    if (last !== undefined && (last + " " + word).length <= perLine) lines[lines.length - 1] = `${last} ${word}`;
    else lines.push(!numeric && word.length > perLine ? `${word.slice(0, Math.max(1, perLine - 1))}…` : word);
  }
  return (
    <text x={x} y={y + 4} textAnchor="middle" fontSize={11} fill="#495057">
      {lines.slice(0, 3).map((line, i) => (
        <tspan key={i} x={x} dy={i === 0 ? "0.71em" : "1.15em"}>
          {line}
        </tspan>
      ))}
    </text>
  );
}

/** The category x axis of every bar chart (all categories shown, labels wrapped). */
export function categoryXAxis() {
  return <XAxis dataKey="category" interval={0} tick={<WrappedTick />} height={44} />;
}

/** Bin labels of a histogram with just enough decimals to tell neighbouring bins apart. */
export function binLabels(edges: number[]): string[] {
  const decimals = tickDecimals(edges);
  return edges.map((e) => e.toFixed(decimals));
}

const fmt = (v: unknown) => (typeof v === "number" ? (Math.abs(v) >= 100 || Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v));

export interface XYSeries {
  name: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
  colour?: string;
}

const DASHES = ["7 4", "2 3", "10 3 2 3"];

/**
 * Series that coincide with an earlier one would hide behind it: they are drawn dashed, thicker
 * underneath, and their legend names say which line they coincide with.
 */
function separateCoinciding(series: XYSeries[]): (XYSeries & { width: number; dash?: string })[] {
  const key = (s: XYSeries) => s.points.map((p) => `${p.x}:${p.y}`).join("|");
  const seen = new Map<string, string>();
  let n = 0;
  return series.map((s) => {
    const k = key(s);
    const earlier = s.points.length ? seen.get(k) : undefined;
    if (!earlier) {
      seen.set(k, s.name);
      return { ...s, width: 2, dash: s.dashed ? "5 4" : undefined };
    }
    const dash = DASHES[n++ % DASHES.length];
    return { ...s, name: `${s.name} (same as ${earlier})`, width: 3, dash };
  });
}

/** Several x/y lines on numeric axes (PR curves, reliability diagrams, learning curves). */
export function XYChart({ title, subtitle, xLabel, yLabel, series, xDomain, yDomain, testId, height = 280, dots = false, xInteger = false, yInteger = false }: {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: XYSeries[];
  xDomain?: AxisDomain;
  yDomain?: AxisDomain;
  testId?: string;
  height?: number;
  dots?: boolean;
  /** Whole-number x values (days, episodes, case counts): integer ticks only. */
  xInteger?: boolean;
  yInteger?: boolean;
}) {
  const xs = numericScale(series.flatMap((s) => s.points.map((p) => p.x)), xDomain, xInteger);
  const ys = numericScale(series.flatMap((s) => s.points.map((p) => p.y)), yDomain, yInteger);
  const drawn = separateCoinciding(series);
  return (
    <ChartFrame title={title} subtitle={subtitle} testId={testId} xLabel={xLabel} yLabel={yLabel}>
      <ResponsiveContainer width="100%" height={height}>
        <LineChart margin={{ top: 6, right: 18, bottom: 4, left: 0 }}>
          <CartesianGrid stroke={GRID} />
          {numericXAxis(xs)}
          {numericYAxis(ys)}
          <Tooltip formatter={(v) => fmt(v)} labelFormatter={(v) => `${xLabel}: ${fmt(v)}`} />
          <Legend verticalAlign="top" wrapperStyle={{ fontSize: 12, paddingBottom: 4 }} />
          {drawn.map((s, i) => (
            <Line
              key={s.name}
              name={s.name}
              data={s.points}
              dataKey="y"
              type="linear"
              stroke={s.colour ?? SERIES_COLOURS[i % SERIES_COLOURS.length]}
              strokeWidth={s.width}
              strokeDasharray={s.dash}
              dot={dots ? { r: s.width + 1 } : false}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}

/** Grouped bars over categories (histograms: pool vs selected shares; per-class metrics). */
export function GroupedBars({ title, subtitle, xLabel, yLabel, data, bars, testId, height = 260, yDomain, yInteger = false }: {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  data: Record<string, string | number | null>[];
  bars: { key: string; name: string; colour?: string }[];
  testId?: string;
  height?: number;
  yDomain?: [number, number];
  yInteger?: boolean;
}) {
  const values = data.flatMap((d) => bars.map((b) => d[b.key])).filter((v): v is number => typeof v === "number");
  const ys = numericScale(values, yDomain ?? [0, "auto"], yInteger);
  return (
    <ChartFrame title={title} subtitle={subtitle} testId={testId} xLabel={xLabel} yLabel={yLabel}>
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={data} margin={{ top: 6, right: 18, bottom: 4, left: 0 }}>
          <CartesianGrid stroke={GRID} vertical={false} />
          {categoryXAxis()}
          {numericYAxis(ys)}
          <Tooltip formatter={(v) => fmt(v)} />
          <Legend verticalAlign="top" wrapperStyle={{ fontSize: 12, paddingBottom: 4 }} />
          {bars.map((b, i) => (
            <Bar key={b.key} dataKey={b.key} name={b.name} fill={b.colour ?? SERIES_COLOURS[i % SERIES_COLOURS.length]} isAnimationActive={false} />
          ))}
        </BarChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}

/** A confusion matrix as a shaded table (rows: true class, columns: predicted class). */
export function ConfusionMatrix({ title, labels, matrix, testId }: { title: string; labels: string[]; matrix: number[][]; testId?: string }) {
  const max = Math.max(1, ...matrix.flat());
  return (
    <ChartFrame title={title} subtitle="rows: true class, columns: predicted" testId={testId}>
      <table className="confusion">
        <thead>
          <tr>
            <th scope="col">true \ predicted</th>
            {labels.map((l) => <th key={l} scope="col">{l}</th>)}
          </tr>
        </thead>
        <tbody>
          {matrix.map((row, i) => (
            <tr key={labels[i] ?? i}>
              <th scope="row">{labels[i] ?? `class ${i}`}</th>
              {row.map((count, j) => {
                const shade = count / max;
                return (
                  <td key={j} style={{ background: i === j ? `rgba(43,138,62,${0.12 + 0.6 * shade})` : count > 0 ? `rgba(201,42,42,${0.1 + 0.5 * shade})` : undefined, textAlign: "center" }}>
                    {count}
                  </td>
                );
              })}
            </tr>
          ))}
        </tbody>
      </table>
    </ChartFrame>
  );
}

/** A delta with an arrow and the colour of its direction (green = better). */
export function DeltaBadge({ delta, higherIsBetter = true, digits = 3, unit = "" }: { delta: number | null; higherIsBetter?: boolean; digits?: number; unit?: string }) {
  if (delta === null) return <span className="muted">—</span>;
  if (Math.abs(delta) < 10 ** -digits / 2) return <span className="delta same">→ 0{unit}</span>;
  const better = higherIsBetter ? delta > 0 : delta < 0;
  return (
    <span className={`delta ${better ? "better" : "worse"}`} title={better ? "better than the active model" : "worse than the active model"}>
      {delta > 0 ? "▲ +" : "▼ "}
      {Number.isInteger(delta) ? delta : delta.toFixed(digits)}
      {unit}
    </span>
  );
}

/** A progress bar with its percentage as text. */
export function ProgressBar({ percent, label }: { percent: number; label: string }) {
  const value = Math.round(Math.max(0, Math.min(100, percent)));
  return (
    <div className="progress" role="progressbar" aria-valuenow={value} aria-valuemin={0} aria-valuemax={100} aria-label={label}>
      <div className="progress-fill" style={{ width: `${value}%` }} />
      <span className="progress-text">{value}% — {label}</span>
    </div>
  );
}
