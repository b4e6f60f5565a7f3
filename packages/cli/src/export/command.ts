// xps export student OUT --through N
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import pc from "picocolors";
import { CommandError, UsageError, repoRoot, shown, stageArg, userPath } from "../context.ts";
import { readResultsIn } from "./results.ts";
import { exportStudent, installAndTest, scanExport } from "./export.ts";

export interface ExportCliOptions {
  through: string;
  force?: boolean;
  install?: boolean;
}

export async function exportCommand(kind: string, outArg: string, opts: ExportCliOptions): Promise<number> {
  if (kind !== "student") throw new UsageError(`there is no "${kind}" export`, "write pnpm xps export student OUT --through N");
  const stage = stageArg(opts.through);
  const out = userPath(outArg);
  if (out === repoRoot || repoRoot.startsWith(`${out}/`) || out.startsWith(`${repoRoot}/`)) {
    throw new UsageError(`${outArg} is inside the course (or holds it)`, "export to a folder outside the course, like ../course-student");
  }
  if (fs.existsSync(out)) {
    if (!fs.statSync(out).isDirectory()) throw new UsageError(`${outArg} is a file`, "name a new folder");
    if (fs.readdirSync(out).length > 0) {
      if (!opts.force) throw new UsageError(`${outArg} is not empty`, "name a new folder, or add --force to replace what it holds");
      for (const e of fs.readdirSync(out)) fs.rmSync(`${out}/${e}`, { recursive: true, force: true });
    }
  }
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
