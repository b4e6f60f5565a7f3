// Grading: each submission's learner files, run against the course's own
// pristine tests and testkit (a submission's test/ folders are never read),
// plus an instructor's hidden tests. The files are copied into the course's
// stage folder (.xps/grade-*, git-ignored), so they resolve the workspace
// packages, and XPS_LEARNER_DIR points there.
//
// The learner's code runs only in the processes the tests start (servers,
// probes), in the sandbox (@xps/testkit/sandbox): it cannot reach the test
// runner, where results are made, nor the hidden tests and the output.
//
// Credit is per milestone: a milestone's points when every one of its tests
// passes. --run-timeout is the time of one submission's whole run of one
// stage; what had not finished by then scores 0. The course's tests,
// tooling and hidden tests are hashed before and after each submission: a
// change stops the batch.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { describeSandbox, sandboxFromEnv } from "@xps/testkit/sandbox";
import { resultsFile, type StageResults } from "@xps/testkit/results";
import { CommandError, learnerFiles, type StageMeta } from "../context.ts";
import { cleanMessage, declaredMilestones, firstLine, milestoneOutcomes, type MilestoneOutcome } from "../milestones.ts";
import { runStageTests, type StageRun } from "../runner.ts";
import { changedFiles, hashFiles, trustedFiles } from "./integrity.ts";
import { precheck } from "./precheck.ts";
import { safeName, submissionStageDir, type HiddenTests, type Submission } from "./sources.ts";

export interface MilestoneGrade {
  id: string;
  /** "M1 <title>" (hidden ones: "X1 <title>"). */
  name: string;
  title: string;
  points: number;
  maxPoints: number;
  status: "passed" | "failed";
  message: string;
  hidden: boolean;
  durationMs: number;
}

export interface StageGrade {
  stage: string;
  title: string;
  score: number;
  max: number;
  milestones: MilestoneGrade[];
  /** Why the run did not go as planned (missing files, a hang, a crash). */
  problems: string[];
  /** Why the run looks wrong (it hit its time limit, did not end, a process was killed by a signal, it was implausibly fast). */
  suspicious: string[];
  /** The isolation its learner code ran in. */
  isolation: string;
  durationMs: number;
}

export interface SubmissionGrade {
  submission: string;
  dir: string;
  stages: StageGrade[];
  score: number;
  max: number;
}

export interface GradeOptions {
  stages: StageMeta[];
  submissions: Submission[];
  hidden: Map<string, HiddenTests>;
  testTimeoutMs?: number;
  runTimeoutMs: number;
  /** Progress lines (stderr). */
  log?: (line: string) => void;
  root: string;
  /** XPS_SANDBOX for the learner's processes: "auto" (default), "bubblewrap", "namespaces", "none" or "off". */
  sandbox?: string;
  /** More paths the learner's processes must not reach (the output folder). */
  protect?: string[];
  /** Grade only these milestones ("m1"); the others are left out of the score and the maximum. */
  milestones?: string[];
}

function toGrade(o: MilestoneOutcome): MilestoneGrade {
  return {
    id: o.id,
    name: `${o.id.toUpperCase()} ${o.title}`,
    title: o.title,
    points: o.status === "passed" ? o.points : 0,
    maxPoints: o.points,
    status: o.status === "passed" ? "passed" : "failed",
    message: o.status === "passed" ? "" : o.message || o.reason,
    hidden: o.hidden,
    durationMs: o.tests.reduce((a, t) => a + (t.durationMs ?? 0), 0),
  };
}

/** Every milestone failed for the same reason (nothing ran). */
function allFailed(stage: StageMeta, hidden: HiddenTests | undefined, reason: string, only?: string[]): MilestoneGrade[] {
  return declaredMilestones(stage, hidden?.milestones ?? []).filter((m) => !only || only.includes(m.id)).map((m) => ({
    id: m.id,
    name: `${m.id.toUpperCase()} ${m.title}`,
    title: m.title,
    points: 0,
    maxPoints: m.points,
    status: "failed",
    message: reason,
    hidden: m.hidden ?? false,
    durationMs: 0,
  }));
}

