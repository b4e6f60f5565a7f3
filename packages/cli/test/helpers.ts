// Shared by the CLI's tests: run `xps` as a learner would, and make scratch
// copies of the course.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "@xps/course/stages";
import { referenceFor } from "../src/commands/diff.ts";
import { listStages, type StageMeta } from "@xps/course/stages";

export { repoRoot };
export const MAIN = path.join(repoRoot, "packages", "cli", "src", "main.ts");

export interface CliResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

/** The environment of a learner's shell: no switches from the surrounding test run. */
export function baseEnv(extra: NodeJS.ProcessEnv = {}): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(process.env)) {
    if (k.startsWith("XPS_") || k.startsWith("VITEST") || k === "NODE_ENV" || k === "INIT_CWD") continue;
    env[k] = v;
  }
  return { ...env, NO_COLOR: "1", FORCE_COLOR: "0", ...extra };
}

export function xps(args: string[], opts: { env?: NodeJS.ProcessEnv; input?: string; timeoutMs?: number } = {}): CliResult {
  const r = spawnSync(process.execPath, ["--import", "tsx", MAIN, ...args], {
    cwd: repoRoot,
    env: baseEnv(opts.env),
    encoding: "utf8",
    input: opts.input ?? "",
    timeout: opts.timeoutMs ?? 300_000,
    maxBuffer: 64 * 1024 * 1024,
  });
  return { code: r.status, stdout: r.stdout ?? "", stderr: r.stderr ?? "" };
}

/** Start `xps` in the background; `output()` is what it printed so far. */
export function xpsBackground(args: string[], opts: { env?: NodeJS.ProcessEnv } = {}) {
  const child = spawn(process.execPath, ["--import", "tsx", MAIN, ...args], { cwd: repoRoot, env: baseEnv(opts.env), stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  child.stdout.on("data", (d) => (out += d));
  child.stderr.on("data", (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.once("exit", (c) => r(c)));
  return {
    child,
    output: () => out,
    exited,
    async waitFor(re: RegExp, ms: number): Promise<boolean> {
      const deadline = Date.now() + ms;
      while (Date.now() < deadline) {
        if (re.test(out)) return true;
        if (child.exitCode !== null) return re.test(out);
        await new Promise((r) => setTimeout(r, 100));
      }
      return false;
    },
    async stop(): Promise<number | null> {
      if (child.exitCode === null) child.kill("SIGINT");
      const t = setTimeout(() => child.kill("SIGKILL"), 10_000);
      const c = await exited;
      clearTimeout(t);
      return c;
    },
  };
}

export function tmpDir(prefix: string): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), `xps-cli-test-${prefix}-`));
}

const SKIP = new Set(["node_modules", ".xps", "test-artifacts", ".turbo", ".git"]);

function copy(from: string, to: string): void {
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    if (e.isDirectory()) copy(path.join(from, e.name), path.join(to, e.name));
    else if (e.isFile()) fs.copyFileSync(path.join(from, e.name), path.join(to, e.name));
  }
}

/**
 * A scratch copy of the course's sources (no node_modules: enough for the
 * commands that run no tests), with every stage's src/ its pristine
 * skeleton. Point XPS_ROOT at it.
 */
export function scratchCourse(): string {
  const dir = tmpDir("course");
  for (const f of ["package.json", "pnpm-workspace.yaml"]) fs.copyFileSync(path.join(repoRoot, f), path.join(dir, f));
  copy(path.join(repoRoot, "packages"), path.join(dir, "packages"));
  copy(path.join(repoRoot, "stages"), path.join(dir, "stages"));
  copy(path.join(repoRoot, "docs"), path.join(dir, "docs"));
  return dir;
}

export function stage(name: string, root = repoRoot): StageMeta {
  const s = listStages(root).find((x) => x.name === name);
  if (!s) throw new Error(`no ${name}`);
  return s;
}

/** Write a stage's solved learner files (the reference, as the learner's files) into `dir`. */
export function writeSolved(s: StageMeta, dir: string, root = repoRoot): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const ref of s.teaches) fs.writeFileSync(path.join(dir, path.basename(ref)), referenceFor(s, ref, root));
}

/** A results file as the xps reporter writes it. */
export function writeResults(resultsDir: string, s: StageMeta, statuses: Record<string, "passed" | "failed">, at = new Date()): void {
  fs.mkdirSync(resultsDir, { recursive: true });
  const milestones = Object.fromEntries(
    Object.entries(statuses).map(([id, status]) => [id, { status, tests: 1, failed: status === "failed" ? 1 : 0, at: at.toISOString(), message: status === "failed" ? "it failed" : "" }]),
  );
  fs.writeFileSync(path.join(resultsDir, `${s.name}.json`), JSON.stringify({ stage: s.name, variant: "learner", updatedAt: at.toISOString(), milestones, tests: [] }));
}
