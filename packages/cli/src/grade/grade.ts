// Grading: each submission's learner files, run against the course's own
// pristine tests and testkit (a submission's test/ folders are never read),
// plus an instructor's hidden tests. The files are copied into the course's
// stage folder (.xps/grade-*, git-ignored), so they resolve the workspace
// packages, and XPS_LEARNER_DIR points there.
//
// Credit is per milestone: a milestone's points when every one of its tests
// passes. A run that hangs is stopped at the run time limit (the process
// group is killed) and scores what passed by then; the batch goes on.
import fs from "node:fs";
import path from "node:path";
import { learnerFiles, type StageMeta } from "../context.ts";
import { cleanMessage, declaredMilestones, firstLine, milestoneOutcomes, type MilestoneOutcome } from "../milestones.ts";
import { runWithRetries, stageTestFiles, type StageRun } from "../runner.ts";
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
function allFailed(stage: StageMeta, hidden: HiddenTests | undefined, reason: string): MilestoneGrade[] {
  return declaredMilestones(stage, hidden?.milestones ?? []).map((m) => ({
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

function stageGrade(stage: StageMeta, milestones: MilestoneGrade[], problems: string[], durationMs: number): StageGrade {
  return {
    stage: stage.name,
    title: stage.title,
    score: milestones.reduce((a, m) => a + m.points, 0),
    max: milestones.reduce((a, m) => a + m.maxPoints, 0),
    milestones,
    problems,
    durationMs,
  };
}

function runProblems(run: StageRun, runTimeoutMs: number): string[] {
  const out: string[] = [];
  if (run.timedOut) {
    const files = [...new Set(run.hungFiles)].map((f) => (f.includes("/.xps/hidden-") ? "a hidden test file" : path.relative(run.stage.dir, f)));
    out.push(`the run hit its time limit of ${Math.round(runTimeoutMs / 1000)} s and was stopped${files.length ? ` in ${files.join(", ")}` : ""}; it scores what passed`);
  }
  if (!run.finished && !run.timedOut) out.push(`vitest stopped without finishing (exit code ${run.exitCode}); the run scores what passed`);
  return out;
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
  opts: GradeOptions & { index: number; tag: string; hiddenDir: string | null },
): Promise<StageGrade> {
  const hidden = opts.hidden.get(stage.name);
  const started = Date.now();
  const from = submissionStageDir(sub, stage);
  if (from === null) {
    const why = sub.stagesDir === null ? "the submission has no stages/ folder" : `the submission has no folder for ${stage.name}`;
    return stageGrade(stage, allFailed(stage, hidden, why), [why], 0);
  }
  const missing = learnerFiles(stage, path.join(from, "src")).filter((f) => !fs.existsSync(f.file));
  if (missing.length > 0) {
    const why = `the submission's ${missing.map((f) => `src/${path.basename(f.file)}`).join(" and ")} ${missing.length === 1 ? "is" : "are"} missing`;
    return stageGrade(stage, allFailed(stage, hidden, why), [why], 0);
  }
  const learnerDir = path.join(stage.dir, ".xps", `grade-${opts.tag}`, `${opts.index}-${safeName(sub.name)}`);
  fs.rmSync(learnerDir, { recursive: true, force: true });
  fs.mkdirSync(learnerDir, { recursive: true });
  for (const f of learnerFiles(stage, path.join(from, "src"))) fs.copyFileSync(f.file, path.join(learnerDir, path.basename(f.file)));
  try {
    const extraDirs = opts.hiddenDir ? [opts.hiddenDir] : [];
    const run = await runWithRetries({
      stage,
      variant: "learner",
      learnerDir,
      record: false,
      extraTests: opts.hiddenDir ? [`${path.relative(stage.dir, opts.hiddenDir)}/**/*.test.ts`] : [],
      hidden: hidden?.milestones ?? [],
      testTimeoutMs: opts.testTimeoutMs,
      runTimeoutMs: opts.runTimeoutMs,
      allFiles: stageTestFiles(stage, extraDirs),
      root: opts.root,
    });
    const outcomes = milestoneOutcomes(run, declaredMilestones(stage, hidden?.milestones ?? []), {
      runTimeoutMs: opts.runTimeoutMs,
      hiddenPaths: opts.hiddenDir ? [opts.hiddenDir, hidden!.dir] : [],
    });
    const problems = runProblems(run, opts.runTimeoutMs);
    for (const fe of run.fileErrors) {
      const hiddenFile = opts.hiddenDir !== null && fe.file.startsWith(opts.hiddenDir);
      const text = cleanMessage(fe.message, hiddenFile ? { hiddenPaths: [opts.hiddenDir!, hidden!.dir] } : {});
      problems.push(`${hiddenFile ? "a hidden test file" : path.relative(stage.dir, fe.file)} did not load: ${firstLine(text)}`);
    }
    const strays = run.tests.filter((t) => t.milestone === null || !outcomes.some((o) => o.id === t.milestone));
    if (strays.length > 0) problems.push(`${strays.length} test(s) name no declared milestone and count for nothing (${strays.slice(0, 3).map((t) => `"${t.name.slice(0, 60)}"`).join(", ")})`);
    return stageGrade(stage, outcomes.map(toGrade), problems, Date.now() - started);
  } finally {
    fs.rmSync(learnerDir, { recursive: true, force: true });
    const parent = path.dirname(learnerDir);
    if (fs.existsSync(parent) && fs.readdirSync(parent).length === 0) fs.rmSync(parent, { recursive: true, force: true });
  }
}

export async function gradeAll(opts: GradeOptions): Promise<SubmissionGrade[]> {
  const tag = String(process.pid);
  const hiddenDirs = new Map<string, string>();
  const cleanup = (): void => {
    for (const d of hiddenDirs.values()) fs.rmSync(d, { recursive: true, force: true });
    for (const s of opts.stages) fs.rmSync(path.join(s.dir, ".xps", `grade-${tag}`), { recursive: true, force: true });
  };
  process.on("exit", cleanup);
  try {
    for (const s of opts.stages) {
      const h = opts.hidden.get(s.name);
      if (h) hiddenDirs.set(s.name, installHidden(s, h, tag));
    }
    const out: SubmissionGrade[] = [];
    let index = 0;
    for (const sub of opts.submissions) {
      index++;
      const stages: StageGrade[] = [];
      for (const stage of opts.stages) {
        opts.log?.(`grading ${sub.name} ${stage.name} ...`);
        const g = await gradeStage(stage, sub, { ...opts, index, tag, hiddenDir: hiddenDirs.get(stage.name) ?? null });
        opts.log?.(`  ${sub.name} ${stage.name}: ${g.score}/${g.max}${g.problems.length ? ` (${g.problems.join("; ")})` : ""}, ${(g.durationMs / 1000).toFixed(1)} s`);
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