function stageGrade(stage: StageMeta, milestones: MilestoneGrade[], problems: string[], durationMs: number, isolation = "", suspicious: string[] = []): StageGrade {
  return {
    stage: stage.name,
    title: stage.title,
    score: milestones.reduce((a, m) => a + m.points, 0),
    max: milestones.reduce((a, m) => a + m.maxPoints, 0),
    milestones,
    problems,
    suspicious,
    isolation,
    durationMs,
  };
}

function runProblems(run: StageRun, runTimeoutMs: number): string[] {
  const out: string[] = [];
  if (run.timedOut) {
    const files = [...new Set(run.runningFiles)].map((f) => (f.includes("/.xps/hidden-") ? "a hidden test file" : path.relative(run.stage.dir, f)));
    out.push(`the run hit its time limit of ${Math.round(runTimeoutMs / 1000)} s and was stopped${files.length ? ` in ${files.join(", ")}` : ""}; what had not finished scores 0`);
  } else if (!run.finished) out.push(`the test run did not reach its end${run.error ? ` (${firstLine(run.error)})` : ""}; what had not finished scores 0`);
  return out;
}

/** How long each test takes on the reference, from its last recorded run (.xps/results/<stage>.solution.json). */
function referenceTimes(root: string, stage: StageMeta): Map<string, number> {
  try {
    const r = JSON.parse(fs.readFileSync(resultsFile(root, stage.name, "solution", {}), "utf8")) as StageResults;
    return new Map(r.tests.filter((t) => typeof t.durationMs === "number").map((t) => [t.name, t.durationMs!]));
  } catch {
    return new Map();
  }
}

/** What makes a run look wrong, for a person to check. */
function suspicions(run: StageRun, reference: Map<string, number>): string[] {
  const out: string[] = [];
  if (run.timedOut) out.push("it hit its time limit");
  else if (!run.finished) out.push("it never reached its end");
  const killed = run.tests.filter((t) => /\b(?:killed by|exit) SIG(?:KILL|XCPU|XFSZ|SEGV|ABRT)\b/.test(t.message));
  if (killed.length > 0) out.push(`a process of its own was killed by a signal in ${killed.length} test(s)`);
  const fast = run.tests.filter((t) => t.status === "passed" && (reference.get(t.name) ?? 0) >= 2000 && t.durationMs < reference.get(t.name)! / 10);
  if (fast.length > 0) out.push(`${fast.length} test(s) passed in under a tenth of the reference's time (${fast[0]!.name.slice(0, 60)}: ${fast[0]!.durationMs} ms, the reference ${reference.get(fast[0]!.name)} ms)`);
  return out;
}

/** Grader-internal paths in a message, in a learner's words. */
export function scrubPaths(text: string, places: { path: string; as: string }[]): string {
  let t = text;
  for (const p of [...places].sort((a, b) => b.path.length - a.path.length)) if (p.path.length > 1) t = t.split(p.path).join(p.as);
  return t;
}

/** Copy the hidden tests of a stage into the course's stage folder; returns the folder. */
export function installHidden(stage: StageMeta, hidden: HiddenTests, tag: string): string {
  const dest = path.join(stage.dir, ".xps", `hidden-${tag}`);
  fs.rmSync(dest, { recursive: true, force: true });
  for (const f of hidden.files) {
    fs.mkdirSync(path.dirname(path.join(dest, f)), { recursive: true });
    fs.copyFileSync(path.join(hidden.dir, f), path.join(dest, f));
  }
  return dest;
}

