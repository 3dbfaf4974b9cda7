/**
 * A progress bar for long command-line runs, written to stderr so stdout stays a clean table.
 * On a terminal it redraws one line; when stderr is a file or CI log it prints a plain line
 * now and then instead (a log full of carriage returns is unreadable).
 */

export interface ProgressStream {
  write(chunk: string): boolean;
  isTTY?: boolean;
  columns?: number;
}

export interface ProgressOptions {
  /** What is being counted, e.g. "rounds". */
  unit?: string;
  /** Minimum milliseconds between redraws on a terminal (default 100). */
  ttyIntervalMs?: number;
  /** Print a plain line at least every this many ms when not a terminal (default 15,000)… */
  logIntervalMs?: number;
  /** …and whenever another this-many percent is done (default 10). */
  logEveryPercent?: number;
  /** Milliseconds clock (tests pass a fake one). */
  now?: () => number;
}

export class ProgressBar {
  private readonly start: number;
  private lastDraw = -Infinity;
  private lastBucket = -1;
  private lastLine = "";
  private readonly now: () => number;

  constructor(
    private readonly stream: ProgressStream,
    private readonly options: ProgressOptions = {},
  ) {
    this.now = options.now ?? (() => performance.now());
    this.start = this.now();
  }

  update(done: number, total: number, label: string): void {
    const t = this.now();
    const percent = total > 0 ? (100 * done) / total : 100;
    const elapsed = t - this.start;
    const eta = done > 0 && done < total ? (elapsed / done) * (total - done) : NaN;
    const unit = this.options.unit ?? "steps";
    const counts = `${done}/${total} ${unit}`;
    const times = `${formatDuration(elapsed)} elapsed${Number.isFinite(eta) ? `, ~${formatDuration(eta)} left` : ""}`;
    if (this.stream.isTTY) {
      if (t - this.lastDraw < (this.options.ttyIntervalMs ?? 100) && done < total) return;
      this.lastDraw = t;
      const width = this.stream.columns ?? 100;
      const barWidth = Math.max(10, Math.min(30, width - 70));
      const filled = Math.round((barWidth * percent) / 100);
      const bar = `[${"#".repeat(filled)}${"-".repeat(barWidth - filled)}]`;
      let line = `${bar} ${percent.toFixed(0).padStart(3)}% ${counts} · ${times} · ${label}`;
      if (line.length > width - 1) line = line.slice(0, width - 2) + "…";
      // \x1b[2K clears the old line so a shorter label leaves no debris.
      this.stream.write(`\r\x1b[2K${line}`);
      this.lastLine = line;
      return;
    }
    // Log the first update (so a slow first step still shows the run started), every time
    // another `step` percent bucket is entered, on a time interval, and at the end.
    const step = this.options.logEveryPercent ?? 10;
    const bucket = Math.floor(percent / step + 1e-9);
    const due = this.lastBucket < 0 || bucket > this.lastBucket || t - this.lastDraw >= (this.options.logIntervalMs ?? 15_000) || done >= total;
    if (!due || (done >= total && this.lastLine.startsWith(`${counts} `))) return;
    this.lastDraw = t;
    this.lastBucket = bucket;
    this.lastLine = `${counts} (${percent.toFixed(0)}%) · ${times} · ${label}`;
    this.stream.write(`${this.lastLine}\n`);
  }

  /** End the bar: on a terminal, move past the redrawn line. */
  finish(message?: string): void {
    if (this.stream.isTTY && this.lastLine !== "") this.stream.write("\n");
    if (message) this.stream.write(`${message}\n`);
  }
}

export function formatDuration(ms: number): string {
  if (!Number.isFinite(ms)) return "?";
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m}m${String(s % 60).padStart(2, "0")}s`;
  return `${Math.floor(m / 60)}h${String(m % 60).padStart(2, "0")}m`;
}
