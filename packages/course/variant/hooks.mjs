// Module resolution hook (runs in Node's loader thread): every import of a
// reference module loads what overridesFor() says instead: the module's file
// in the stage's view, or the learner's file. The match is on the resolved
// file, so package imports and relative imports are both caught. A module
// that the stage's view does not hold (it comes with a later stage) cannot
// be imported at all.
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";

let map = new Map();
let stage = "this stage";

export async function initialize(data) {
  stage = data.stage;
  map = new Map(Object.entries(data.map).map(([from, to]) => [from, to === null ? null : pathToFileURL(to).href]));
}

function realFile(url) {
  const file = fileURLToPath(url);
  try {
    return fs.realpathSync(file);
  } catch {
    return file;
  }
}

export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  if (!result.url.startsWith("file:")) return result;
  const file = realFile(result.url);
  const target = map.get(file);
  if (target === null) {
    throw new Error(`${specifier} (${path.basename(file)}) is not part of the server at ${stage}: it comes with a later stage`);
  }
  if (target === undefined || target === context.parentURL) return result;
  return { ...result, url: target };
}
