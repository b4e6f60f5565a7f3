// The results an export's own reporter recorded (in OUT/.xps/results).
import fs from "node:fs";
import path from "node:path";
import type { StageResults } from "@xps/testkit/results";

export function readResultsIn(root: string, stage: string): StageResults | null {
  try {
    return JSON.parse(fs.readFileSync(path.join(root, ".xps", "results", `${stage}.json`), "utf8")) as StageResults;
  } catch {
    return null;
  }
}
