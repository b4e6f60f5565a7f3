// A child process's output as lines: kept (up to a cap) for failure reports,
// and waited on ("Server listening on ...", a stats line).
const ANSI = /\x1b\[[0-9;]*m/g;

export class LineLog {
  private kept: string[] = [];
  private partial = "";
  private listeners = new Set<(line: string | null) => void>();
  ended = false;

  /**
   * `max`: how many lines to keep. `keep(line)` may return false for a line
   * that listeners should see but the log should not keep.
   */
  constructor(
    private readonly max = 4000,
    private readonly keep: (line: string) => boolean = () => true,
  ) {}

  /** Bytes from stdout or stderr; colour codes are removed. */
  feed(data: Buffer | string): void {
    const parts = (this.partial + data.toString()).split("\n");
    this.partial = parts.pop() ?? "";
    for (const raw of parts) this.add(raw.replace(ANSI, ""));
  }

  /** The process has exited: flush the last partial line and wake every waiter. */
  end(): void {
    if (this.partial) this.add(this.partial.replace(ANSI, ""));
    this.partial = "";
    this.ended = true;
    for (const l of [...this.listeners]) l(null);
  }

  private add(line: string): void {
    if (this.keep(line)) {
      this.kept.push(line);
      if (this.kept.length > this.max) this.kept.splice(0, this.kept.length - this.max);
    }
    for (const l of [...this.listeners]) l(line);
  }

  lines(): string[] {
    return [...this.kept];
  }

  /** Call `fn` for every line to come (null once the process has exited); returns the unsubscribe. */
  onLine(fn: (line: string | null) => void): () => void {
    this.listeners.add(fn);
    return () => this.listeners.delete(fn);
  }

  /** A line matching `re`: among those to come, or one already kept when `past`. Null on timeout or exit. */
  waitFor(re: RegExp, timeoutMs: number, past = false): Promise<string | null> {
    if (past) {
      const found = this.kept.find((l) => re.test(l));
      if (found !== undefined) return Promise.resolve(found);
    }
    if (this.ended) return Promise.resolve(null);
    return new Promise((resolve) => {
      const done = (v: string | null): void => {
        clearTimeout(timer);
        off();
        resolve(v);
      };
      const off = this.onLine((line) => {
        if (line === null) done(null);
        else if (re.test(line)) done(line);
      });
      const timer = setTimeout(() => done(null), timeoutMs);
    });
  }
}
