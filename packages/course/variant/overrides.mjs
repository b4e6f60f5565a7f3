// Which files make up a stage's server.
//
// Every stage runs the server as it stands at that stage: its view (see
// views.mjs), written under the stage's .xps/view/. Every import of a
// reference module, from anywhere in the process, loads the module's view
// file instead. A stage lists, in its package.json ("xps.teaches"), the
// modules it teaches, for example packages/core/src/pipe.ts. In the learner
// variant (the default) those load the stage's own copies instead
// (src/pipe.ts), tests included. With XPS_VARIANT=solution only the view is
// loaded. XPS_LEARNER_DIR points at another folder of learner files (the
// course's checks use a pristine skeleton there; grading uses a
// submission's), and XPS_OWN=1 lets the learner's files of earlier stages
// stand in for the reference modules they solved.
//
// Plain JavaScript on purpose: Node loads it before any TypeScript loader.
import fs from "node:fs";
import path from "node:path";
import { viewDir, viewOf, writeView } from "./views.mjs";

export const VARIANTS = ["learner", "solution"];

/** The variant chosen by XPS_VARIANT; a typo is an error, not a silent default. */
export function variantName(env = process.env) {
  const v = env.XPS_VARIANT;
  if (v === undefined || v === "") return "learner";
  if (!VARIANTS.includes(v)) {
    throw new Error(`XPS_VARIANT must be "learner" or "solution", not "${v}"`);
  }
  return v;
}

/** The course's root folder: the nearest folder above `from` with a pnpm-workspace.yaml. */
export function findRepoRoot(from) {
  let dir = path.resolve(from);
  for (;;) {
    if (fs.existsSync(path.join(dir, "pnpm-workspace.yaml"))) return dir;
    const up = path.dirname(dir);
    if (up === dir) throw new Error(`no pnpm-workspace.yaml above ${from}`);
    dir = up;
  }
}

/** The stage package containing `from` (a package.json with an "xps" field), or null. */
export function findStageDir(from) {
  let dir = path.resolve(from);
  for (;;) {
    const pkg = path.join(dir, "package.json");
    if (fs.existsSync(pkg)) {
      const json = JSON.parse(fs.readFileSync(pkg, "utf8"));
      if (json.xps && typeof json.xps.stage === "number") return dir;
    }
    const up = path.dirname(dir);
    if (up === dir) return null;
    dir = up;
  }
}

export function readStageMeta(stageDir) {
  const json = JSON.parse(fs.readFileSync(path.join(stageDir, "package.json"), "utf8"));
  if (!json.xps) throw new Error(`${stageDir}/package.json has no "xps" field`);
  return { name: json.name, dir: stageDir, ...json.xps };
}

/** Where the learner's files of a stage are: XPS_LEARNER_DIR or the stage's src/. */
export function learnerDir(stageDir, env = process.env) {
  return env.XPS_LEARNER_DIR ? path.resolve(env.XPS_LEARNER_DIR) : path.join(stageDir, "src");
}

/** The learner's file that stands for a reference module: src/<its file name>. */
export function learnerFileFor(reference) {
  return path.basename(reference);
}

function real(p) {
  try {
    return fs.realpathSync(p);
  } catch {
    return path.resolve(p);
  }
}

/** Every stage folder of the course (stages/*, with an "xps" field), by stage number. */
export function stageDirs(root) {
  const dir = path.join(root, "stages");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .map((d) => path.join(dir, d))
    .filter((d) => fs.existsSync(path.join(d, "package.json")) && JSON.parse(fs.readFileSync(path.join(d, "package.json"), "utf8")).xps)
    .map((d) => ({ dir: d, meta: readStageMeta(d) }))
    .sort((a, b) => a.meta.stage - b.meta.stage);
}

/**
 * The taught modules whose solution this copy of the course does not hold:
 * in a student export through stage N, stage N's regions are stubs
 * (`throw todo("stage-N", ...)`), which never happens in the course itself.
 */
export function withheldReferences(stageDir, view) {
  const meta = readStageMeta(stageDir);
  const root = findRepoRoot(stageDir);
  const v = view ?? viewOf(root, meta.stage);
  // A standalone stage's own reference file is not part of any view.
  const text = (module) => v.get(module)?.text ?? (fs.existsSync(path.join(root, module)) ? fs.readFileSync(path.join(root, module), "utf8") : "");
  return (meta.teaches ?? []).filter((module) => text(module).includes(`throw todo("${meta.name}",`));
}

