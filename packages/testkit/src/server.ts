// Start a stage's server as a child process on free ports, the way a learner
// runs it, and watch it from outside: its log, its memory, its CPU, its sockets.
// The server runs learner code: it gets a clean environment and, when
// grading, the sandbox (sandbox.ts); stopping it ends its whole process tree.
import type { ChildProcess } from "node:child_process";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readStageMeta, variantName, type Variant } from "@xps/course/overrides";
import { cpuMs, isAlive, rssBytes, socketCount, tcpSockets, type TcpSocket } from "./proc.ts";
import { freePorts } from "./ports.ts";
import { available, innerPid, learnerEnv, sandboxFromEnv, sandboxed } from "./sandbox.ts";
import { startChild, type Child } from "./spawn.ts";
import type { LineLog } from "@xps/utils/lines";

export const REGISTER = fileURLToPath(import.meta.resolve("@xps/course/variant"));

export interface ServerStats {
  listeners: number;
  connections: number;
  pipes: number;
  buffered: number;
  maxPipeBuffered: number;
  peakPipeBuffered: number;
  passes: number;
  /** Bytes taken from the kernel but not yet read by a handler. */
  received: number;
  /** Bytes handed to sockets but not yet to the kernel (Node's write buffers). */
  unsent: number;
  /** Replies waiting in a connection's write_buff_list (stages 8 and 9). */
  queued: number;
  rss: number;
}

export interface StartOptions {
  stageDir: string;
  /** Another server script to run in the stage's place (fault fixtures); default: the stage's server.ts. */
  script?: string;
  /** Extra command-line arguments (after --ports). */
  args?: string[];
  env?: Record<string, string | undefined>;
  /** Default: from XPS_VARIANT. */
  variant?: Variant;
  /** How long to wait for "Server listening" lines. */
  startTimeoutMs?: number;
  /**
   * How many ports the program listens on: 4 (the default, passed as
   * --ports A,B,C,D), 1 (--port A: the standalone programs of stages 1 to
   * 5), or 0 (none: a client such as stage 2's, started and not waited for).
   */
  ports?: 0 | 1 | 4;
  /** Give the program a stdin the test writes to (child.stdin); default: none. */
  stdin?: boolean;
}

export class StageServer {
  readonly child: ChildProcess;
  readonly ports: number[];
  readonly stage: string;
  readonly variant: Variant;
  readonly output: LineLog;
  private readonly proc: Child;
  private inner = -1;

  constructor(proc: Child, stage: string, ports: number[], variant: Variant) {
    this.proc = proc;
    this.child = proc.process;
    this.output = proc.output;
    this.stage = stage;
    this.ports = ports;
    this.variant = variant;
  }

  get exitCode(): number | null {
    return this.proc.exitCode;
  }

  get exitSignal(): string | null {
    return this.proc.exitSignal;
  }

  /** The server's own process (below the sandbox's, when there is one). */
  get pid(): number {
    if (this.inner <= 0 || !isAlive(this.inner)) this.inner = innerPid(this.proc.pid);
    return this.inner;
  }

  /** The log so far, colour codes removed. */
  log(): string[] {
    return this.output.lines();
  }

  /** The last `n` log lines, preferring ERROR and WARNING lines when there are many. */
  logTail(n = 8): string[] {
    const lines = this.output.lines();
    const errors = lines.filter((l) => l.startsWith("[ERROR]") || l.startsWith("[WARNING]") || l.startsWith("error:"));
    const picked = errors.length > 0 ? errors : lines;
    const unique = [...new Set(picked)];
    return unique.slice(-n);
  }

  alive(): boolean {
    return !this.proc.ended && isAlive(this.pid);
  }

  /**
   * Wait up to `ms` for the process to end; true when it has. It has ended
   * once its exit code is known and all it printed has been read (the
   * child's 'close', not 'exit': at 'exit' the last lines may still be in
   * the pipe, and the exit code is only recorded at 'close').
   */
  async waitExit(ms: number): Promise<boolean> {
    if (this.proc.ended) return true;
    let timer: NodeJS.Timeout | undefined;
    const ended = await Promise.race([this.proc.exited.then(() => true), new Promise<boolean>((r) => (timer = setTimeout(() => r(false), ms)))]);
    clearTimeout(timer);
    return ended;
  }

  /** A line matching `re` (among those still to come, or already logged when `past` is true). */
  waitForLine(re: RegExp, timeoutMs: number, past = false): Promise<string | null> {
    return this.output.waitFor(re, timeoutMs, past);
  }

