// The upstream the course uses: Python's file server, `python3 -m http.server`.
import { spawnSync, type ChildProcess } from "node:child_process";
import { freePorts, waitForPort } from "./ports.ts";
import { startChild } from "./spawn.ts";

export interface PythonUpstream {
  port: number;
  dir: string;
  child: ChildProcess;
  log(): string;
  stop(): Promise<void>;
}

export function pythonAvailable(): boolean {
  return spawnSync("python3", ["--version"], { stdio: "ignore" }).status === 0;
}

/** Serve `dir` with python3 -m http.server on a free port (or `port`), bound to 127.0.0.1. */
export async function startPythonUpstream(dir: string, port?: number): Promise<PythonUpstream> {
  if (!pythonAvailable()) throw new Error("python3 is not installed; the stage 11 tests use python3 -m http.server as their upstream");
  const p = port ?? (await freePorts(1))[0]!;
  const proc = startChild({ command: "python3", args: ["-m", "http.server", String(p), "--bind", "127.0.0.1", "--directory", dir], env: process.env });
  const child = proc.process;
  const log = (): string => proc.output.lines().join("\n");
  const stop = async (): Promise<void> => void (await proc.stop(1000));
  if (!(await waitForPort(p, 10_000))) {
    await stop();
    throw new Error(`python3 -m http.server did not start on port ${p}: ${log().trim()}`);
  }
  return { port: p, dir, child, log, stop };
}
