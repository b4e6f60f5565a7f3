// xps diff <stage>: the learner's files against the reference solution,
// offered only once every milestone of the stage passes (in the last run,
// with no file changed since).
import fs from "node:fs";
import path from "node:path";
import pc from "picocolors";
import { withheldReferences } from "@xps/course/overrides";
import { skeletonHeader, solvedFor } from "@xps/course/skeleton";
import { CommandError, learnerFiles, repoRoot, shown, stageArg, type StageMeta } from "../context.ts";
import { unifiedDiff } from "../diff.ts";
import { ago, progressOf } from "../results.ts";

/** The reference as the learner's file would look with the stage solved. */
export function referenceFor(stage: StageMeta, reference: string, root: string = repoRoot): string {
  const text = fs.readFileSync(path.join(root, reference), "utf8");
  return skeletonHeader(stage.name, reference) + solvedFor(text, reference, stage.stage);
}

function colour(diff: string): string {
  return diff
    .split("\n")
    .map((l) => (l.startsWith("+++") || l.startsWith("---") ? pc.bold(l) : l.startsWith("@@") ? pc.cyan(l) : l.startsWith("+") ? pc.green(l) : l.startsWith("-") ? pc.red(l) : l))
    .join("\n");
}

export function diffCommand(stageName: string, opts: { color?: boolean }): number {
  const stage = stageArg(stageName);
  const p = progressOf(stage);
  const total = stage.milestones?.length ?? 0;
  if (p.results === null) {
    throw new CommandError(`the diff is offered once all of ${stage.name}'s milestones pass, and they have not run yet; run pnpm xps test ${stage.name}`);
  }
  if (p.passed.length < total) {
    throw new CommandError(
      `the diff is offered once all of ${stage.name}'s milestones pass; in the last run (${ago(p.results.updatedAt)}) ${p.passed.length} of ${total} did. Keep going: pnpm xps test ${stage.name}`,
    );
  }
  if (p.stale) throw new CommandError(`your files changed after the last run; run pnpm xps test ${stage.name} again, then the diff`);
  // In a student export the reference of the newest stage is withheld: its regions are stubs.
  if (withheldReferences(stage.dir).length > 0) {
    throw new CommandError(`well done: all ${total} milestones pass. This copy of the course does not hold ${stage.name}'s reference solution yet (it comes with the next release), so there is nothing to compare with`);
  }
  const paint = opts.color || process.stdout.isTTY ? colour : (s: string): string => s;
  let same = 0;
  for (const f of learnerFiles(stage)) {
    const mine = fs.readFileSync(f.file, "utf8");
    const ref = referenceFor(stage, f.reference);
    const d = unifiedDiff(`yours: ${shown(f.file)}`, `reference: ${f.reference}`, mine, ref);
    if (d === "") {
      same++;
      console.log(pc.dim(`${shown(f.file)}: the same as the reference`));
    } else console.log(`${paint(d)}\n`);
  }
  console.log(pc.dim(`${stage.name}: all ${total} milestones pass; ${same} of ${stage.teaches.length} files are exactly the reference. Lines with - are yours, + the reference's.`));
  return 0;
}
