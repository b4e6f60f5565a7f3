// pnpm gen            regenerate every stage's skeleton files from the reference,
//                     and the generated blocks and code excerpts of the pages
// pnpm gen --check    report drift (a committed skeleton or page that differs) and exit 1
import fs from "node:fs";
import path from "node:path";
import { listStages, moduleText, repoRoot, taughtFiles } from "./stages.ts";
import { StageTagError, viewDir, viewOf, writeView } from "../variant/views.mjs";
import { stageTsconfig } from "./view-check.ts";
import { expectedGuides } from "./guide-blocks.ts";
import { MarkerError, skeletonFor } from "./skeleton.ts";
import { ExcerptError } from "./excerpts.ts";
import { isMainModule } from "@xps/utils/args";

export interface Drift {
  stage: string;
  file: string;
  problem: "missing" | "differs";
}

/** The skeleton files every stage should have, with their generated text. */
export function expectedSkeletons(root: string = repoRoot): { stage: string; file: string; text: string }[] {
  const out: { stage: string; file: string; text: string }[] = [];
  for (const stage of listStages(root)) {
    const view = viewOf(root, stage.stage);
    for (const t of taughtFiles(stage, root)) {
      const text = moduleText(stage, t.reference, root, view);
      out.push({ stage: stage.name, file: t.learner, text: skeletonFor(text, t.reference, stage.stage, stage.name) });
    }
  }
  return out;
}

/**
 * Every file pnpm gen writes: the skeletons, each stage's tsconfig.json (see
 * stageTsconfig), and the generated blocks of the stage guides.
 */
export function expectedGenerated(root: string = repoRoot): { stage: string; file: string; text: string }[] {
  const tsconfigs = listStages(root).map((stage) => ({ stage: stage.name, file: path.join(stage.dir, "tsconfig.json"), text: stageTsconfig(stage, root) }));
  return [...expectedSkeletons(root), ...tsconfigs, ...expectedGuides(root)];
}

export function findDrift(root: string = repoRoot): Drift[] {
  const drift: Drift[] = [];
  for (const s of expectedGenerated(root)) {
    if (!fs.existsSync(s.file)) drift.push({ stage: s.stage, file: s.file, problem: "missing" });
    else if (fs.readFileSync(s.file, "utf8") !== s.text) drift.push({ stage: s.stage, file: s.file, problem: "differs" });
  }
  return drift;
}

/** Write the pristine skeleton files of one stage into `dir` (default: the stage's src/). */
export function writeSkeleton(stageName: string, dir?: string, root: string = repoRoot): string[] {
  const written: string[] = [];
  for (const s of expectedSkeletons(root).filter((x) => x.stage === stageName)) {
    const target = dir ? path.join(dir, path.basename(s.file)) : s.file;
    fs.mkdirSync(path.dirname(target), { recursive: true });
    fs.writeFileSync(target, s.text);
    written.push(target);
  }
  return written;
}

if (isMainModule(import.meta.url)) {
  try {
    if (process.argv.includes("--check")) {
      const drift = findDrift();
      for (const d of drift) console.log(`drift: ${d.stage} ${path.relative(repoRoot, d.file)} ${d.problem}`);
      console.log(drift.length === 0 ? "skeletons and the pages' generated blocks match the reference" : `${drift.length} generated file(s) differ; run pnpm gen`);
      process.exit(drift.length === 0 ? 0 : 1);
    }
    // The views, for editors and tsc (every run writes its own view too).
    for (const stage of listStages()) writeView(repoRoot, stage.stage, viewDir(stage.dir));
    for (const s of expectedGenerated()) {
      fs.mkdirSync(path.dirname(s.file), { recursive: true });
      const before = fs.existsSync(s.file) ? fs.readFileSync(s.file, "utf8") : null;
      if (before !== s.text) {
        fs.writeFileSync(s.file, s.text);
        console.log(`wrote ${path.relative(repoRoot, s.file)}`);
      }
    }
  } catch (err) {
    // A page's excerpt names a region its source no longer has, a marker is malformed, ...: say where, without a stack.
    if (!(err instanceof ExcerptError || err instanceof MarkerError || err instanceof StageTagError)) throw err;
    console.error(`pnpm gen: ${err.message}`);
    process.exit(1);
  }
}
