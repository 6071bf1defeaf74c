/**
 * A progress display for long CLI jobs, on stderr so stdout stays clean for --json: a redrawn bar on a terminal,
 * and a plain line every tenth of the way (at most one per `minIntervalMs`) when stderr is a file or a pipe, so logs
 * and CI output do not fill with carriage returns.
 */
export interface ProgressOptions {
  /** Where to draw; defaults to process.stderr. */
  stream?: NodeJS.WritableStream & { isTTY?: boolean; columns?: number };
  /** Overrides the stream's own TTY detection (tests). */
  tty?: boolean;
  minIntervalMs?: number;
  /** Time source in ms (tests); performance.now by default. */
  now?: () => number;
}

export class Progress {
  private done = 0;
  private readonly t0: number;
  private lastDraw = -Infinity;
  private lastTenth = -1;
  private readonly stream: NonNullable<ProgressOptions['stream']>;
  private readonly tty: boolean;
  private readonly minInterval: number;
  private readonly now: () => number;

  constructor(
    readonly total: number,
    readonly label: string,
    opts: ProgressOptions = {},
  ) {
    this.stream = opts.stream ?? process.stderr;
    this.tty = opts.tty ?? Boolean(this.stream.isTTY);
    this.minInterval = opts.minIntervalMs ?? (this.tty ? 100 : 2000);
    this.now = opts.now ?? (() => performance.now());
    this.t0 = this.now();
  }

  tick(n = 1): void {
    this.done = Math.min(this.total, this.done + n);
    const t = this.now();
    if (this.tty) {
      if (t - this.lastDraw < this.minInterval && this.done < this.total) return;
      this.lastDraw = t;
      this.stream.write(`\r${this.line(t, true)}`);
      if (this.done >= this.total) this.stream.write('\n');
    } else {
      const tenth = Math.floor((10 * this.done) / Math.max(1, this.total));
      if (tenth === this.lastTenth || (t - this.lastDraw < this.minInterval && this.done < this.total)) return;
      this.lastTenth = tenth;
      this.lastDraw = t;
      this.stream.write(`${this.line(t, false)}\n`);
    }
  }

  private line(t: number, bar: boolean): string {
    const s = Math.max(1e-3, (t - this.t0) / 1000);
    const rate = this.done / s;
    const eta = rate > 0 ? (this.total - this.done) / rate : 0;
    const pct = Math.floor((100 * this.done) / Math.max(1, this.total));
    const tail = `${this.done}/${this.total} ${pct}% ${rate.toFixed(1)}/s ${this.done < this.total ? `eta ${Math.ceil(eta)}s` : `${s.toFixed(1)}s`}`;
    if (!bar) return `${this.label}: ${tail}`;
    const width = Math.max(10, Math.min(40, (this.stream.columns ?? 80) - this.label.length - tail.length - 6));
    const full = Math.round((width * this.done) / Math.max(1, this.total));
    return `${this.label} [${'#'.repeat(full)}${'.'.repeat(width - full)}] ${tail}`;
  }
}
