// Start a stage's server as a child process on free ports, the way a learner
// runs it, and watch it from outside: its log, its memory, its CPU, its sockets.
import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { readStageMeta, variantName, type Variant } from "@xps/course/overrides";
import { cpuMs, isAlive, rssBytes, socketCount, tcpSockets, type TcpSocket } from "./proc.ts";
import { freePorts } from "./ports.ts";
import { LineLog } from "@xps/utils/lines";

const REGISTER = fileURLToPath(import.meta.resolve("@xps/course/variant"));
const MAX_LOG_LINES = 4000;

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
  readonly output = new LineLog(MAX_LOG_LINES);
  exitCode: number | null = null;
  exitSignal: string | null = null;

  constructor(child: ChildProcess, stage: string, ports: number[], variant: Variant) {
    this.child = child;
    this.stage = stage;
    this.ports = ports;
    this.variant = variant;
    child.stdout?.on("data", (d: Buffer) => this.output.feed(d));
    child.stderr?.on("data", (d: Buffer) => this.output.feed(d));
    child.on("exit", (code, signal) => {
      this.exitCode = code;
      this.exitSignal = signal;
      this.output.end();
    });
  }

  get pid(): number {
    return this.child.pid ?? -1;
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
    return this.exitCode === null && this.exitSignal === null && isAlive(this.pid);
  }

  /** A line matching `re` (among those still to come, or already logged when `past` is true). */
  waitForLine(re: RegExp, timeoutMs: number, past = false): Promise<string | null> {
    return this.output.waitFor(re, timeoutMs, past);
  }

  /** Ask the server for its counts (SIGUSR2) and wait for the stats line. */
  async stats(timeoutMs = 3000): Promise<ServerStats> {
    const line = this.waitForLine(/ : stats \{/, timeoutMs);
    this.child.kill("SIGUSR2");
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

  /** SIGTERM, then SIGKILL after a second. */
  async stop(): Promise<void> {
    if (this.exitCode !== null || this.exitSignal !== null) return;
    const exited = new Promise<void>((resolve) => this.child.once("exit", () => resolve()));
    this.child.kill("SIGTERM");
    const timer = setTimeout(() => this.child.kill("SIGKILL"), 1000);
    await exited;
    clearTimeout(timer);
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
    const child = spawn(command, [...args, ...portArgs, ...(opts.args ?? [])], {
      cwd: opts.stageDir,
      env: {
        ...process.env,
        XPS_VARIANT: variant,
        XPS_STAGE_DIR: opts.stageDir,
        NO_COLOR: "1",
        FORCE_COLOR: "0",
        ...opts.env,
      },
      stdio: [opts.stdin ? "pipe" : "ignore", "pipe", "pipe"],
    });
    const server = new StageServer(child, meta.name, ports, variant);
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
      child.once("exit", () => {
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