/**
 * The modules that earlier stages taught and that this stage does not, whose
 * form has not changed since the stage that taught them: the learner's own
 * solved files of those stages can stand in for the reference here.
 * module -> the stage that taught it (the latest such stage wins).
 */
export function ownCandidates(stageDir, view) {
  const meta = readStageMeta(stageDir);
  const root = findRepoRoot(stageDir);
  const mine = view ?? viewOf(root, meta.stage);
  const own = new Map();
  for (const earlier of stageDirs(root)) {
    if (earlier.meta.stage >= meta.stage) break;
    const then = viewOf(root, earlier.meta.stage);
    for (const module of earlier.meta.teaches ?? []) {
      if ((meta.teaches ?? []).includes(module)) continue;
      if (!mine.has(module)) continue; // not part of this stage's server (a standalone stage's own program)
      if (then.get(module)?.text === mine.get(module)?.text) own.set(module, earlier);
      else own.delete(module); // changed since: the reference stands in
    }
  }
  return own;
}

/**
 * With XPS_OWN=1: the learner's own files for ownCandidates, where the
 * learner has them. module -> { stage, file }.
 */
export function ownFilesFor(stageDir, env = process.env, view) {
  const own = new Map();
  for (const [module, earlier] of ownCandidates(stageDir, view)) {
    const file = path.join(earlier.dir, "src", learnerFileFor(module));
    if (fs.existsSync(file)) own.set(module, { stage: earlier.meta.name, file });
  }
  return own;
}

/**
 * The stage's view alone, learner files left out: reference file -> its view
 * file (absolute real paths), or -> null for a module the view does not hold.
 * This is what the test runner loads: a learner's module is only ever loaded
 * in a child process (a server, or an in-process check's probe).
 */
export function viewOverrides(stageDir) {
  const meta = readStageMeta(stageDir);
  const root = findRepoRoot(stageDir);
  const { map: viewMap, view } = writeView(root, meta.stage, viewDir(stageDir));
  const map = new Map();
  for (const [ref, target] of viewMap) map.set(real(ref), target === null ? null : real(target));
  return { map, view };
}

/**
 * What the stage's server and tests load instead of each reference file:
 * reference file -> file to load (absolute real paths), or -> null for a
 * module that the stage's view does not hold (importing it is an error).
 * Every module loads its view file (the server as it stands at this stage);
 * in the learner variant the taught modules load the learner's files, and
 * with XPS_OWN=1 the learner's earlier files stand in for the reference
 * where they can. Throws when a learner file is missing, naming the fix.
 */
export function overridesFor(stageDir, env = process.env) {
  const meta = readStageMeta(stageDir);
  const root = findRepoRoot(stageDir);
  const variant = variantName(env);
  const dirOfView = viewDir(stageDir);
  const { map, view } = viewOverrides(stageDir);
  // A module that the learner's file stands for is reached by its reference
  // path and, from inside the view (a package's imports of its own name
  // resolve there), by its view path.
  const replace = (module, file) => {
    map.set(real(path.join(root, module)), real(file));
    map.set(real(path.join(dirOfView, module)), real(file));
  };
  if (variant === "solution") {
    if (withheldReferences(stageDir, view).length > 0) {
      throw new Error(
        `${meta.name}'s reference solution is not part of this copy of the course (it comes with the next release), so XPS_VARIANT=solution cannot run it; run your own code without XPS_VARIANT`,
      );
    }
    return map;
  }
  if (env.XPS_OWN === "1") {
    for (const [module, { file }] of ownFilesFor(stageDir, env, view)) replace(module, file);
  }
  const dir = learnerDir(stageDir, env);
  for (const module of meta.teaches ?? []) {
    const mine = path.join(dir, learnerFileFor(module));
    if (!fs.existsSync(mine)) {
      throw new Error(
        `${meta.name}: ${path.relative(process.cwd(), mine) || mine} is missing; restore it with: pnpm xps reset ${meta.name}`,
      );
    }
    replace(module, mine);
  }
  return map;
}
