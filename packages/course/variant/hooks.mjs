// Module resolution hook (runs in Node's loader thread): whatever imports a
// reference module that the stage teaches gets the learner's file instead.
// The match is on the resolved file, so package imports and relative imports
// are both caught.
import fs from "node:fs";
import { fileURLToPath, pathToFileURL } from "node:url";

let map = new Map();

export async function initialize(data) {
  map = new Map(Object.entries(data.map).map(([from, to]) => [from, pathToFileURL(to).href]));
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
  const target = map.get(realFile(result.url));
  if (target === undefined || target === context.parentURL) return result;
  return { ...result, url: target };
}
