// The one way the course starts a child process and watches it (tinyexec
// does the spawning): its output as lines, its exit, a time limit, and a stop
// that ends the whole process tree, not just the first process. Servers,
// in-process probes, the python upstream and grading all use it.
import type { ChildProcess } from "node:child_process";
import { x } from "tinyexec";
import { LineLog } from "@xps/utils/lines";

export interface ChildOptions {
  command: string;
  args: string[];
  cwd?: string;
  /** The whole environment of the child (nothing is inherited unless `inheritEnv`). */
  env: Record<string, string | undefined>;
  inheritEnv?: boolean;
  /** Give the child a stdin the caller writes to; default: none. */
  stdin?: boolean;
  /** Open a fourth descriptor (fd 3) as a pipe the child writes to: `child.channel`. */
  channel?: boolean;
  /** Lines of output kept for reports (default 4000). */
  maxLines?: number;
  /** Kill the tree after this long (SIGKILL); the exit then says `timedOut`. */
  timeoutMs?: number;
}

export interface ChildExit {
  code: number | null;
  signal: string | null;
  timedOut: boolean;
}

export class Child {
  readonly process: ChildProcess;
  readonly output: LineLog;
  readonly exited: Promise<ChildExit>;
  exitCode: number | null = null;
  exitSignal: string | null = null;
  timedOut = false;
  private timer: NodeJS.Timeout | null = null;
  private channelChunks: Buffer[] = [];

  constructor(opts: ChildOptions) {
    this.output = new LineLog(opts.maxLines ?? 4000);
    const stdio: ("pipe" | "ignore")[] = [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"];
    if (opts.channel) stdio.push("pipe");
    const proc = x(opts.command, opts.args, {
      nodeOptions: { cwd: opts.cwd, env: opts.env, stdio, detached: true },
      inheritEnv: opts.inheritEnv ?? false,
      nodePath: false,
      throwOnError: false,
    });
    if (!proc.process) throw new Error(`could not start ${opts.command}`);
    this.process = proc.process;
    this.process.stdout?.on("data", (d: Buffer) => this.output.feed(d));
    this.process.stderr?.on("data", (d: Buffer) => this.output.feed(d));
    const fd3 = this.process.stdio[3];
    if (fd3 && "on" in fd3) fd3.on("data", (d: Buffer) => this.channelChunks.push(d));
    this.exited = new Promise((resolve) => {
      this.process.once("close", (code, signal) => {
        this.exitCode = code;
        this.exitSignal = signal;
        if (this.timer) clearTimeout(this.timer);
        this.output.end();
        // Whatever the first process left behind in its group goes too.
        this.killTree("SIGKILL");
        resolve({ code, signal, timedOut: this.timedOut });
      });
      this.process.once("error", (err) => {
        this.output.feed(`error: ${err.message}\n`);
      });
    });
    if (opts.timeoutMs) {
      this.timer = setTimeout(() => {
        this.timedOut = true;
        this.killTree("SIGKILL");
      }, opts.timeoutMs);
    }
  }

  get pid(): number {
    return this.process.pid ?? -1;
  }

  get ended(): boolean {
    return this.exitCode !== null || this.exitSignal !== null;
  }

  /** What the child wrote on fd 3 (with `channel`). */
  channel(): string {
    return Buffer.concat(this.channelChunks).toString("utf8");
  }

  /** A signal to the child's whole process group (it leads one of its own). */
  killTree(signal: NodeJS.Signals): void {
    if (this.pid <= 0) return;
    try {
      process.kill(-this.pid, signal);
    } catch {
      // the group is gone
    }
  }

  /** SIGTERM to the first process, then SIGKILL to the whole tree after `graceMs`. */
  async stop(graceMs = 1000): Promise<ChildExit> {
    if (!this.ended) {
      try {
        this.process.kill("SIGTERM");
      } catch {
        // gone already
      }
      const timer = setTimeout(() => this.killTree("SIGKILL"), graceMs);
      await this.exited;
      clearTimeout(timer);
    }
    return this.exited;
  }
}

/** Start a child process (see ChildOptions). */
export function startChild(opts: ChildOptions): Child {
  return new Child(opts);
}

/** Run a child to its end; resolves with its exit and its output lines. */
export async function runChild(opts: ChildOptions): Promise<ChildExit & { lines: string[]; channel: string }> {
  const child = startChild(opts);
  const exit = await child.exited;
  return { ...exit, lines: child.output.lines(), channel: child.channel() };
}
