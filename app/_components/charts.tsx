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

export function ChartFrame({ title, subtitle, children, testId }: { title: string; subtitle?: string; children: ReactNode; testId?: string }) {
  return (
    <figure className="chart" aria-label={title} data-testid={testId}>
      <figcaption>
        <strong>{title}</strong>
        {subtitle && <span className="muted"> — {subtitle}</span>}
      </figcaption>
      {children}
    </figure>
  );
}

const fmt = (v: unknown) => (typeof v === "number" ? (Math.abs(v) >= 100 || Number.isInteger(v) ? String(v) : v.toFixed(3)) : String(v));

export interface XYSeries {
  name: string;
  points: { x: number; y: number }[];
  dashed?: boolean;
  colour?: string;
}

/** Several x/y lines on numeric axes (PR curves, reliability diagrams, learning curves). */
export function XYChart({ title, subtitle, xLabel, yLabel, series, xDomain, yDomain, testId, height = 280, dots = false }: {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  series: XYSeries[];
  xDomain?: [number | "auto", number | "auto"];
  yDomain?: [number | "auto", number | "auto"];
  testId?: string;
  height?: number;
  dots?: boolean;
}) {
  return (
    <ChartFrame title={title} subtitle={subtitle} testId={testId}>
      <ResponsiveContainer width="100%" height={height}>
        <LineChart margin={{ top: 8, right: 16, bottom: 28, left: 8 }}>
          <CartesianGrid stroke={GRID} />
          <XAxis type="number" dataKey="x" domain={xDomain ?? ["auto", "auto"]} tickFormatter={fmt} label={{ value: xLabel, position: "insideBottom", offset: -14 }} allowDuplicatedCategory={false} />
          <YAxis type="number" dataKey="y" domain={yDomain ?? ["auto", "auto"]} tickFormatter={fmt} label={{ value: yLabel, angle: -90, position: "insideLeft", style: { textAnchor: "middle" } }} />
          <Tooltip formatter={(v) => fmt(v)} labelFormatter={(v) => `${xLabel}: ${fmt(v)}`} />
          <Legend verticalAlign="top" height={28} />
          {series.map((s, i) => (
            <Line
              key={s.name}
              name={s.name}
              data={s.points}
              dataKey="y"
              type="linear"
              stroke={s.colour ?? SERIES_COLOURS[i % SERIES_COLOURS.length]}
              strokeDasharray={s.dashed ? "5 4" : undefined}
              dot={dots}
              isAnimationActive={false}
            />
          ))}
        </LineChart>
      </ResponsiveContainer>
    </ChartFrame>
  );
}

/** Grouped bars over categories (histograms: pool vs selected shares; per-class metrics). */
export function GroupedBars({ title, subtitle, xLabel, yLabel, data, bars, testId, height = 260, yDomain }: {
  title: string;
  subtitle?: string;
  xLabel: string;
  yLabel: string;
  data: Record<string, string | number | null>[];
  bars: { key: string; name: string; colour?: string }[];
  testId?: string;
  height?: number;
  yDomain?: [number, number];
}) {
  return (
    <ChartFrame title={title} subtitle={subtitle} testId={testId}>
      <ResponsiveContainer width="100%" height={height}>
        <BarChart data={data} margin={{ top: 8, right: 16, bottom: 28, left: 8 }}>
          <CartesianGrid stroke={GRID} vertical={false} />
          <XAxis dataKey="category" label={{ value: xLabel, position: "insideBottom", offset: -14 }} interval={0} tick={{ fontSize: 11 }} />
          <YAxis tickFormatter={fmt} domain={yDomain} label={{ value: yLabel, angle: -90, position: "insideLeft", style: { textAnchor: "middle" } }} />
          <Tooltip formatter={(v) => fmt(v)} />
          <Legend verticalAlign="top" height={28} />
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
