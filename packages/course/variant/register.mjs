// `node --import @xps/course/variant server.ts`: in the learner variant, make
// the stage's own files stand in for the reference modules it teaches (see
// overrides.mjs). In the solution variant this does nothing.
import { register } from "node:module";
import { findStageDir, overridesFor } from "./overrides.mjs";

const stageDir = findStageDir(process.env.XPS_STAGE_DIR ?? process.cwd());
if (stageDir !== null) {
  let map;
  try {
    map = overridesFor(stageDir, process.env);
  } catch (err) {
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(2);
  }
  if (map.size > 0) {
    register("./hooks.mjs", import.meta.url, { data: { map: Object.fromEntries(map) } });
  }
}
