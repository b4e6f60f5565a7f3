// The xps reporter: a vitest reporter every stage registers (see
// vitest-config.mjs) beside vitest's default one, and that the course's
// runner (runner.ts) calls after its own runs. Plain JavaScript, so vitest
// loads it natively before any TypeScript loader.
//
// After every run it records the learner's progress, milestone by
// milestone, in <repo root>/.xps/results/<stage>.json (git-ignored), so
// `pnpm test --filter stage-10` and `pnpm xps test stage-10` both update
// what `pnpm xps status` shows. Runs of the reference go to
// <stage>.solution.json instead. Runs whose XPS_LEARNER_DIR points away
// from the stage's src/ (verify's pristine skeletons, grading) and runs
// with XPS_RESULTS=off are not recorded.
import fs from "node:fs";
import path from "node:path";
import { findRepoRoot, readStageMeta, variantName } from "@xps/course/overrides";

const MILESTONE = /^([A-Z]+\d+) /;

/** "M7 the pipe module's own rules: threshold" -> "m7"; null for a name without a milestone prefix. */
export function milestoneOf(name) {
  const m = MILESTONE.exec(name);
  return m ? m[1].toLowerCase() : null;
}

function real(p) {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** Where results are kept: XPS_RESULTS_DIR, or <repo root>/.xps/results. */
export function resultsDir(root, env = process.env) {
  return env.XPS_RESULTS_DIR ? path.resolve(env.XPS_RESULTS_DIR) : path.join(root, ".xps", "results");
}

/** The results file of a stage for a variant. */
export function resultsFile(root, stageName, variant = "learner", env = process.env) {
  return path.join(resultsDir(root, env), `${stageName}${variant === "solution" ? ".solution" : ""}.json`);
}

/** Is this run the learner's own (their src/, recording not switched off)? */
export function shouldRecord(stageDir, env = process.env) {
  if (env.XPS_RESULTS === "off") return false;
  if (!env.XPS_LEARNER_DIR) return true;
  return real(env.XPS_LEARNER_DIR) === real(path.join(stageDir, "src"));
}

/** One error as text: the message (a milestone failure's whole transcript), never a stack. */
export function errorText(errors) {
  if (!errors || errors.length === 0) return "";
  return errors
    .map((e) => {
      let text = e.message ?? String(e);
      if (e.name && e.name !== "Error" && e.name !== "MilestoneFailure" && !text.startsWith(e.name)) text = `${e.name}: ${text}`;
      if (typeof e.diff === "string" && e.diff.trim() !== "" && !text.includes(e.diff)) text += `\n${e.diff}`;
      return text;
    })
    .join("\n");
}

/** A vitest test case as the course keeps it. */
export function testRecord(tc) {
  const r = tc.result();
  const d = tc.diagnostic();
  const out = {
    name: tc.fullName,
    file: tc.module.moduleId,
    milestone: milestoneOf(tc.fullName),
    status: r.state,
    durationMs: d ? Math.round(d.duration) : 0,
    message: r.state === "failed" ? errorText(r.errors) : "",
  };
  const first = r.errors?.[0];
  if (r.state === "failed" && first && typeof first.expected === "string" && typeof first.actual === "string") {
    out.expected = first.expected.slice(0, 100_000);
    out.actual = first.actual.slice(0, 100_000);
  }
  return out;
}

/**
 * Merge a run into the previous record: a run that skipped tests (a filter
 * such as -t "^M3 ") only updates the tests it ran; a full run replaces all.
 */
export function mergeResults(previous, run) {
  const partial = run.tests.some((t) => t.status === "skipped");
  const tests = new Map();
  if (partial && previous) for (const t of previous.tests ?? []) tests.set(t.name, t);
  for (const t of run.tests) {
    if (t.status === "passed" || t.status === "failed") {
      tests.set(t.name, { name: t.name, milestone: t.milestone, status: t.status, at: run.at, durationMs: t.durationMs, message: firstLine(t.message) });
    }
  }
  const milestones = {};
  for (const m of run.declared) {
    const mine = [...tests.values()].filter((t) => t.milestone === m.id);
    if (mine.length === 0) continue;
    const failed = mine.filter((t) => t.status === "failed");
    milestones[m.id] = {
      status: failed.length === 0 ? "passed" : "failed",
      tests: mine.length,
      failed: failed.length,
      at: mine.map((t) => t.at).sort().at(-1),
      message: failed[0]?.message ?? "",
    };
  }
  return { stage: run.stage, variant: run.variant, updatedAt: run.at, milestones, tests: [...tests.values()] };
}

function firstLine(text) {
  return (text ?? "").split("\n").find((l) => l.trim() !== "")?.trim().slice(0, 300) ?? "";
}

export default class XpsReporter {
  /** `env`: the run's environment (default: this process's). */
  constructor(env = process.env) {
    this.root = process.cwd();
    this.env = env;
  }

  onInit(vitest) {
    this.root = vitest.config.root;
  }

  onTestRunEnd(modules, unhandledErrors, reason) {
    const report = {
      at: new Date().toISOString(),
      reason,
      tests: modules.flatMap((m) => [...m.children.allTests()].map(testRecord)),
      fileErrors: modules.flatMap((m) => m.errors().map((e) => ({ file: m.moduleId, message: errorText([e]) }))),
      unhandledErrors: unhandledErrors.map((e) => errorText([e])),
    };
    try {
      this.record(report);
    } catch (err) {
      process.stderr.write(`xps reporter: could not record the results: ${err.message}\n`);
    }
  }

  record(report) {
    let meta;
    try {
      meta = readStageMeta(this.root);
    } catch {
      return; // not a stage
    }
    if (!shouldRecord(this.root, this.env)) return;
    const variant = variantName(this.env);
    const root = findRepoRoot(this.root);
    const file = resultsFile(root, meta.name, variant, this.env);
    let previous = null;
    try {
      previous = JSON.parse(fs.readFileSync(file, "utf8"));
    } catch {
      previous = null;
    }
    if (report.tests.every((t) => t.status === "skipped") && report.fileErrors.length === 0) return;
    const merged = mergeResults(previous, { stage: meta.name, variant, at: report.at, tests: report.tests, declared: meta.milestones ?? [] });
    // A test file that failed to load ran none of its tests: its milestones count as failed.
    if (report.fileErrors.length > 0 && !report.tests.some((t) => t.status === "skipped")) {
      for (const m of meta.milestones ?? []) {
        if (merged.milestones[m.id] === undefined) {
          merged.milestones[m.id] = { status: "failed", tests: 0, failed: 0, at: report.at, message: `its test file did not load: ${firstLine(report.fileErrors[0].message)}` };
        }
      }
    }
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, `${JSON.stringify(merged, null, 2)}\n`);
  }
}
