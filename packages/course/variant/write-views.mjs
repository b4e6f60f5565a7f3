// `pnpm install` runs this (the root's postinstall), and `pnpm gen` does the
// same: write every stage's view into its .xps/view/, so an editor opening a
// stage finds the server as it stands at that stage (the stage's
// tsconfig.json points there). Every run of a stage's server or tests writes
// its own view again, so nothing depends on this having run.
import path from "node:path";
import { fileURLToPath } from "node:url";
import { findRepoRoot, stageDirs } from "./overrides.mjs";
import { viewDir, writeView } from "./views.mjs";

const root = findRepoRoot(path.dirname(fileURLToPath(import.meta.url)));
for (const { dir, meta } of stageDirs(root)) {
  try {
    writeView(root, meta.stage, viewDir(dir));
  } catch (err) {
    process.stderr.write(`${meta.name}: its view could not be written: ${err.message}\n`);
  }
}
