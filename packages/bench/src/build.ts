// The Node targets run as plain JavaScript: esbuild bundles the stage 11
// server and the naive proxy ahead of time, so neither carries the TypeScript
// loader (tsx keeps a second V8 isolate for its module hooks, about 35 MB of
// RSS) and both are measured as they would be deployed. The code is the same
// the learners run; only the transpiling happens before start-up.
// `pnpm bench --tsx` runs them under tsx instead, the way `pnpm start` does.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { build } from "esbuild";

// picocolors (and other CommonJS inside the bundle) calls require().
const BANNER = 'import { createRequire as __xpsRequire } from "node:module"; const require = __xpsRequire(import.meta.url);';

/** Bundle each entry into one .mjs file in a temporary folder; returns entry -> bundle path. */
export async function bundle(entries: Record<string, string>): Promise<{ files: Record<string, string>; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xps-bench-build-"));
  const files: Record<string, string> = {};
  for (const [name, entry] of Object.entries(entries)) {
    const outfile = path.join(dir, `${name}.mjs`);
    await build({
      entryPoints: [entry],
      outfile,
      bundle: true,
      platform: "node",
      format: "esm",
      target: "node20",
      banner: { js: BANNER },
      logLevel: "silent",
    });
    files[name] = outfile;
  }
  return { files, dir };
}
