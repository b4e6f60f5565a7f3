// The learner's last results, as the xps reporter recorded them.
import fs from "node:fs";
import { resultsFile, type StageResults } from "@xps/testkit/results";
import { learnerFiles, repoRoot, type StageMeta } from "./context.ts";

export function readResults(stage: StageMeta, root: string = repoRoot, variant: "learner" | "solution" = "learner"): StageResults | null {
  try {
    return JSON.parse(fs.readFileSync(resultsFile(root, stage.name, variant, process.env), "utf8")) as StageResults;
  } catch {
    return null;
  }
}

export interface Progress {
  results: StageResults | null;
  passed: string[];
  failed: string[];
  notRun: string[];
  earned: number;
  max: number;
  /** A learner file changed after the last run. */
  stale: boolean;
}

export function progressOf(stage: StageMeta, root: string = repoRoot): Progress {
  const results = readResults(stage, root);
  const ms = stage.milestones ?? [];
  const passed = ms.filter((m) => results?.milestones[m.id]?.status === "passed").map((m) => m.id);
  const failed = ms.filter((m) => results?.milestones[m.id]?.status === "failed").map((m) => m.id);
  const notRun = ms.filter((m) => results?.milestones[m.id] === undefined).map((m) => m.id);
  const earned = ms.filter((m) => passed.includes(m.id)).reduce((a, m) => a + m.points, 0);
  const max = ms.reduce((a, m) => a + m.points, 0);
  let stale = false;
  if (results) {
    const at = Date.parse(results.updatedAt);
    stale = learnerFiles(stage).some((f) => {
      try {
        return fs.statSync(f.file).mtimeMs > at + 1000;
      } catch {
        return true;
      }
    });
  }
  return { results, passed, failed, notRun, earned, max, stale };
}

export function ago(iso: string, now = Date.now()): string {
  const s = Math.max(0, Math.round((now - Date.parse(iso)) / 1000));
  if (s < 60) return `${s} s ago`;
  if (s < 3600) return `${Math.round(s / 60)} min ago`;
  if (s < 86_400) return `${Math.round(s / 3600)} h ago`;
  return `${Math.round(s / 86_400)} days ago`;
}
