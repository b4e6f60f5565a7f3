// xps grade: the instructor's command.
//
//   pnpm xps grade [--stage N ...] [--submissions DIR] [--tests DIR]
//                  [--format table|json|gradescope|junit|csv ...] [--out DIR]
//
// Files in --out: grades.json, grades.csv, junit.xml, and Gradescope's
// results.json per submission in gradescope/<submission>/results.json (and
// directly in --out when there is one submission).
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import pc from "picocolors";
import { UsageError, repoRoot, shown, stageArg, stages as allStages, userPath, type StageMeta } from "../context.ts";
import { GRADESCOPE_VISIBILITIES, toCsv, toGradescope, toJson, toJunit, toTable, type GradescopeVisibility } from "./formats.ts";
import { gradeAll } from "./grade.ts";
import { findHidden, findSubmissions, safeName, type HiddenTests, type Submission } from "./sources.ts";

export interface GradeCliOptions {
  stage?: string[];
  submissions?: string;
  tests?: string;
  format?: string[];
  out?: string;
  milestoneTimeout?: string;
  runTimeout?: string;
  sandbox?: string;
  hiddenVisibility?: string;
  milestone?: string[];
  quiet?: boolean;
}

const SANDBOXES = ["auto", "bubblewrap", "namespaces", "none", "off"];

function seconds(value: string | undefined, option: string): number | undefined {
  if (value === undefined) return undefined;
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new UsageError(`${option} wants a number of seconds above 0, not "${value}"`, `try ${option} 120`);
  return Math.round(n * 1000);
}

/** Warn when the current checkout's tests or testkit differ from what git has: they are what this grade uses. */
function editedTests(root: string): string[] {
  const r = spawnSync("git", ["status", "--porcelain", "--", "stages/*/test", "packages/testkit", "packages/course"], { cwd: root, encoding: "utf8" });
  if (r.status !== 0) return [];
  return r.stdout
    .split("\n")
    .filter((l) => l.trim() !== "")
    .map((l) => l.slice(3));
}

export async function gradeCommand(opts: GradeCliOptions): Promise<number> {
  const stages: StageMeta[] = opts.stage && opts.stage.length > 0 ? [...new Map(opts.stage.flatMap((s) => s.split(",")).filter(Boolean).map((s) => stageArg(s)).map((s) => [s.name, s])).values()].sort((a, b) => a.stage - b.stage) : allStages();
  const formats = opts.format && opts.format.length > 0 ? [...new Set(opts.format)] : ["table"];
  const testTimeoutMs = seconds(opts.milestoneTimeout, "--milestone-timeout");
  const runTimeoutMs = seconds(opts.runTimeout ?? "600", "--run-timeout")!;

  let submissions: Submission[];
  if (opts.submissions) submissions = findSubmissions(userPath(opts.submissions));
  else {
    submissions = [{ name: "checkout", dir: repoRoot, stagesDir: path.join(repoRoot, "stages") }];
    const edited = editedTests(repoRoot);
    if (edited.length > 0) {
      process.stderr.write(pc.yellow(`warning: these course files differ from git's, and this grade uses them as they are: ${edited.slice(0, 5).join(", ")}${edited.length > 5 ? ", ..." : ""}\n`));
    }
  }
  const hidden = new Map<string, HiddenTests>();
  if (opts.tests) {
    const dir = userPath(opts.tests);
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new UsageError(`--tests ${opts.tests} is not a folder`, "name the folder that holds stage-NN/ folders of hidden tests");
    for (const s of stages) {
      const h = findHidden(dir, s);
      if (h) hidden.set(s.name, h);
    }
    if (hidden.size === 0) throw new UsageError(`--tests ${opts.tests} holds no folder for ${stages.map((s) => s.name).join(" or ")}`, "put the hidden tests of stage NN in DIR/stage-NN/");
  }
  const outDir = userPath(opts.out ?? path.join(repoRoot, ".xps", "grades"));
  const sandbox = opts.sandbox ?? "auto";
  if (!SANDBOXES.includes(sandbox)) throw new UsageError(`--sandbox ${sandbox} is not one of ${SANDBOXES.join(", ")}`, "leave it out for the strongest this machine offers (auto)");
  const visibility = (opts.hiddenVisibility ?? "after_published") as GradescopeVisibility;
  if (!GRADESCOPE_VISIBILITIES.includes(visibility)) throw new UsageError(`--hidden-visibility ${visibility} is not one of ${GRADESCOPE_VISIBILITIES.join(", ")}`, "Gradescope knows these four");
  const log = opts.quiet ? undefined : (line: string): void => void process.stderr.write(`${pc.dim(line)}\n`);
  log?.(`grading ${submissions.length} submission(s), ${stages.map((s) => s.name).join(", ")}${hidden.size ? `, with hidden tests for ${[...hidden.keys()].join(", ")}` : ""}`);

  let milestones: string[] | undefined;
  if (opts.milestone && opts.milestone.length > 0) {
    milestones = [...new Set(opts.milestone.flatMap((m) => m.split(",")).map((m) => m.trim().toLowerCase()).filter(Boolean))];
    const known = new Set([...stages.flatMap((s) => (s.milestones ?? []).map((m) => m.id)), ...[...hidden.values()].flatMap((h) => h.milestones.map((m) => m.id))]);
    const unknown = milestones.filter((m) => !known.has(m));
    if (unknown.length > 0) throw new UsageError(`--milestone ${unknown.join(", ")}: no graded stage has ${unknown.length === 1 ? "that milestone" : "those milestones"}`, "use ids such as m1 or x1");
  }
  const grades = await gradeAll({ stages, submissions, hidden, testTimeoutMs, runTimeoutMs, log, root: repoRoot, sandbox, milestones, protect: [outDir, ...(opts.submissions ? [userPath(opts.submissions)] : [])] });
  const names = stages.map((s) => s.name);
  const written: string[] = [];
  const write = (file: string, text: string): void => {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, text);
    written.push(file);
  };
  for (const f of formats) {
    if (f === "table") console.log(toTable(grades, names));
    else if (f === "json") write(path.join(outDir, "grades.json"), toJson(grades));
    else if (f === "csv") write(path.join(outDir, "grades.csv"), toCsv(grades, names));
    else if (f === "junit") write(path.join(outDir, "junit.xml"), toJunit(grades));
    else if (f === "gradescope") {
      for (const g of grades) write(path.join(outDir, "gradescope", safeName(g.submission), "results.json"), `${JSON.stringify(toGradescope(g, visibility), null, 2)}\n`);
      if (grades.length === 1) write(path.join(outDir, "results.json"), `${JSON.stringify(toGradescope(grades[0]!, visibility), null, 2)}\n`);
    }
  }
  for (const w of written) console.log(`wrote ${shown(w)}`);
  return 0;
}
