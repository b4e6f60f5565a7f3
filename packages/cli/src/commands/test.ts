// xps test <stage>: the stage's tests on the learner's code (or the
// reference), shown milestone by milestone.
import fs from "node:fs";
import path from "node:path";
import pc from "picocolors";
import { learnerDir, ownFilesFor } from "@xps/course/overrides";
import { CommandError, UsageError, assertReferenceHeld, previousStages, repoRoot, shown, stageArg, type StageMeta } from "../context.ts";
import { cleanMessage, declaredMilestones, firstLine, milestoneOutcomes, summarise, type MilestoneOutcome } from "../milestones.ts";
import { runStageTests, type StageRun, type Variant } from "../runner.ts";
import { Progress, indent, showMilestone, summaryLine } from "../show.ts";

export interface TestOptions {
  solution?: boolean;
  previous?: boolean;
  /** The learner's own files of earlier stages stand in for the reference (XPS_OWN=1). */
  own?: boolean;
  milestone?: string[];
}

/** "m3", "M3", "3" -> "m3", checked against the stage's milestones. */
export function milestoneIds(stage: StageMeta, given: string[] | undefined): string[] | undefined {
  if (!given || given.length === 0) return undefined;
  const ids = (stage.milestones ?? []).map((m) => m.id);
  return given
    .flatMap((g) => g.split(","))
    .map((g) => {
      const id = /^\d+$/.test(g.trim()) ? `m${g.trim()}` : g.trim().toLowerCase();
      if (!ids.includes(id)) throw new UsageError(`${stage.name} has no milestone "${g}"`, `use one of ${ids.join(", ")}`);
      return id;
    });
}

export interface StageTestResult {
  stage: StageMeta;
  run: StageRun;
  outcomes: MilestoneOutcome[];
}

/** Run one stage and print it; returns the outcomes. */
/** The learner's files must be there before anything runs. */
export function checkLearnerFiles(stage: StageMeta): void {
  const dir = learnerDir(stage.dir, process.env);
  for (const ref of stage.teaches) {
    const file = path.join(dir, path.basename(ref));
    if (!fs.existsSync(file)) {
      throw new CommandError(`${shown(file)} is missing; put back its pristine skeleton with: pnpm xps reset ${stage.name} ${path.basename(ref)}`);
    }
  }
}

export async function testStage(stage: StageMeta, variant: Variant, selected: string[] | undefined, own = false): Promise<StageTestResult> {
  if (variant === "learner") checkLearnerFiles(stage);
  const who = variant === "solution" ? "the reference solution" : `your code (${shown(learnerDir(stage.dir, process.env))})`;
  console.log(pc.bold(`${stage.name} ${stage.title}`) + pc.dim(`: ${who}`));
  if (own && variant === "learner") {
    const files = ownFilesFor(stage.dir, process.env);
    console.log(pc.dim(files.size === 0 ? "  --own: no file of an earlier stage stands in here" : `  --own: ${[...files.values()].map((f) => shown(f.file)).join(", ")} in place of the reference`));
  }
  const progress = new Progress();
  const env = own ? { ...process.env, XPS_OWN: "1" } : undefined;
  const run = await runStageTests({ stage, variant, milestones: selected, env, onEvent: (e) => progress.event(e) });
  progress.clear();
  const outcomes = milestoneOutcomes(run, declaredMilestones(stage), { selected });
  const width = Math.min(80, Math.max(40, ...outcomes.map((o) => o.id.length + 1 + o.title.length + 2)));
  if (run.tests.length === 0 && run.fileErrors.length === 0) {
    // Nothing ran at all: vitest's own error is the one thing to read.
    const lines = `${run.error ?? ""}\n${run.output}`.trim().split("\n").filter((l) => !/^\s+at /.test(l) && l.trim() !== "");
    console.log(pc.red("  vitest did not run the tests:"));
    console.log(indent(lines.slice(0, 20).join("\n") || "(no output)", "    "));
  } else {
    for (const o of outcomes) {
      if (o.status === "not run" && selected) continue;
      console.log(showMilestone(stage, o, variant, { width }));
    }
  }
  if (run.tests.length > 0) {
    for (const fe of run.fileErrors) console.log(pc.yellow(`  ${shown(fe.file)} did not load: ${firstLine(cleanMessage(fe.message))}`));
  }
  for (const u of run.unhandledErrors) console.log(pc.yellow(`  an error outside any test: ${u.split("\n")[0]}`));
  const s = summarise(outcomes);
  console.log(`  ${summaryLine(s)}${selected ? pc.dim(` (only ${selected.map((x) => x.toUpperCase()).join(", ")})`) : ""}`);
  if (variant === "learner" && s.passed === s.total && s.total > 0 && !selected) {
    console.log(pc.dim(`  compare your files with the reference: pnpm xps diff ${stage.name}`));
  }
  console.log("");
  return { stage, run, outcomes };
}

export async function testCommand(stageName: string, opts: TestOptions): Promise<number> {
  const stage = stageArg(stageName);
  const selected = milestoneIds(stage, opts.milestone);
  const variant: Variant = opts.solution ? "solution" : "learner";
  if (opts.solution) assertReferenceHeld(stage);
  const list = opts.previous ? [...previousStages(stage, repoRoot), stage] : [stage];
  if (opts.previous && selected) throw new UsageError("--previous and --milestone do not go together", "pick the milestones of one stage, or re-run whole stages");
  const results: StageTestResult[] = [];
  for (const s of list) results.push(await testStage(s, variant, s === stage ? selected : undefined, opts.own));
  if (results.length > 1) {
    for (const r of results) console.log(`${r.stage.name}: ${summaryLine(summarise(r.outcomes))}`);
  }
  return results.every((r) => r.outcomes.every((o) => o.status !== "failed")) ? 0 : 1;
}
