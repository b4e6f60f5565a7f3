// The Node targets run as plain JavaScript: esbuild bundles the stage 11
// server and the naive proxy ahead of time, so neither carries the TypeScript
// loader (tsx keeps a second V8 isolate for its module hooks, about 35 MB of
// RSS) and both are measured as they would be deployed. The code is the same
// the learners run; only the transpiling happens before start-up.
// `pnpm bench --tsx` runs them under tsx instead, the way `pnpm start` does.
//
// A stage's server is bundled as `pnpm --filter stage-11 start` loads it: each
// reference module replaced by the stage's view of it, or by the learner's
// file (the map of @xps/course/overrides, which the variant's loader hook
// applies at run time and the plugin below applies at bundle time).
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { build, type Plugin } from "esbuild";

// picocolors (and other CommonJS inside the bundle) calls require().
const BANNER = 'import { createRequire as __xpsRequire } from "node:module"; const require = __xpsRequire(import.meta.url);';

/** Resolve every import as usual, then load what `map` puts in place of the file found (null: not part of the stage). */
function overridesPlugin(map: Map<string, string | null>): Plugin {
  return {
    name: "xps-overrides",
    setup(b) {
      b.onResolve({ filter: /.*/ }, async (args) => {
        if (args.pluginData === "xps-overrides" || args.path.startsWith("node:")) return undefined;
        const found = await b.resolve(args.path, { kind: args.kind, importer: args.importer, resolveDir: args.resolveDir, pluginData: "xps-overrides" });
        if (found.errors.length > 0) return { errors: found.errors };
        if (!map.has(found.path)) return found;
        const target = map.get(found.path);
        if (target === null) return { errors: [{ text: `${args.path} is not part of the server at this stage: it comes with a later stage` }] };
        return { path: target! };
      });
    },
  };
}

export interface Entry {
  file: string;
  /** Reference file -> the file to bundle instead (see overridesFor). */
  overrides?: Map<string, string | null>;
}

/**
 * Bundle each entry into one .mjs file in a temporary folder; returns entry
 * -> bundle path, or entry -> the reason it could not be built.
 */
export async function bundle(entries: Record<string, Entry>): Promise<{ files: Record<string, string>; failed: Record<string, string>; dir: string }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xps-bench-build-"));
  const files: Record<string, string> = {};
  const failed: Record<string, string> = {};
  for (const [name, entry] of Object.entries(entries)) {
    const outfile = path.join(dir, `${name}.mjs`);
    try {
      await build({
        entryPoints: [entry.file],
        outfile,
        bundle: true,
        platform: "node",
        format: "esm",
        target: "node20",
        banner: { js: BANNER },
        logLevel: "silent",
        plugins: entry.overrides ? [overridesPlugin(entry.overrides)] : [],
      });
      files[name] = outfile;
    } catch (err) {
      // esbuild's message lists each error with its file and line.
      failed[name] = (err as Error).message.split("\n").slice(0, 4).join(" ");
    }
  }
  return { files, failed, dir };
}
