// The results that an export's own reporter recorded for a stage's run.
import fs from "node:fs";
import path from "node:path";
import type { StageResults } from "@xps/testkit/results";

/** `<dir>/<stage>.json`, as the reporter writes it under XPS_RESULTS_DIR. */
export function readResultsIn(dir: string, stage: string): StageResults | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(dir, `${stage}.json`), "utf8")) as StageResults;
  } catch {
    return null;
  }
}
