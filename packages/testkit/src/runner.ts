// The one way the course runs a vitest suite: `xps test`, `xps grade` and
// `pnpm verify` all come here. It is vitest's own Node API (createVitest) in
// this process, with the reporter right here: results never travel through
// a test process's output or a file a test process could write. The test
// workers run only the course's tests; the learner's code runs in the
// processes they start (servers and probes, see server.ts and probe.ts).
//
// One definition of "milestone passed" lives in the CLI (milestones.ts):
// every one of its tests ran and passed.
import fs from "node:fs";
import { PassThrough } from "node:stream";
import path from "node:path";
import { createVitest, type Reporter, type TestCase, type TestModule } from "vitest/node";
import XpsReporter, { errorText, milestoneOf, testRecord, type TestRecord } from "./results-reporter.mjs";

export type { TestRecord };

export type RunEvent =
  | { type: "collected"; file: string; tests: string[] }
  | { type: "test-start"; name: string; file: string }
  | { type: "test-end"; test: TestRecord };

export interface RunOptions {
  /** The package or stage folder: vitest's root, where its vitest.config.ts is. */
  dir: string;
  /** The environment of the test workers (on top of this process's); "" unsets in effect. */
  env?: Record<string, string | undefined>;
  /** Test files to run (paths relative to `dir`); default: all. */
  files?: string[];
  /** Only tests whose names match (vitest's -t). */
  testNamePattern?: string;
  /** Extra test globs, relative to `dir` (hidden tests). */
  include?: string[];
  /** One time limit per test and hook. */
  testTimeoutMs?: number;
  /** The whole run's time limit: at the limit the run is cancelled, and what had not finished counts as not run. */
  timeoutMs?: number;
  /** Record the run as the learner's progress (xps status): default true, as `pnpm test` does. */
  record?: boolean;
  onEvent?: (e: RunEvent) => void;
}

export interface RunResult {
  /** Every test vitest collected, with its last known state ("pending": never finished). */
  tests: TestRecord[];
  /** Test files that failed to load, with the error. */
  fileErrors: { file: string; message: string }[];
  unhandledErrors: string[];
  /** vitest reached the end of the run. */
  finished: boolean;
  /** The run hit `timeoutMs` and was cancelled. */
  timedOut: boolean;
  /** Tests that had started and not finished when the run stopped. */
  running: string[];
  /** Test files that had started and not finished when the run stopped. */
  runningFiles: string[];
  /** vitest's own messages (a configuration that does not load, say). */
  output: string;
  /** vitest could not run at all. */
  error?: string;
  durationMs: number;
}

/** vitest's -t pattern for a list of milestone ids. */
export function milestonePattern(ids: string[]): string {
  const prefixes = ids.map((id) => id.toUpperCase().replace(/[.*+?^${}()|[\]\\]/g, "\\$&"));
  return prefixes.length === 1 ? `^${prefixes[0]} ` : `^(${prefixes.join("|")}) `;
}

class Collector implements Reporter {
  tests = new Map<string, TestRecord>();
  running = new Set<string>();
  openFiles = new Set<string>();
  fileErrors: { file: string; message: string }[] = [];
  unhandledErrors: string[] = [];
  ended = false;

  constructor(private readonly onEvent?: (e: RunEvent) => void) {}

  onTestModuleCollected(m: TestModule): void {
    this.openFiles.add(m.moduleId);
    const names: string[] = [];
    for (const tc of m.children.allTests()) {
      names.push(tc.fullName);
      if (!this.tests.has(tc.fullName)) this.tests.set(tc.fullName, { name: tc.fullName, file: m.moduleId, milestone: milestoneOf(tc.fullName), status: "pending", durationMs: 0, message: "" });
    }
    this.onEvent?.({ type: "collected", file: m.moduleId, tests: names });
  }

  onTestCaseReady(tc: TestCase): void {
    this.running.add(tc.fullName);
    this.onEvent?.({ type: "test-start", name: tc.fullName, file: tc.module.moduleId });
  }

  onTestCaseResult(tc: TestCase): void {
    const rec = testRecord(tc);
    this.running.delete(tc.fullName);
    this.tests.set(rec.name, rec);
    this.onEvent?.({ type: "test-end", test: rec });
  }

  onTestModuleEnd(m: TestModule): void {
    this.openFiles.delete(m.moduleId);
    for (const e of m.errors()) this.fileErrors.push({ file: m.moduleId, message: errorText([e]) });
  }

  onTestRunEnd(modules: readonly TestModule[], unhandledErrors: readonly unknown[]): void {
    for (const m of modules) for (const tc of m.children.allTests()) this.tests.set(tc.fullName, testRecord(tc));
    this.unhandledErrors = unhandledErrors.map((e) => errorText([e]));
    this.ended = true;
  }
}