  /** Ask the server for its counts (SIGUSR2) and wait for the stats line. */
  async stats(timeoutMs = 3000): Promise<ServerStats> {
    const line = this.waitForLine(/ : stats \{/, timeoutMs);
    try {
      process.kill(this.pid, "SIGUSR2");
    } catch {
      // gone: no line comes
    }
    const got = await line;
    if (got === null) throw new Error(`${this.stage}'s server printed no stats line within ${timeoutMs} ms of SIGUSR2`);
    return JSON.parse(got.slice(got.indexOf("{"))) as ServerStats;
  }

  rssBytes(): number {
    return rssBytes(this.pid);
  }

  cpuMs(): number {
    return cpuMs(this.pid);
  }

  socketCount(): number {
    return socketCount(this.pid);
  }

  tcpSockets(): TcpSocket[] {
    return tcpSockets(this.pid);
  }

  /** SIGTERM to the server, then SIGKILL to its whole tree after a second. */
  async stop(): Promise<void> {
    if (this.proc.ended) return;
    const pid = this.pid;
    if (pid !== this.proc.pid) {
      try {
        process.kill(pid, "SIGTERM");
      } catch {
        // gone already
      }
    }
    await this.proc.stop(1000);
  }
}

/** The command that starts a stage's server, as `pnpm --filter stage-NN start` does. */
export function serverCommand(stageDir: string, script?: string): { command: string; args: string[] } {
  return {
    command: process.execPath,
    args: ["--import", "tsx", "--import", REGISTER, script ?? path.join(stageDir, "server.ts")],
  };
}

/**
 * Start the stage's server on four free ports and wait until it listens on
 * all of them. Throws with the server's own output when it does not start.
 */
export async function startStageServer(opts: StartOptions): Promise<StageServer> {
  // verify's lesson check runs a stage's milestones against the server of
  // the stage before it (XPS_SERVER_STAGE_DIR), which must fail them.
  const serverStage = process.env.XPS_SERVER_STAGE_DIR;
  if (serverStage && opts.script === undefined) opts = { ...opts, stageDir: serverStage };
  const meta = readStageMeta(opts.stageDir);
  const variant = opts.variant ?? variantName(process.env);
  const timeout = opts.startTimeoutMs ?? 30_000;
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const count = opts.ports ?? 4;
    const ports = await freePorts(count);
    const portArgs = count === 0 ? [] : count === 1 ? ["--port", String(ports[0])] : ["--ports", ports.join(",")];
    const { command, args } = serverCommand(opts.stageDir, opts.script);
    const proc = startLearnerProcess(opts.stageDir, {
      command,
      args: [...args, ...portArgs, ...(opts.args ?? [])],
      env: { XPS_VARIANT: variant, XPS_STAGE_DIR: opts.stageDir, NO_COLOR: "1", FORCE_COLOR: "0", ...opts.env },
      stdin: opts.stdin,
    });
    const server = new StageServer(proc, meta.name, ports, variant);
    if (count === 0) return server;
    const listening = new Set<number>();
    const ready = await new Promise<boolean>((resolve) => {
      const timer = setTimeout(() => resolve(false), timeout);
      const check = (line: string): void => {
        const m = /Server listening on (?:http|udp):\/\/[^:]+:(\d+)/.exec(line);
        if (m) listening.add(Number(m[1]));
        if (ports.every((p) => listening.has(p))) {
          clearTimeout(timer);
          resolve(true);
        }
      };
      for (const l of server.log()) check(l);
      server.output.onLine((l) => l !== null && check(l));
      void proc.exited.then(() => {
        clearTimeout(timer);
        resolve(false);
      });
    });
    if (ready) return server;
    await server.stop();
    const output = server.log().slice(-15).join("\n    ");
    lastError = `${meta.name}'s server (${variant} variant) did not start listening on ${ports.join(", ")}` +
      (server.exitCode !== null ? ` (it exited with code ${server.exitCode})` : ` within ${timeout / 1000} s`) +
      `; its output:\n    ${output || "(nothing)"}`;
    // A port taken between choosing it and binding it: try other ports.
    if (!/already in use/.test(output)) break;
  }
  throw new Error(lastError);
}

/**
 * Start a process that runs learner code for the stage in `stageDir`: the
 * clean environment (the test's XPS_ server variables and `env`), the sandbox
 * when grading, its scratch folder removed when it ends. `channel` opens fd 3.
 */
export function startLearnerProcess(
  stageDir: string,
  cmd: { command: string; args: string[]; env: Record<string, string | undefined>; stdin?: boolean; channel?: boolean; timeoutMs?: number },
): Child {
  const cfg = sandboxFromEnv(process.env);
  const env = learnerEnv(process.env, cmd.env);
  const wrapped = sandboxed(cfg, { command: cmd.command, args: cmd.args, env, cwd: stageDir }, { stageDir, read: [os.tmpdir()] });
  // Without namespaces, the process still dies with the test process that started it.
  const guarded = cfg?.isolation === "bubblewrap" || cfg?.isolation === "namespaces" || !available().setpriv ? wrapped : { ...wrapped, command: "setpriv", args: ["--pdeathsig", "KILL", "--", wrapped.command, ...wrapped.args] };
  const child = startChild({ command: guarded.command, args: guarded.args, env: guarded.env, cwd: stageDir, stdin: cmd.stdin, channel: cmd.channel, timeoutMs: cmd.timeoutMs });
  void child.exited.then(() => wrapped.cleanup());
  return child;
}
