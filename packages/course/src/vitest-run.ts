// Run one package's vitest suite in a child process and read its JSON report.
import { spawnSync } from "node:child_process";
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

export function runVitest(dir: string, env: NodeJS.ProcessEnv, extraArgs: string[] = []): TestRun {
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xps-vitest-")), "report.json");
  const r = spawnSync(process.execPath, [VITEST, "run", "--reporter=json", `--outputFile=${out}`, ...extraArgs], {
    cwd: dir,
    env: { ...env, NO_COLOR: "1", FORCE_COLOR: "0" },
    encoding: "utf8",
    maxBuffer: 64 * 1024 * 1024,
  });
  const output = `${r.stdout ?? ""}${r.stderr ?? ""}`;
  if (!fs.existsSync(out)) return { ok: false, passed: [], failed: [], output, error: `vitest wrote no report (exit ${r.status})` };
  const report = JSON.parse(fs.readFileSync(out, "utf8")) as JsonReport;
  fs.rmSync(path.dirname(out), { recursive: true, force: true });
  const passed: string[] = [];
  const failed: { name: string; message: string }[] = [];
  for (const file of report.testResults) {
    for (const a of file.assertionResults) {
      const name = a.fullName || a.title;
      if (a.status === "passed") passed.push(name);
      else failed.push({ name, message: (a.failureMessages ?? []).join("\n") || a.status });
    }
  }
  return { ok: true, passed, failed, output };
}
