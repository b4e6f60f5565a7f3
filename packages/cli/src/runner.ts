// A stage's tests through the course's one runner (@xps/testkit/runner), on
// the learner's code or the reference: the environment that picks the
// variant, the learner's files, hidden tests and the sandbox.
import { milestonePattern, runTests, type RunEvent, type RunResult } from "@xps/testkit/runner";
import type { StageMeta } from "./context.ts";

export type Variant = "learner" | "solution";
export { milestonePattern, type RunEvent };

export interface RunOptions {
  stage: StageMeta;
  variant: Variant;
  /** Folder of learner files (XPS_LEARNER_DIR); default: XPS_LEARNER_DIR as set, else the stage's src/. */
  learnerDir?: string;
  /** Only these milestones ("m3"): vitest's -t filter. */
  milestones?: string[];
  /** Extra test globs, relative to the stage (hidden tests). */
  extraTests?: string[];
  /** Hidden milestones (XPS_HIDDEN_MILESTONES). */
  hidden?: { id: string; title: string; points: number }[];
  /** Record the run as the learner's status (default: true; grading turns it off). */
  record?: boolean;
  /** One time limit per test (and XPS_MILESTONE_TIMEOUT_MS). */
  testTimeoutMs?: number;
  /** The whole run's time limit. */
  timeoutMs?: number;
  onEvent?: (e: RunEvent) => void;
  /** More variables for the test workers (the sandbox's, XPS_OWN). */
  env?: Record<string, string | undefined>;
}

export interface StageRun extends RunResult {
  stage: StageMeta;
  variant: Variant;
}

export async function runStageTests(opts: RunOptions): Promise<StageRun> {
  const env: Record<string, string | undefined> = {
    XPS_VARIANT: opts.variant,
    XPS_EXTRA_TESTS: "",
    XPS_HIDDEN_MILESTONES: opts.hidden && opts.hidden.length > 0 ? JSON.stringify(opts.hidden) : "",
    XPS_MILESTONE_TIMEOUT_MS: opts.testTimeoutMs ? String(opts.testTimeoutMs) : "",
    ...(opts.learnerDir ? { XPS_LEARNER_DIR: opts.learnerDir } : {}),
    ...(opts.record === false ? { XPS_RESULTS: "off" } : {}),
    ...opts.env,
  };
  const run = await runTests({
    dir: opts.stage.dir,
    env,
    testNamePattern: opts.milestones && opts.milestones.length > 0 ? milestonePattern(opts.milestones) : undefined,
    include: opts.extraTests,
    testTimeoutMs: opts.testTimeoutMs,
    timeoutMs: opts.timeoutMs,
    record: opts.record,
    onEvent: opts.onEvent,
  });
  return { ...run, stage: opts.stage, variant: opts.variant };
}