export async function gradeStage(
  stage: StageMeta,
  sub: Submission,
  opts: GradeOptions & { index: number; tag: string; hiddenDir: string | null; runDir: string; isolation: string },
): Promise<StageGrade> {
  const hidden = opts.hidden.get(stage.name);
  const started = Date.now();
  const from = submissionStageDir(sub, stage);
  if (from === null) {
    const why = sub.stagesDir === null ? "the submission has no stages/ folder" : `the submission has no folder for ${stage.name}`;
    return stageGrade(stage, allFailed(stage, hidden, why, opts.milestones), [why], 0, opts.isolation);
  }
  const files = learnerFiles(stage, path.join(from, "src"));
  const missing = files.filter((f) => !fs.existsSync(f.file) || !fs.statSync(f.file).isFile());
  if (missing.length > 0) {
    const why = `the submission's ${missing.map((f) => `src/${path.basename(f.file)}`).join(" and ")} ${missing.length === 1 ? "is" : "are"} missing`;
    return stageGrade(stage, allFailed(stage, hidden, why, opts.milestones), [why], 0, opts.isolation);
  }
  const texts = new Map(files.map((f) => [path.basename(f.file), fs.readFileSync(f.file, "utf8")]));
  const broken = precheck(texts, [...texts.keys()]);
  if (broken.length > 0) {
    const why = broken.map((p) => p.message).join("\n");
    return stageGrade(stage, allFailed(stage, hidden, why, opts.milestones), broken.map((p) => firstLine(p.message)), 0, opts.isolation);
  }
  const learnerDir = path.join(stage.dir, ".xps", `grade-${opts.tag}`, `${opts.index}-${safeName(sub.name)}`);
  fs.rmSync(learnerDir, { recursive: true, force: true });
  fs.mkdirSync(learnerDir, { recursive: true });
  for (const [name, text] of texts) fs.writeFileSync(path.join(learnerDir, name), text);
  const tmp = path.join(opts.runDir, "tmp");
  fs.mkdirSync(tmp, { recursive: true });
  const places = [
    { path: learnerDir, as: "src" },
    { path: stage.dir, as: path.basename(stage.dir) },
    { path: opts.root, as: "<course>" },
    { path: opts.runDir, as: "<scratch>" },
    ...(opts.hiddenDir ? [{ path: opts.hiddenDir, as: "<hidden test>" }, { path: hidden!.dir, as: "<hidden test>" }] : []),
  ];
  try {
    const run = await runStageTests({
      stage,
      variant: "learner",
      learnerDir,
      record: false,
      extraTests: opts.hiddenDir ? [`${path.relative(stage.dir, opts.hiddenDir)}/**/*.test.ts`] : [],
      hidden: hidden?.milestones ?? [],
      milestones: opts.milestones,
      testTimeoutMs: opts.testTimeoutMs,
      timeoutMs: opts.runTimeoutMs,
      env: {
        XPS_SANDBOX: opts.sandbox ?? "auto",
        XPS_SANDBOX_DIR: path.join(opts.runDir, "sandbox"),
        XPS_SANDBOX_HIDE: JSON.stringify([...(opts.hiddenDir ? [opts.hiddenDir, hidden!.dir] : []), ...(opts.protect ?? []), path.join(opts.root, ".xps")]),
        XPS_OWN: "",
        TMPDIR: tmp,
      },
    });
    const outcomes = milestoneOutcomes(run, declaredMilestones(stage, hidden?.milestones ?? []), {
      runTimeoutMs: opts.runTimeoutMs,
      hiddenPaths: opts.hiddenDir ? [opts.hiddenDir, hidden!.dir] : [],
    }).filter((o) => !opts.milestones || opts.milestones.includes(o.id));
    const problems = runProblems(run, opts.runTimeoutMs);
    for (const fe of run.fileErrors) {
      const hiddenFile = opts.hiddenDir !== null && fe.file.startsWith(opts.hiddenDir);
      const text = cleanMessage(fe.message, hiddenFile ? { hiddenPaths: [opts.hiddenDir!, hidden!.dir] } : {});
      problems.push(`${hiddenFile ? "a hidden test file" : path.relative(stage.dir, fe.file)} did not load: ${firstLine(text)}`);
    }
    const declared = declaredMilestones(stage, hidden?.milestones ?? []);
    const strays = run.tests.filter((t) => t.milestone === null || !declared.some((m) => m.id === t.milestone));
    if (strays.length > 0) problems.push(`${strays.length} test(s) name no declared milestone and count for nothing (${strays.slice(0, 3).map((t) => `"${t.name.slice(0, 60)}"`).join(", ")})`);
    const grades = outcomes.map(toGrade).map((g) => ({ ...g, message: scrubPaths(g.message, places) }));
    return stageGrade(stage, grades, problems.map((p) => scrubPaths(p, places)), Date.now() - started, opts.isolation, suspicions(run, referenceTimes(opts.root, stage)));
  } finally {
    fs.rmSync(learnerDir, { recursive: true, force: true });
    fs.rmSync(tmp, { recursive: true, force: true });
    const parent = path.dirname(learnerDir);
    if (fs.existsSync(parent) && fs.readdirSync(parent).length === 0) fs.rmSync(parent, { recursive: true, force: true });
  }
}

