// Which files make up a stage's server: the learner's or the reference.
//
// A stage lists, in its package.json ("xps.teaches"), the reference modules
// it teaches, for example packages/core/src/pipe.ts. In the learner variant
// (the default) every import of such a module, from anywhere in the server,
// loads the stage's own copy instead (src/pipe.ts): the learner's file
// replaces the reference one for the whole process, tests included. With
// XPS_VARIANT=solution nothing is replaced. XPS_LEARNER_DIR points at another
// folder of learner files (the course's checks use a pristine skeleton there;
// grading uses a submission's).
//
// Plain JavaScript on purpose: Node loads it before any TypeScript loader.
import fs from "node:fs";
import path from "node:path";

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

/**
 * reference file -> learner file, both absolute real paths; empty in the
 * solution variant. Throws when a learner file is missing, naming the fix.
 */
/**
 * The taught reference files whose solution this copy of the course does not
 * hold: in a student export through stage N, stage N's regions are stubs
 * (`throw todo("stage-N", ...)`), which never happens in the course itself.
 */
export function withheldReferences(stageDir) {
  const meta = readStageMeta(stageDir);
  const root = findRepoRoot(stageDir);
  return (meta.teaches ?? []).filter((reference) => {
    const file = path.join(root, reference);
    return fs.existsSync(file) && fs.readFileSync(file, "utf8").includes(`throw todo("${meta.name}",`);
  });
}

export function overridesFor(stageDir, env = process.env) {
  const map = new Map();
  const meta = readStageMeta(stageDir);
  const root = findRepoRoot(stageDir);
  if (variantName(env) === "solution") {
    if (withheldReferences(stageDir).length > 0) {
      throw new Error(
        `${meta.name}'s reference solution is not part of this copy of the course (it comes with the next release), so XPS_VARIANT=solution cannot run it; run your own code without XPS_VARIANT`,
      );
    }
    return map;
  }
  const dir = learnerDir(stageDir, env);
  for (const reference of meta.teaches ?? []) {
    const mine = path.join(dir, learnerFileFor(reference));
    if (!fs.existsSync(mine)) {
      throw new Error(
        `${meta.name}: ${path.relative(process.cwd(), mine) || mine} is missing; restore it with: pnpm xps reset ${meta.name}`,
      );
    }
    map.set(real(path.join(root, reference)), real(mine));
  }
  return map;
}
