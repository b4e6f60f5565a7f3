// xps export student OUT --through N
// xps export gradescope --stage N OUT [--tests DIR]
// xps export classroom --stage N OUT
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pc from "picocolors";
import { CommandError, UsageError, repoRoot, shown, stageArg, userPath } from "../context.ts";
import { readResultsIn } from "./results.ts";
import { exportStudent, installAndTest, scanExport } from "./export.ts";
import { exportClassroom, exportGradescope } from "./autograder.ts";
import { GRADESCOPE_VISIBILITIES, type GradescopeVisibility } from "../grade/formats.ts";

export interface ExportCliOptions {
  through?: string;
  stage?: string;
  tests?: string;
  runTimeout?: string;
  hiddenVisibility?: string;
  force?: boolean;
  install?: boolean;
}

/** OUT must be a new or empty folder (or --force). */
function prepareOut(outArg: string, force: boolean | undefined): string {
  const out = userPath(outArg);
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new UsageError(`${outArg} is a file`, "name a new folder");
    if (fs.readdirSync(out).length > 0) {
      if (!force) throw new UsageError(`${outArg} is not empty`, "name a new folder, or add --force to replace what it holds");
      for (const e of fs.readdirSync(out)) fs.rmSync(`${out}/${e}`, { recursive: true, force: true });
    }
  }
  return out;
}

async function exportAutograder(kind: "gradescope" | "classroom", outArg: string, opts: ExportCliOptions): Promise<number> {
  if (!opts.stage) throw new UsageError(`xps export ${kind} needs --stage N`, `write pnpm xps export ${kind} --stage 10 OUT`);
  const stage = stageArg(opts.stage);
  const out = userPath(outArg);
  if (out === repoRoot || out.startsWith(`${repoRoot}/`)) throw new UsageError(`${outArg} is inside the course`, "export to a folder outside the course, like ../autograder");
  if (kind === "classroom") {
    const file = exportClassroom(stage, out);
    console.log(`wrote ${shown(file)}: one graded step per milestone of ${stage.name}; commit it to the learners' template repository`);
    return 0;
  }
  const runTimeout = Number(opts.runTimeout ?? "600");
  if (!Number.isFinite(runTimeout) || runTimeout <= 0) throw new UsageError(`--run-timeout wants a number of seconds above 0, not "${opts.runTimeout}"`, "try --run-timeout 600");
  const visibility = (opts.hiddenVisibility ?? "after_published") as GradescopeVisibility;
  if (!GRADESCOPE_VISIBILITIES.includes(visibility)) throw new UsageError(`--hidden-visibility ${visibility} is not one of ${GRADESCOPE_VISIBILITIES.join(", ")}`, "Gradescope knows these four");
  const tests = opts.tests ? userPath(opts.tests) : undefined;
  if (tests && !fs.existsSync(tests)) throw new UsageError(`--tests ${opts.tests} is not a folder`, "name the folder that holds stage-NN/ folders of hidden tests");
  prepareOut(outArg, opts.force);
  const r = exportGradescope(repoRoot, stage, out, { tests, runTimeout, hiddenVisibility: visibility });
  console.log(`wrote ${shown(out)}: setup.sh, run_autograder, the course${tests ? " and the hidden tests" : ""} (${r.files} files) for ${stage.name}`);
  console.log(`next: cd ${shown(out)} && zip -r ../autograder.zip . (then upload autograder.zip to Gradescope)`);
  return 0;
}

export async function exportCommand(kind: string, outArg: string, opts: ExportCliOptions): Promise<number> {
  if (kind === "gradescope" || kind === "classroom") return exportAutograder(kind, outArg, opts);
  if (kind !== "student") throw new UsageError(`there is no "${kind}" export`, "write pnpm xps export student OUT --through N");
  if (!opts.through) throw new UsageError("xps export student needs --through N", "write pnpm xps export student OUT --through 11");
  const stage = stageArg(opts.through);
  const out = userPath(outArg);
  if (out === repoRoot || repoRoot.startsWith(`${out}/`) || out.startsWith(`${repoRoot}/`)) {
    throw new UsageError(`${outArg} is inside the course (or holds it)`, "export to a folder outside the course, like ../course-student");
  }
  prepareOut(outArg, opts.force);
  const r = exportStudent(repoRoot, out, stage.stage);
  console.log(`wrote ${shown(out)}: ${r.files} files, stages ${r.stages.map((s) => s.name).join(", ")}; no solution of ${stage.name} or later`);
  const leaks = scanExport(out, stage.stage, repoRoot);
  if (leaks.length > 0) {
    for (const l of leaks) console.log(pc.red(`  leak: ${l.file}: ${l.what}`));
    throw new CommandError(`the export holds ${leaks.length} solution part(s) it must not; do not publish it`);
  }
  console.log(pc.dim("  leak check: no region of the withheld stages, by code fingerprint, marker or stage folder"));
  if (!opts.install) {
    console.log(`next: cd ${shown(out)} && pnpm install && pnpm test --filter ${stage.name}`);
    return 0;
  }
  console.log(`installing and running pnpm test --filter ${stage.name} in ${shown(out)} (needs the npm registry) ...`);
  const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), "xps-export-check-"));
  const check = installAndTest(out, stage.name, resultsDir);
  const results = readResultsIn(resultsDir, stage.name);
  fs.rmSync(resultsDir, { recursive: true, force: true });
  if (!check.installed) {
    console.log(check.installOutput.trim().split("\n").slice(-15).join("\n"));
    throw new CommandError("pnpm install failed in the export");
  }
  const failed = results ? Object.values(results.milestones).filter((m) => m.status === "failed").length : 0;
  console.log(`pnpm test --filter ${stage.name}: exit ${check.testExit}, ${failed} of ${stage.milestones?.length ?? 0} milestones fail (a learner's pristine start)`);
  return 0;
}
