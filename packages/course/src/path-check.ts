// The course must work from any folder a learner clones it into, including
// one whose path a file URL has to percent-encode ("My Course é"): tools
// that compared import.meta.url with argv, or read a URL's pathname as a
// path, silently did nothing or threw there. verify makes such a copy of the
// working tree, installs it from the local store, and runs the path-sensitive
// entry points: the generator's main guard, the xps command, a stage's tests
// through the variant switch, and two scripts' main guards.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";

export const AWKWARD_FOLDER = "My Course é";

interface Step {
  what: string;
  cmd: string;
  args: string[];
  env?: Record<string, string>;
  /** Exit code wanted (default 0) and a line the output must contain. */
  exit?: number;
  says?: string;
}

const STEPS: Step[] = [
  { what: "pnpm gen --check", cmd: "pnpm", args: ["gen", "--check"], says: "match the reference" },
  { what: "pnpm xps status", cmd: "pnpm", args: ["xps", "status"], says: "stage-10" },
  {
    what: "the stage 10 solution's M1 through pnpm test --filter",
    cmd: "pnpm",
    args: ["test", "--filter", "stage-10", "--", "-t", "^M1 "],
    env: { XPS_VARIANT: "solution", XPS_RESULTS: "off" },
    says: "1 passed",
  },
  { what: "the flood script's main guard", cmd: "pnpm", args: ["--filter", "stage-10", "flood", "--", "--help"], says: "send without ever reading" },
  {
    what: "the fault fixture's main guard",
    cmd: process.execPath,
    args: ["--import", "tsx", "packages/faults/fixtures/server.ts"],
    env: { XPS_FAULT_FIXTURE: "no-such-fixture" },
    exit: 2,
    says: "XPS_FAULT_FIXTURE must be one of",
  },
];

/** The files a clone of this working tree would hold (tracked, plus new files not ignored). */
function treeFiles(root: string): string[] {
  const r = spawnSync("git", ["ls-files", "-z", "--cached", "--others", "--exclude-standard"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) throw new Error(`git ls-files failed: ${r.stderr}`);
  return r.stdout.split("\0").filter((f) => f !== "" && fs.existsSync(path.join(root, f)));
}

/** Runs the steps in a copy under AWKWARD_FOLDER; returns the failures (empty when all is well). */
export function checkAwkwardPath(root: string, env: NodeJS.ProcessEnv): string[] {
  const base = fs.mkdtempSync(path.join(os.tmpdir(), "xps-paths-"));
  const dir = path.join(base, AWKWARD_FOLDER);
  try {
    for (const f of treeFiles(root)) {
      fs.mkdirSync(path.dirname(path.join(dir, f)), { recursive: true });
      fs.copyFileSync(path.join(root, f), path.join(dir, f));
    }
    const run = (cmd: string, args: string[], extra: Record<string, string> = {}) =>
      spawnSync(cmd, args, { cwd: dir, env: { ...env, NO_COLOR: "1", ...extra }, encoding: "utf8", timeout: 300_000, maxBuffer: 64 * 1024 * 1024 });
    let inst = run("pnpm", ["install", "--frozen-lockfile", "--offline"]);
    if (inst.status !== 0) inst = run("pnpm", ["install", "--frozen-lockfile"]);
    if (inst.status !== 0) return [`pnpm install in ${dir} failed:`, ...`${inst.stdout}${inst.stderr}`.trim().split("\n").slice(-8)];
    const failures: string[] = [];
    for (const s of STEPS) {
      const r = run(s.cmd, s.args, s.env);
      const out = `${r.stdout ?? ""}${r.stderr ?? ""}`;
      if (r.status !== (s.exit ?? 0) || (s.says !== undefined && !out.includes(s.says))) {
        failures.push(`${s.what} (in "${dir}") exited ${r.status}${s.says ? ` without saying "${s.says}"` : ""}:`, ...out.trim().split("\n").slice(-6).map((l) => `  ${l}`));
      }
    }
    return failures;
  } finally {
    fs.rmSync(base, { recursive: true, force: true });
  }
}