export async function gradeAll(opts: GradeOptions): Promise<SubmissionGrade[]> {
  const tag = String(process.pid);
  const hiddenDirs = new Map<string, string>();
  const runDir = fs.mkdtempSync(path.join(os.tmpdir(), "xps-grade-"));
  const cleanup = (): void => {
    for (const d of hiddenDirs.values()) fs.rmSync(d, { recursive: true, force: true });
    for (const s of opts.stages) fs.rmSync(path.join(s.dir, ".xps", `grade-${tag}`), { recursive: true, force: true });
    fs.rmSync(runDir, { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  const isolation = describeSandbox(sandboxFromEnv({ XPS_SANDBOX: opts.sandbox ?? "auto" }));
  try {
    for (const s of opts.stages) {
      const h = opts.hidden.get(s.name);
      if (h) hiddenDirs.set(s.name, installHidden(s, h, tag));
    }
    const trusted = (): string[] => trustedFiles(opts.root, opts.stages.map((s) => s.dir), [...hiddenDirs.values(), ...[...opts.hidden.values()].map((h) => h.dir)]);
    const before = hashFiles(trusted());
    opts.log?.(`sandbox: ${isolation}`);
    const out: SubmissionGrade[] = [];
    let index = 0;
    for (const sub of opts.submissions) {
      index++;
      const stages: StageGrade[] = [];
      for (const stage of opts.stages) {
        opts.log?.(`grading ${sub.name} ${stage.name} ...`);
        const g = await gradeStage(stage, sub, { ...opts, index, tag, hiddenDir: hiddenDirs.get(stage.name) ?? null, runDir, isolation });
        const changed = changedFiles(before, hashFiles(trusted()));
        if (changed.length > 0) {
          throw new CommandError(
            `grading stopped: while ${sub.name} ${stage.name} ran, these files that grading trusts changed: ${changed.slice(0, 5).map((f) => path.relative(opts.root, f) || f).join(", ")}${changed.length > 5 ? ", ..." : ""}; restore them (git checkout, and the hidden tests from your copy) before grading again`,
          );
        }
        opts.log?.(`  ${sub.name} ${stage.name}: ${g.score}/${g.max}${g.problems.length ? ` (${g.problems.join("; ")})` : ""}${g.suspicious.length ? ` [suspicious: ${g.suspicious.join("; ")}]` : ""}, ${(g.durationMs / 1000).toFixed(1)} s`);
        stages.push(g);
      }
      out.push({ submission: sub.name, dir: sub.dir, stages, score: stages.reduce((a, s) => a + s.score, 0), max: stages.reduce((a, s) => a + s.max, 0) });
    }
    return out;
  } finally {
    cleanup();
    process.off("exit", cleanup);
  }
}
