// `node --import @xps/course/variant server.ts`: load the server as it
// stands at the stage (its view), with the learner's files in place of the
// modules the stage teaches (see overrides.mjs).
import { register } from "node:module";
import { findStageDir, overridesFor, readStageMeta } from "./overrides.mjs";

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
    register("./hooks.mjs", import.meta.url, { data: { map: Object.fromEntries(map), stage: readStageMeta(stageDir).name } });
  }
}
