// Run one package's vitest suite in a child process and read its JSON report.
import { spawn, spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { repoRoot } from "./stages.ts";

export interface TestRun {
  /** vitest ran and wrote a report (whatever the tests did). */
  ok: boolean;
  passed: string[];
  failed: { name: string; message: string }[];
  output: string;
  error?: string;
}

interface JsonReport {
  testResults: {
    assertionResults: { title: string; fullName: string; status: string; failureMessages?: string[] }[];
  }[];
}

const VITEST = path.join(repoRoot, "node_modules", "vitest", "vitest.mjs");

function readReport(out: string, output: string, status: number | null): TestRun {
  if (!fs.existsSync(out)) {
    fs.rmSync(path.dirname(out), { recursive: true, force: true });
    return { ok: false, passed: [], failed: [], output, error: `vitest wrote no report (exit ${status})` };
  }
  const report = JSON.parse(fs.readFileSync(out, "utf8")) as JsonReport;
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  const passed: string[] = [];
  const failed: { name: string; message: string }[] = [];
  for (const file of report.testResults) {
    for (const a of file.assertionResults) {
      const name = a.fullName || a.title;
      if (a.status === "passed") passed.push(name);
      else if (a.status === "skipped" || a.status === "pending" || a.status === "todo") continue;
      else failed.push({ name, message: (a.failureMessages ?? []).join("\n") || a.status });
    }
  }
  return { ok: true, passed, failed, output };
}

function vitestArgs(extraArgs: string[]): { out: string; args: string[] } {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xps-vitest-")), "report.json");
  return { out, args: [VITEST, "run", "--reporter=json", `--outputFile=${out}`, ...extraArgs] };
}

/** Tests skipped by a -t filter are left out of both lists. */
export function runVitest(dir: string, env: NodeJS.ProcessEnv, extraArgs: string[] = []): TestRun {
  const { out, args } = vitestArgs(extraArgs);
  const r = spawnSync(process.execPath, args, { cwd: dir, env: { ...env, NO_COLOR: "1", FORCE_COLOR: "0" }, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return readReport(out, `${r.stdout ?? ""}${r.stderr ?? ""}`, r.status);
}

/** runVitest without blocking, so that several runs can go at once; after `timeoutMs` the run's process group is killed. */
export function runVitestAsync(dir: string, env: NodeJS.ProcessEnv, extraArgs: string[] = [], timeoutMs?: number): Promise<TestRun> {
  const { out, args } = vitestArgs(extraArgs);
  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: dir, env: { ...env, NO_COLOR: "1", FORCE_COLOR: "0" }, stdio: ["ignore", "pipe", "pipe"], detached: timeoutMs !== undefined });
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            try {
              process.kill(-child.pid!, "SIGKILL");
            } catch {
              // already gone
            }
          }, timeoutMs);
    let output = "";
    const keep = (d: Buffer): void => {
      if (output.length < 1_000_000) output += d.toString("utf8");
    };
    child.stdout.on("data", keep);
    child.stderr.on("data", keep);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve(readReport(out, output, code));
    });
  });
}
