// What grading reads: the submissions (folders holding a learner's stages/)
// and an instructor's hidden tests.
import fs from "node:fs";
import path from "node:path";
import { UsageError, type StageMeta } from "../context.ts";

export interface Submission {
  /** The folder's name (or "checkout" for the current checkout). */
  name: string;
  dir: string;
  /** The folder holding its stage folders, or null when there is none. */
  stagesDir: string | null;
}

function isStageFolder(dir: string): boolean {
  const pkg = path.join(dir, "package.json");
  if (fs.existsSync(pkg)) {
    try {
      return typeof (JSON.parse(fs.readFileSync(pkg, "utf8")) as { xps?: { stage?: unknown } }).xps?.stage === "number";
    } catch {
      return false;
    }
  }
  return /^stage-\d+/.test(path.basename(dir)) && fs.existsSync(path.join(dir, "src"));
}

/** A submission's stages folder: DIR/stages, or DIR itself when it holds stage folders. */
export function stagesDirOf(dir: string): string | null {
  if (fs.existsSync(path.join(dir, "stages")) && fs.statSync(path.join(dir, "stages")).isDirectory()) return path.join(dir, "stages");
  const kids = fs.readdirSync(dir, { withFileTypes: true }).filter((e) => e.isDirectory());
  return kids.some((e) => isStageFolder(path.join(dir, e.name))) ? dir : null;
}

/** Every folder under DIR is a submission (sorted by name; dot folders skipped). */
export function findSubmissions(dir: string): Submission[] {
  if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`--submissions ${dir} is not a folder`, "name the folder that holds one folder per submission");
  // A folder, or a link to one (Gradescope's run_autograder links /autograder/submission).
  const isFolder = (name: string): boolean => {
    try {
      return fs.statSync(path.join(dir, name)).isDirectory();
    } catch {
      return false;
    }
  };
  const subs = fs
    .readdirSync(dir)
    .filter((name) => !name.startsWith(".") && isFolder(name))
    .sort((a, b) => a.localeCompare(b, "en", { numeric: true }))
    .map((name) => ({ name, dir: path.join(dir, name), stagesDir: stagesDirOf(path.join(dir, name)) }));
  if (subs.length === 0) throw new UsageError(`--submissions ${dir} holds no folders`, "put one folder per submission in it (a copy of the learner's repository, or of its stages/)");
  return subs;
}

/** A submission's folder for a stage: the same folder name, or the same package name, or "stage-NN...". */
export function submissionStageDir(sub: Submission, stage: StageMeta): string | null {
  if (sub.stagesDir === null) return null;
  const exact = path.join(sub.stagesDir, path.basename(stage.dir));
  if (fs.existsSync(exact)) return exact;
  for (const e of fs.readdirSync(sub.stagesDir, { withFileTypes: true })) {
    if (!e.isDirectory()) continue;
    const d = path.join(sub.stagesDir, e.name);
    try {
      if ((JSON.parse(fs.readFileSync(path.join(d, "package.json"), "utf8")) as { name?: string }).name === stage.name) return d;
    } catch {
      // no package.json: match by name below
    }
    if (e.name === stage.name || e.name.startsWith(`${stage.name}-`)) return d;
  }
  return null;
}

export interface HiddenMilestone {
  id: string;
  title: string;
  points: number;
}

export interface HiddenTests {
  stage: string;
  /** The instructor's folder for this stage. */
  dir: string;
  files: string[];
  milestones: HiddenMilestone[];
}

/**
 * Hidden tests of a stage: DIR/<stage name>/ (or DIR/<stage folder name>/,
 * or DIR/<stage number>/) with *.test.ts files and, for hidden milestones of
 * their own, hidden.json: {"milestones": [{"id": "x1", "title": "...", "points": 10}]}.
 */
export function findHidden(dir: string, stage: StageMeta): HiddenTests | null {
  const candidates = [stage.name, path.basename(stage.dir), String(stage.stage)].map((n) => path.join(dir, n));
  const found = candidates.find((c) => fs.existsSync(c) && fs.statSync(c).isDirectory());
  if (!found) return null;
  const files: string[] = [];
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory() && e.name !== "node_modules") walk(p);
      else if (e.isFile()) files.push(path.relative(found, p));
    }
  };
  walk(found);
  if (!files.some((f) => f.endsWith(".test.ts"))) throw new UsageError(`the hidden tests in ${found} hold no *.test.ts file`, "add test files, or remove the folder");
  let milestones: HiddenMilestone[] = [];
  const manifest = path.join(found, "hidden.json");
  if (fs.existsSync(manifest)) {
    let json: { milestones?: HiddenMilestone[] };
    try {
      json = JSON.parse(fs.readFileSync(manifest, "utf8")) as { milestones?: HiddenMilestone[] };
    } catch (err) {
      throw new UsageError(`${manifest} is not valid JSON (${(err as Error).message})`, 'write {"milestones": [{"id": "x1", "title": "...", "points": 10}]}');
    }
    milestones = json.milestones ?? [];
    const seen = new Set<string>();
    for (const m of milestones) {
      if (!/^x\d+$/.test(m.id ?? "")) throw new UsageError(`${manifest}: hidden milestone ids are "x1", "x2", ..., not "${m.id}"`, "rename it");
      if (seen.has(m.id)) throw new UsageError(`${manifest}: ${m.id} is declared twice`, "give each hidden milestone its own id");
      seen.add(m.id);
      if (typeof m.title !== "string" || m.title.trim() === "") throw new UsageError(`${manifest}: ${m.id} has no title`, 'add "title"');
      if (!(typeof m.points === "number" && m.points > 0)) throw new UsageError(`${manifest}: ${m.id} has no points`, 'add "points" above 0');
    }
  }
  return { stage: stage.name, dir: found, files, milestones };
}

/** A folder name made safe for the file system and for reports. */
export function safeName(name: string): string {
  return name.replace(/[^A-Za-z0-9._-]+/g, "_").replace(/^\.+/, "_") || "_";
}
