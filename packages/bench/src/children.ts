// Every process the bench starts, and the guarantee that none outlives it.
//
// Long-running children (the upstream, the proxies, nginx) are started under a
// tiny sh guard that holds a pipe from the bench on its stdin. The guard starts
// the real program in the background, reports its pid, and blocks reading that
// pipe; when the bench ends in any way, even by SIGKILL, the pipe closes and the
// guard kills the program. On an ordinary exit, an error or Ctrl+C the bench
// also kills every child itself (see installCleanup).
import { spawn, type ChildProcess } from "node:child_process";
import { LineLog } from "@xps/utils/lines";
import { isAlive } from "./proc.ts";

const MAX_LINES = 2000;

const live = new Set<Child>();
const shortLived = new Set<ChildProcess>();

// $1 is the program, the rest its arguments. The guard's stdin is the bench's
// pipe; the program gets /dev/null so that only the guard sees the pipe close.
// With BENCH_GUARD_NOFILE the guard first asks for that many open files; the
// hard limit rises only with privilege, so a refusal leaves the inherited limit.
const GUARD = [
  'if [ -n "$BENCH_GUARD_NOFILE" ]; then ulimit -n "$BENCH_GUARD_NOFILE" 2>/dev/null || true; fi',
  '"$@" </dev/null &',
  "c=$!",
  'echo "__bench_child_pid $c"',
  "read _",
  'kill -KILL "$c" 2>/dev/null',
  'if [ -n "$BENCH_GUARD_RMDIR" ]; then sleep 0.2; rm -rf -- "$BENCH_GUARD_RMDIR"; fi',
].join("\n");

export interface SpawnOptions {
  cwd?: string;
  env?: NodeJS.ProcessEnv;
  /** A folder the guard removes once the program is gone (nginx's temp folder). */
  removeDir?: string;
  /** Open files to ask for (ulimit -n) before the program starts; see GUARD. */
  nofile?: number;
}

/** A long-running child: its pid (the program's, not the guard's), its output lines, and a stop. */
export class Child {
  readonly name: string;
  readonly guard: ChildProcess;
  pid = -1;
  /** The program's output (the guard's pid line is taken out of it). */
  readonly output = new LineLog(MAX_LINES, (line) => {
    const m = /^__bench_child_pid (\d+)$/.exec(line);
    if (m === null || this.pid !== -1) return true;
    this.pid = Number(m[1]);
    return false;
  });
  exited = false;

  constructor(name: string, guard: ChildProcess) {
    this.name = name;
    this.guard = guard;
    guard.stdout?.on("data", (d: Buffer) => this.output.feed(d));
    guard.stderr?.on("data", (d: Buffer) => this.output.feed(d));
    guard.on("exit", () => {
      this.exited = true;
      live.delete(this);
      this.output.end();
    });
  }

  log(): string[] {
    return this.output.lines();
  }

  alive(): boolean {
    return !this.exited && this.pid > 0 && isAlive(this.pid);
  }

  /** The next line matching `re` (or one already printed, when `past`), null on timeout or exit. */
  waitForLine(re: RegExp, timeoutMs: number, past = true): Promise<string | null> {
    return this.output.waitFor(re, timeoutMs, past);
  }

  signal(sig: NodeJS.Signals): void {
    if (this.pid > 0 && isAlive(this.pid)) {
      try {
        process.kill(this.pid, sig);
      } catch {
        // already gone
      }
    }
  }

  /** SIGTERM, SIGKILL after `graceMs`, then release the guard. */
  async stop(graceMs = 2000): Promise<void> {
    if (this.pid > 0) {
      this.signal("SIGTERM");
      const deadline = Date.now() + graceMs;
      while (isAlive(this.pid) && Date.now() < deadline) await sleep(20);
      this.signal("SIGKILL");
      while (isAlive(this.pid) && Date.now() < deadline + 1000) await sleep(20);
    }
    const exited = this.exited ? Promise.resolve() : new Promise<void>((r) => this.guard.once("exit", () => r()));
    this.guard.stdin?.end();
    const timer = setTimeout(() => this.guard.kill("SIGKILL"), 1000);
    await exited;
    clearTimeout(timer);
  }

