// xps diff <stage>: the learner's files against the reference solution,
// offered only once every milestone of the stage passes (in the last run,
// with no file changed since).
import fs from "node:fs";
import path from "node:path";
import pc from "picocolors";
import { withheldReferences } from "@xps/course/overrides";
import { solvedFile } from "@xps/course/stages";
import { CommandError, UsageError, learnerFiles, repoRoot, shown, stageArg, type StageMeta } from "../context.ts";
import { solvedView, stageDiff } from "@xps/course/stage-diff";
import { unifiedDiff } from "../diff.ts";
import { ago, progressOf } from "../results.ts";

/** The reference as the learner's file would look with the stage solved (the module in the stage's view). */
export function referenceFor(stage: StageMeta, reference: string, root: string = repoRoot): string {
  return solvedFile(stage, reference, root);
}

function colour(diff: string): string {
  return diff
    .split("\n")
    .map((l) => (l.startsWith("+++") || l.startsWith("---") ? pc.bold(l) : l.startsWith("@@") ? pc.cyan(l) : l.startsWith("+") ? pc.green(l) : l.startsWith("-") ? pc.red(l) : l))
    .join("\n");
}

export function diffCommand(stageName: string | undefined, opts: { color?: boolean }): number {
  if (stageName === undefined) throw new UsageError("name a stage, or give --stages A B", "see pnpm xps diff --help");
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

/** xps diff --stages A B: what the solution changes from stage A to stage B, module by module. */
export function stagesDiffCommand(stages: string[], extra: string | undefined, opts: { color?: boolean; file?: string }): number {
  const names = extra !== undefined ? [...stages, extra] : stages;
  if (names.length !== 2) throw new UsageError(`--stages wants two stages, got ${names.length}`, "write pnpm xps diff --stages 9 10");
  const [a, b] = names.map((n) => stageArg(n));
  if (a!.stage >= b!.stage) throw new UsageError(`--stages goes from an earlier stage to a later one, not from ${a!.name} to ${b!.name}`, `write pnpm xps diff --stages ${b!.stage} ${a!.stage}`);
  let changes = stageDiff(a!.stage, b!.stage, repoRoot);
  if (opts.file) {
    changes = changes.filter((c) => c.module === opts.file || path.basename(c.module) === opts.file);
    if (changes.length === 0) throw new CommandError(`${opts.file} does not change from ${a!.name} to ${b!.name} (or is no module of theirs)`);
  }
  const paint = opts.color || process.stdout.isTTY ? colour : (s: string): string => s;
  for (const c of changes) console.log(paint(c.patch.replace(/^=+\n/, "")));
  console.log(pc.dim(`${a!.name} to ${b!.name}: ${changes.length} module(s) change (${changes.map((c) => `${path.basename(c.module)} ${c.kind}`).join(", ")})`));
  return 0;
}

/** xps view <stage> [module]: a module as the server has it at that stage, or the list of its modules. */
export function viewCommand(stageName: string, module: string | undefined): number {
  const stage = stageArg(stageName);
  const view = solvedView(repoRoot, stage.stage);
  if (module === undefined) {
    console.log(pc.bold(`${stage.name}: the server's modules at this stage`) + pc.dim(" (pnpm xps view STAGE FILE prints one)"));
    for (const m of [...view.keys()].sort()) console.log(`  ${m}${stage.teaches.includes(m) ? pc.dim("   (you write it in this stage)") : ""}`);
    return 0;
  }
  const found = [...view.keys()].filter((m) => m === module || path.basename(m) === module);
  if (found.length !== 1) {
    throw new UsageError(
      found.length === 0 ? `${stage.name}'s server has no module "${module}"` : `"${module}" is ambiguous: ${found.join(", ")}`,
      `pnpm xps view ${stage.name} lists them`,
    );
  }
  process.stdout.write(view.get(found[0]!)!);
  return 0;
}
