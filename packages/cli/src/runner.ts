// Run one stage's vitest suite, as `pnpm test --filter stage-NN` does (the
// same vitest, the same config, in the stage's folder), with the xps reporter
// alone: it streams an event per test on stdout, so the command can show
// progress and knows what finished before a hang, and writes the whole run to
// a report file.
//
// The run is a process group of its own: a time limit kills all of it (vitest,
// its workers, the servers the tests started), and so does the end of a run,
// so a submission's stray server never outlives its grading.
import { spawn } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { EVENT_PREFIX, milestoneOf, type ReporterEvent, type RunReport, type TestRecord } from "@xps/testkit/results";
import { repoRoot, type StageMeta } from "./context.ts";

const REPORTER = fileURLToPath(import.meta.resolve("@xps/testkit/results"));

export type Variant = "learner" | "solution";

export interface RunOptions {
  stage: StageMeta;
  variant: Variant;
  /** Folder of learner files (XPS_LEARNER_DIR); default: XPS_LEARNER_DIR as set, else the stage's src/. */
  learnerDir?: string;
  /** Only these milestones ("m3"): vitest's -t filter. */
  milestones?: string[];
  /** Test files to run (paths relative to the stage); default: all. */
  files?: string[];
  /** Extra test globs, relative to the stage (XPS_EXTRA_TESTS). */
  extraTests?: string[];
  /** Hidden milestones (XPS_HIDDEN_MILESTONES). */
  hidden?: { id: string; title: string; points: number }[];
  /** Record the run as the learner's status (default: true; grading turns it off). */
  record?: boolean;
  /** One time limit per test (vitest --testTimeout and XPS_MILESTONE_TIMEOUT_MS). */
  testTimeoutMs?: number;
  /** The whole run's time limit; at the limit the process group is killed. */
  runTimeoutMs?: number;
  onEvent?: (e: ReporterEvent) => void;
  env?: NodeJS.ProcessEnv;
  root?: string;
}

export interface StageRun {
  stage: StageMeta;
  variant: Variant;
  /** Every test vitest collected or ran, with its last known state. */
  tests: TestRecord[];
  /** Test files that failed to load, with the error. */
  fileErrors: { file: string; message: string }[];
  unhandledErrors: string[];
  /** vitest finished and wrote its report. */
  finished: boolean;
  /** The run hit its time limit and was killed. */
  timedOut: boolean;
  /** Tests that were running when a time limit killed the run (when vitest got to say so). */
  hung: string[];
  /** Test files that had started and not finished when a time limit killed the run. */
  hungFiles: string[];
  exitCode: number | null;
  /** vitest's own output (not the events), for when it did not run at all. */
  output: string;
  durationMs: number;
}

/** The child's environment: ours, minus what a surrounding vitest (the CLI's own tests) set. */
function childEnv(base: NodeJS.ProcessEnv): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (k.startsWith("VITEST") || k === "NODE_ENV" || k === "TEST" || k === "TINYPOOL_WORKER_ID") continue;
    env[k] = v;
  }
  return env;
}