  killNow(): void {
    this.signal("SIGKILL");
    try {
      this.guard.kill("SIGKILL");
    } catch {
      // gone
    }
  }
}

/** Start `command args` under the guard; resolves once its pid is known. */
export async function spawnGuarded(name: string, command: string, args: string[], opts: SpawnOptions = {}): Promise<Child> {
  const guard = spawn("sh", ["-c", GUARD, "bench-guard", command, ...args], {
    cwd: opts.cwd,
    env: { ...(opts.env ?? process.env), BENCH_GUARD_RMDIR: opts.removeDir ?? "", BENCH_GUARD_NOFILE: opts.nofile?.toString() ?? "" },
    stdio: ["pipe", "pipe", "pipe"],
  });
  const child = new Child(name, guard);
  live.add(child);
  guard.on("error", () => undefined);
  guard.stdin?.on("error", () => undefined);
  const started = await new Promise<boolean>((resolve) => {
    const timer = setTimeout(() => resolve(false), 5000);
    const check = (): void => {
      if (child.pid > 0) {
        clearTimeout(timer);
        resolve(true);
      } else if (child.exited) {
        clearTimeout(timer);
        resolve(false);
      } else {
        setTimeout(check, 5);
      }
    };
    check();
  });
  if (!started) {
    child.killNow();
    throw new Error(`${name}: could not start ${command}`);
  }
  return child;
}

export interface RunResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
  timedOut: boolean;
}

/** Run a short-lived program (a load generator) to completion, killing it after `timeoutMs`. */
export function runToEnd(command: string, args: string[], timeoutMs: number, opts: SpawnOptions = {}): Promise<RunResult> {
  return new Promise((resolve) => {
    const child = spawn(command, args, { cwd: opts.cwd, env: opts.env ?? process.env, stdio: ["ignore", "pipe", "pipe"] });
    shortLived.add(child);
    let stdout = "";
    let stderr = "";
    let timedOut = false;
    child.stdout.on("data", (d: Buffer) => (stdout += d.toString("utf8")));
    child.stderr.on("data", (d: Buffer) => (stderr += d.toString("utf8")));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill("SIGKILL");
    }, timeoutMs);
    child.on("error", (err) => {
      stderr += String(err);
    });
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      shortLived.delete(child);
      resolve({ code, signal, stdout, stderr, timedOut });
    });
  });
}

const cleanups = new Set<() => void>();

/** Run `fn` (synchronous) when the bench ends, however it ends, unless it was released first. */
export function atExit(fn: () => void): () => void {
  cleanups.add(fn);
  return () => {
    if (cleanups.delete(fn)) fn();
  };
}

/** Kill every child now and run the exit cleanups (synchronous: safe in an 'exit' handler). */
export function killAllChildren(): void {
  for (const c of [...live]) c.killNow();
  for (const c of [...shortLived]) {
    try {
      c.kill("SIGKILL");
    } catch {
      // gone
    }
  }
  for (const fn of [...cleanups]) {
    cleanups.delete(fn);
    try {
      fn();
    } catch {
      // best effort
    }
  }
}

/** Stop every long-running child politely (then by force). */
export async function stopAllChildren(): Promise<void> {
  await Promise.all([...live].map((c) => c.stop()));
}

let installed = false;

/** Make sure no child outlives the bench: on exit, on Ctrl+C / SIGTERM / SIGHUP, and on a crash. */
export function installCleanup(onSignal?: (sig: string) => void): void {
  if (installed) return;
  installed = true;
  process.on("exit", killAllChildren);
  for (const sig of ["SIGINT", "SIGTERM", "SIGHUP"] as const) {
    process.on(sig, () => {
      onSignal?.(sig);
      killAllChildren();
      process.exit(sig === "SIGINT" ? 130 : 143);
    });
  }
  process.on("uncaughtException", (err) => {
    process.stderr.write(`bench: ${err.stack ?? String(err)}\n`);
    killAllChildren();
    process.exit(1);
  });
  process.on("unhandledRejection", (err) => {
    process.stderr.write(`bench: ${(err as Error)?.stack ?? String(err)}\n`);
    killAllChildren();
    process.exit(1);
  });
}

export function sleep(ms: number): Promise<void> {
  return new Promise((r) => setTimeout(r, ms));
}
