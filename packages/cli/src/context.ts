// What every subcommand needs: the course's root, its stages, paths as the
// user typed them, and the one kind of error that means "wrong arguments".
import fs from "node:fs";
import path from "node:path";
import { withheldReferences } from "@xps/course/overrides";
import { findStage, listStages, repoRoot as courseRoot, type StageMeta } from "@xps/course/stages";

export type { StageMeta };

/**
 * The course checkout the command works on: the one it is part of, or
 * XPS_ROOT (the CLI's own tests point it at a scratch copy).
 */
export const repoRoot: string = process.env.XPS_ROOT ? path.resolve(process.env.XPS_ROOT) : courseRoot;

/**
 * Wrong arguments: printed as one line with the fix, exit code 2.
 * `fix` is the advice after the problem ("run pnpm xps status to see them").
 */
export class UsageError extends Error {
  readonly fix: string;
  constructor(message: string, fix = "") {
    super(message);
    this.name = "UsageError";
    this.fix = fix;
  }
}

/** A failure that is not about the arguments: printed as is, exit code 1. */
export class CommandError extends Error {
  readonly code: number;
  constructor(message: string, code = 1) {
    super(message);
    this.name = "CommandError";
    this.code = code;
  }
}

/** Where the user ran the command: pnpm runs root scripts in the root, but keeps INIT_CWD. */
export function userCwd(env: NodeJS.ProcessEnv = process.env): string {
  return env.INIT_CWD && fs.existsSync(env.INIT_CWD) ? env.INIT_CWD : process.cwd();
}

/** A path as the user typed it, made absolute against the folder they ran pnpm in. */
export function userPath(p: string, env: NodeJS.ProcessEnv = process.env): string {
  return path.resolve(userCwd(env), p);
}

/** A path to show: relative to the user's folder when that is shorter. */
export function shown(p: string, env: NodeJS.ProcessEnv = process.env): string {
  const rel = path.relative(userCwd(env), p);
  return rel === "" ? "." : rel.startsWith("..") && rel.length > p.length ? p : rel;
}

export function stages(root: string = repoRoot): StageMeta[] {
  return listStages(root);
}

/** Find a stage by "stage-10", "10" or its folder name, or fail with the list of stages. */
export function stageArg(name: string, root: string = repoRoot): StageMeta {
  const s = findStage(name, root);
  if (s === null) {
    const names = listStages(root).map((x) => x.name);
    throw new UsageError(`there is no stage "${name}"`, `pick one of ${names.join(", ")} (pnpm xps status lists them)`);
  }
  return s;
}

/** The stages a stage builds on, earliest first (transitively, from "builds"). */
export function previousStages(stage: StageMeta, root: string = repoRoot): StageMeta[] {
  const all = listStages(root);
  const seen = new Set<string>();
  const visit = (s: StageMeta): void => {
    for (const b of s.builds ?? []) {
      const dep = all.find((x) => x.name === b);
      if (dep && !seen.has(dep.name)) {
        seen.add(dep.name);
        visit(dep);
      }
    }
  };
  visit(stage);
  return all.filter((s) => seen.has(s.name));
}

/** The learner's files of a stage: src/<basename of each taught file>. */
export function learnerFiles(stage: StageMeta, dir = path.join(stage.dir, "src")): { reference: string; file: string }[] {
  return stage.teaches.map((reference) => ({ reference, file: path.join(dir, path.basename(reference)) }));
}

export function totalPoints(stage: StageMeta): number {
  return (stage.milestones ?? []).reduce((a, m) => a + m.points, 0);
}

/** --solution on a stage whose reference this copy of the course withholds (a student export): say so. */
export function assertReferenceHeld(stage: StageMeta): void {
  if (withheldReferences(stage.dir).length > 0) {
    throw new CommandError(`${stage.name}'s reference solution is not part of this copy of the course (it comes with the next release), so --solution cannot run it; without --solution, your own code runs`);
  }
}