function sleep(ms: number): Promise<"timeout"> {
  return new Promise((resolve) => setTimeout(() => resolve("timeout"), ms).unref());
}

/** Run the suite in `opts.dir`; never throws (a run that cannot start says so in `error`). */
export async function runTests(opts: RunOptions): Promise<RunResult> {
  const started = Date.now();
  const collector = new Collector(opts.onEvent);
  let output = "";
  const sink = new PassThrough();
  sink.on("data", (d: Buffer) => {
    if (output.length < 200_000) output += d.toString("utf8");
  });
  const env = { NO_COLOR: "1", FORCE_COLOR: "0", ...opts.env };
  const reporters: Reporter[] = [collector];
  if (opts.record !== false) reporters.push(new XpsReporter({ ...process.env, ...env }) as unknown as Reporter);
  const result = (extra: Partial<RunResult>): RunResult => ({
    tests: [...collector.tests.values()],
    fileErrors: collector.fileErrors,
    unhandledErrors: collector.unhandledErrors,
    finished: collector.ended,
    timedOut: false,
    running: [...collector.running],
    runningFiles: [...collector.openFiles],
    output,
    durationMs: Date.now() - started,
    ...extra,
  });
  const exitCode = process.exitCode;
  let vitest: Awaited<ReturnType<typeof createVitest>>;
  try {
    vitest = await createVitest(
      "test",
      {
        root: opts.dir,
        watch: false,
        reporters,
        env: env as Record<string, string>,
        testNamePattern: opts.testNamePattern,
        // An undefined here would override the folder's own vitest.config
        // (back to vitest's 5 s); a folder without one gets the course's 60 s.
        ...timeouts(opts),
        ...(opts.include && opts.include.length > 0 ? { include: ["test/**/*.test.ts", ...opts.include] } : {}),
      },
      {},
      { stdout: sink, stderr: sink },
    );
  } catch (err) {
    return result({ error: `vitest did not start: ${(err as Error).message}` });
  }
  let timedOut = false;
  try {
    const run = vitest.start(opts.files?.map((f) => path.resolve(opts.dir, f)));
    const outcome = opts.timeoutMs ? await Promise.race([run.then(() => "done" as const), sleep(Math.max(0, opts.timeoutMs - (Date.now() - started)))]) : await run.then(() => "done" as const);
    if (outcome === "timeout") {
      timedOut = true;
      await Promise.race([vitest.cancelCurrentRun("keyboard-input"), sleep(5000)]);
    }
  } catch (err) {
    output += `\n${(err as Error).message}`;
  } finally {
    await Promise.race([vitest.close(), sleep(10_000)]);
    process.exitCode = exitCode;
  }
  return result({ timedOut, finished: collector.ended && !timedOut });
}

/** A run in short, for the course's own checks (verify, the mistakes catalogue, the fault fixtures). */
export interface TestRun {
  /** vitest ran to its end (whatever the tests did). */
  ok: boolean;
  passed: string[];
  /** Failed tests, and tests that never finished. */
  failed: { name: string; message: string }[];
  output: string;
  error?: string;
}

export function asTestRun(r: RunResult): TestRun {
  const failed = r.tests
    .filter((t) => t.status === "failed" || t.status === "pending")
    .map((t) => ({ name: t.name, message: t.status === "pending" ? "did not finish" : t.message || "failed" }));
  for (const fe of r.fileErrors) failed.push({ name: path.basename(fe.file), message: `did not load: ${fe.message}` });
  return {
    ok: r.error === undefined && r.finished,
    passed: r.tests.filter((t) => t.status === "passed").map((t) => t.name),
    failed,
    output: `${r.output}${r.unhandledErrors.length ? `\n${r.unhandledErrors.join("\n")}` : ""}`,
    error: r.error ?? (r.finished ? undefined : r.timedOut ? "the run hit its time limit" : "vitest did not reach the end of the run"),
  };
}

/** Run a suite and summarise it: `env` for the test workers, only the tests matching `pattern`, only `files`. */
export async function runSuite(dir: string, env: Record<string, string | undefined>, opts: { pattern?: string; files?: string[]; timeoutMs?: number } = {}): Promise<TestRun> {
  return asTestRun(await runTests({ dir, env, testNamePattern: opts.pattern, files: opts.files, timeoutMs: opts.timeoutMs }));
}

/** The time limits a run passes to vitest: the caller's, else none (the config's), else 60 s. */
function timeouts(opts: { dir: string; testTimeoutMs?: number }): { testTimeout?: number; hookTimeout?: number } {
  const ms = opts.testTimeoutMs ?? (fs.readdirSync(opts.dir).some((f) => /^vitest\.config\.[cm]?[jt]s$/.test(f)) ? undefined : 60_000);
  return ms === undefined ? {} : { testTimeout: ms, hookTimeout: ms };
}
