/**
 * A per-epoch progress bar: one line redrawn with `\r` on a terminal, plain lines (every 20% of
 * the epoch) when the output is a pipe or a CI log.
 */

/** Where the bar is written (process.stdout, or a fake in tests). */
export interface ProgressStream {
  write(s: string): unknown;
  isTTY?: boolean;
  columns?: number;
}

/** Seconds as `1.2s`, `42s`, `3m05s`. */
export function formatDuration(s: number): string {
  if (!Number.isFinite(s) || s < 0) return "?";
  if (s < 10) return `${s.toFixed(1)}s`;
  if (s < 60) return `${Math.round(s)}s`;
  const m = Math.floor(s / 60);
  const r = Math.round(s - 60 * m);
  return r === 60 ? `${m + 1}m00s` : `${m}m${String(r).padStart(2, "0")}s`;
}

/**
 * One epoch's progress bar.
 *
 * @example
 * const bar = new ProgressBar(process.stdout, "epoch 1/10", 125);
 * for (...) bar.update(i + 1, runningLoss, samplesSeen);
 * bar.done();
 */
export class ProgressBar {
  private readonly start = performance.now();
  private lastDraw = 0;
  private lastPlain = 0;
  private lastLine = "";

  constructor(
    private readonly out: ProgressStream,
    private readonly label: string,
    private readonly total: number,
    private readonly plainEvery = Math.max(1, Math.ceil(total / 5)),
  ) {}

  /** Seconds since the epoch started. */
  get elapsed(): number {
    return (performance.now() - this.start) / 1000;
  }

  private line(i: number, loss: number, samples: number): string {
    const t = this.elapsed;
    const rate = t > 0 ? samples / t : 0;
    const eta = i > 0 ? (t / i) * (this.total - i) : Number.NaN;
    const width = 24;
    const filled = Math.round((width * i) / this.total);
    const bar = "█".repeat(filled) + "░".repeat(width - filled);
    const n = String(this.total);
    return `${this.label} ${bar} ${String(i).padStart(n.length)}/${n}  loss ${loss.toFixed(4)}  ${rate.toFixed(0)} samples/s  ETA ${formatDuration(eta)}`;
  }

  /** Reports batch `i` of the epoch (1-based) with the running loss and the samples seen so far. */
  update(i: number, loss: number, samples: number): void {
    if (this.out.isTTY) {
      const now = performance.now();
      if (i < this.total && now - this.lastDraw < 100) return; // ~10 redraws a second
      this.lastDraw = now;
      let s = this.line(i, loss, samples);
      const cols = this.out.columns ?? 0;
      if (cols > 10 && s.length > cols - 1) s = s.slice(0, cols - 1);
      this.out.write(`\r${s}\x1b[K`);
      this.lastLine = s;
    } else if (i - this.lastPlain >= this.plainEvery || i === this.total) {
      this.lastPlain = i;
      this.out.write(`${this.line(i, loss, samples)}\n`);
    }
  }

  /** Ends the bar's line (on a terminal, the last drawn state stays visible). */
  done(): void {
    if (this.out.isTTY && this.lastLine !== "") this.out.write("\n");
  }
}
