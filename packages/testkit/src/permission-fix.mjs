// Loaded first (--import) into a learner's node process that runs under
// Node's permission model (see sandbox.ts). Node 20 throws ERR_ACCESS_DENIED
// from fs.existsSync for a path outside the allowed reads, where "does not
// exist" is the answer; tsx asks such questions (is the file system case
// sensitive?). The fix is registered as a module hook too, so that it also
// applies in the thread where tsx's hooks run.
import fs from "node:fs";
import { register } from "node:module";
import { isMainThread } from "node:worker_threads";

const existsSync = fs.existsSync;
fs.existsSync = (p) => {
  try {
    return existsSync(p);
  } catch (err) {
    if (err && err.code === "ERR_ACCESS_DENIED") return false;
    throw err;
  }
};

if (isMainThread) register(import.meta.url);