export function escapeRegex(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

/** vitest's -t pattern for a list of milestone ids. */
export function milestonePattern(ids: string[]): string {
  const prefixes = ids.map((id) => escapeRegex(id.toUpperCase()));
  return prefixes.length === 1 ? `^${prefixes[0]} ` : `^(${prefixes.join("|")}) `;
}

export function runStageTests(opts: RunOptions): Promise<StageRun> {
  const root = opts.root ?? repoRoot;
  const vitest = path.join(root, "node_modules", "vitest", "vitest.mjs");
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xps-run-"));
  const reportFile = path.join(tmp, "report.json");
  const args = [vitest, "run", `--reporter=${REPORTER}`];
  if (opts.testTimeoutMs) args.push(`--testTimeout=${opts.testTimeoutMs}`, `--hookTimeout=${opts.testTimeoutMs}`);
  if (opts.milestones && opts.milestones.length > 0) args.push("-t", milestonePattern(opts.milestones));
  if (opts.files) args.push(...opts.files);
  const env: NodeJS.ProcessEnv = {
    ...childEnv(opts.env ?? process.env),
    XPS_VARIANT: opts.variant,
    XPS_EVENTS: "1",
    XPS_REPORT_FILE: reportFile,
    NO_COLOR: "1",
    FORCE_COLOR: "0",
  };
  // The learner's files: the given folder, else XPS_LEARNER_DIR from the
  // environment (the course's checks), else the stage's src/.
  if (opts.learnerDir) env.XPS_LEARNER_DIR = opts.learnerDir;
  if (opts.record === false) env.XPS_RESULTS = "off";
  if (opts.extraTests && opts.extraTests.length > 0) env.XPS_EXTRA_TESTS = opts.extraTests.join(",");
  else delete env.XPS_EXTRA_TESTS;
  if (opts.hidden && opts.hidden.length > 0) env.XPS_HIDDEN_MILESTONES = JSON.stringify(opts.hidden);
  else delete env.XPS_HIDDEN_MILESTONES;
  if (opts.testTimeoutMs) env.XPS_MILESTONE_TIMEOUT_MS = String(opts.testTimeoutMs);
  else delete env.XPS_MILESTONE_TIMEOUT_MS;

  const started = Date.now();
  const tests = new Map<string, TestRecord>();
  let running: string | null = null;
  const openFiles = new Set<string>();
  const fileErrors: { file: string; message: string }[] = [];
  let output = "";

  return new Promise((resolve) => {
    const child = spawn(process.execPath, args, { cwd: opts.stage.dir, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let timedOut = false;
    const killGroup = (): void => {
      try {
        if (child.pid) process.kill(-child.pid, "SIGKILL");
      } catch {
        // the group is gone already
      }
    };
    const timer = opts.runTimeoutMs
      ? setTimeout(() => {
          timedOut = true;
          killGroup();
        }, opts.runTimeoutMs)
      : null;
    const onSignal = (signal: NodeJS.Signals): void => {
      if (process.env.XPS_DEBUG) process.stderr.write(`xps: ${signal}\n`);
      killGroup();
      fs.rmSync(tmp, { recursive: true, force: true });
      process.exit(130);
    };
    process.once("SIGINT", onSignal);
    process.once("SIGTERM", onSignal);

    let partial = "";
    child.stdout.on("data", (d: Buffer) => {
      const lines = (partial + d.toString("utf8")).split("\n");
      partial = lines.pop() ?? "";
      for (const line of lines) handleLine(line);
    });
    child.stderr.on("data", (d: Buffer) => {
      if (output.length < 200_000) output += d.toString("utf8");
    });
    const handleLine = (line: string): void => {
      if (!line.startsWith(EVENT_PREFIX)) {
        if (output.length < 200_000) output += `${line}\n`;
        return;
      }
      let e: ReporterEvent;
      try {
        e = JSON.parse(line.slice(EVENT_PREFIX.length)) as ReporterEvent;
      } catch {
        return;
      }
      if (e.type === "file-start" || e.type === "collected") openFiles.add(e.file);
      if (e.type === "collected") {
        for (const name of e.tests) {
          if (!tests.has(name)) tests.set(name, { name, file: e.file, milestone: milestoneOf(name), status: "pending", durationMs: 0, message: "" });
        }
      } else if (e.type === "test-start") running = e.name;
      else if (e.type === "test-end") {
        tests.set(e.test.name, e.test);
        if (running === e.test.name) running = null;
      } else if (e.type === "file-end") {
        openFiles.delete(e.file);
        for (const message of e.errors) fileErrors.push({ file: e.file, message });
      }
      opts.onEvent?.(e);
    };

    child.on("close", (code) => {
      if (partial) handleLine(partial);
      if (timer) clearTimeout(timer);
      process.off("SIGINT", onSignal);
      process.off("SIGTERM", onSignal);
      killGroup(); // whatever the tests left running
      let report: RunReport | null = null;
      try {
        report = JSON.parse(fs.readFileSync(reportFile, "utf8")) as RunReport;
      } catch {
        report = null;
      }
      fs.rmSync(tmp, { recursive: true, force: true });
      if (report) {
        for (const t of report.tests) tests.set(t.name, t);
        for (const fe of report.fileErrors) if (!fileErrors.some((x) => x.file === fe.file && x.message === fe.message)) fileErrors.push(fe);
      }
      resolve({
        stage: opts.stage,
        variant: opts.variant,
        tests: [...tests.values()],
        fileErrors,
        unhandledErrors: report?.unhandledErrors ?? [],
        finished: report !== null && !timedOut,
        timedOut,
        hung: timedOut && running ? [running] : [],
        hungFiles: timedOut ? [...openFiles] : [],
        exitCode: code,
        output,
        durationMs: Date.now() - started,
      });
    });
  });
}

/** The stage's test files (relative paths), plus the extra globs' files. */
export function stageTestFiles(stage: StageMeta, extraDirs: string[] = []): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      const p = path.join(dir, e.name);
      if (e.isDirectory() && e.name !== "node_modules") walk(p);
      else if (e.name.endsWith(".test.ts")) out.push(path.relative(stage.dir, p));
    }
  };
  walk(path.join(stage.dir, "test"));
  for (const d of extraDirs) walk(d);
  return out.sort();
}

/**
 * Run a stage's tests with a time limit; when the limit kills a run, the
 * test files that never started run again on their own (with the same limit
 * for each such pass), so one hanging check costs only its own file.
 */
export async function runWithRetries(opts: RunOptions & { allFiles: string[] }): Promise<StageRun> {
  let merged = await runStageTests(opts);
  for (let pass = 0; merged.timedOut && pass < opts.allFiles.length; pass++) {
    const done = new Set(merged.tests.filter((t) => t.status !== "pending").map((t) => path.relative(opts.stage.dir, t.file)));
    for (const file of merged.hungFiles) done.add(path.relative(opts.stage.dir, file));
    const rest = opts.allFiles.filter((f) => !done.has(f));
    if (process.env.XPS_DEBUG) process.stderr.write(`xps: pass ${pass + 1} hung in ${merged.hungFiles.join(", ")}; again: ${rest.join(", ") || "nothing"}\n`);
    if (rest.length === 0) break;
    const again = await runStageTests({ ...opts, files: rest });
    const tests = new Map(merged.tests.map((t) => [t.name, t]));
    for (const t of again.tests) if (t.status !== "pending" || !tests.has(t.name)) tests.set(t.name, t);
    merged = {
      ...merged,
      tests: [...tests.values()],
      fileErrors: [...merged.fileErrors, ...again.fileErrors],
      unhandledErrors: [...merged.unhandledErrors, ...again.unhandledErrors],
      durationMs: merged.durationMs + again.durationMs,
      output: merged.output + again.output,
      hung: [...merged.hung, ...again.hung],
      hungFiles: [...merged.hungFiles, ...again.hungFiles],
      timedOut: again.timedOut,
      finished: again.finished,
    };
    if (!again.timedOut) {
      merged.timedOut = true; // the run as a whole did hit the limit once
      break;
    }
  }
  return merged;
}
