// The course's stages, read from stages/*/package.json ("xps" field).
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findRepoRoot, learnerFileFor, readStageMeta, type StageMetaJson } from "../variant/overrides.mjs";
import { fileStages, viewOf } from "../variant/views.mjs";
import { parseRegions, skeletonHeader, solvedFor, type Region } from "./skeleton.ts";

export type StageMeta = StageMetaJson;

export const repoRoot: string = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));

export function listStages(root: string = repoRoot): StageMeta[] {
  const dir = path.join(root, "stages");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((d) => path.join(dir, d))
    .filter((d) => fs.existsSync(path.join(d, "package.json")))
    .map((d) => readStageMeta(d))
    .filter((m) => typeof m.stage === "number")
    .sort((a, b) => a.stage - b.stage);
}

/** Find a stage by "stage-11", "11" or "stage-11-upstream". */
export function findStage(name: string, root: string = repoRoot): StageMeta | null {
  const n = /^(?:stage-)?0*(\d+)(?:-.*)?$/.exec(name.trim());
  return listStages(root).find((s) => (n ? s.stage === Number(n[1]) : s.name === name)) ?? null;
}

export interface TaughtFile {
  /** Repo-relative path of the reference file. */
  reference: string;
  /** Absolute path of the learner's copy in the stage. */
  learner: string;
  regions: Region[];
}

/** Where a standalone stage (one that uses none of the server) keeps its reference solution. */
export const STANDALONE_REFERENCE = "reference";

/** Whether a stage is standalone: its program is its own, not a view of the server. */
export function isStandalone(stage: StageMeta): boolean {
  return fs.existsSync(path.join(stage.dir, STANDALONE_REFERENCE));
}

/**
 * A module as it stands in the view of a stage (or, for a standalone stage's
 * own reference file, as it is); throws when the view does not hold it.
 */
export function moduleText(stage: StageMeta, module: string, root: string = repoRoot, view = viewOf(root, stage.stage)): string {
  const m = view.get(module);
  if (m !== undefined) return m.text;
  const own = path.relative(root, path.join(stage.dir, STANDALONE_REFERENCE)).split(path.sep).join("/");
  if (module.startsWith(`${own}/`) && fs.existsSync(path.join(root, module))) return fs.readFileSync(path.join(root, module), "utf8");
  throw new Error(`${stage.name} teaches ${module}, which its view does not hold (check the file's @stages tag)`);
}

/**
 * A learner's file of a stage once the stage is solved: the module as it
 * stands in the stage's view, its header, every region of this stage and
 * earlier ones kept, later ones stubs. With `stubTodo`, that TODO of this
 * stage alone stays a stub too (the catalogue's "stub left in place").
 */
export function solvedFile(stage: StageMeta, module: string, root: string = repoRoot, stubTodo?: number, view?: ReturnType<typeof viewOf>): string {
  return skeletonHeader(stage.name, module) + solvedFor(moduleText(stage, module, root, view), module, stage.stage, stubTodo);
}

export function taughtFiles(stage: StageMeta, root: string = repoRoot): TaughtFile[] {
  const view = viewOf(root, stage.stage);
  return stage.teaches.map((reference) => ({
    reference,
    learner: path.join(stage.dir, "src", learnerFileFor(reference)),
    regions: parseRegions(moduleText(stage, reference, root, view), reference),
  }));
}

/** Packages of course tooling: their text talks about markers, it holds none. */
const TOOLING = new Set(["course", "testkit", "cli"]);

/**
 * Every reference file (under packages/<name>/src) that holds solution
 * regions, with the module it stands for in the views (itself, unless it is
 * an earlier form with @view-as).
 */
export function markedFiles(root: string = repoRoot): { file: string; module: string; regions: Region[] }[] {
  const out: { file: string; module: string; regions: Region[] }[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === "node_modules") continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".ts")) {
        const text = fs.readFileSync(p, "utf8");
        const file = path.relative(root, p);
        if (text.includes("@solution")) out.push({ file, module: fileStages(text, file).as, regions: parseRegions(text, file) });
      }
    }
  };
  for (const pkg of fs.readdirSync(path.join(root, "packages"))) {
    const src = path.join(root, "packages", pkg, "src");
    if (!TOOLING.has(pkg) && fs.existsSync(src)) walk(src);
  }
  // A standalone stage (phase 0: stages 1 to 5, whose programs use none of
  // the server) keeps its reference solution in its own reference/ folder.
  const stagesDir = path.join(root, "stages");
  if (fs.existsSync(stagesDir)) {
    for (const d of fs.readdirSync(stagesDir)) {
      const reference = path.join(stagesDir, d, STANDALONE_REFERENCE);
      if (fs.existsSync(reference)) walk(reference);
    }
  }
  return out;
}
