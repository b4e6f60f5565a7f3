// The vitest configuration every stage uses. A resolver plugin makes every
// import of a reference module load the stage's view of it. The test runner
// never loads a learner's file: servers run in child processes (with
// `node --import @xps/course/variant`, which puts the learner's files in
// place), and so do in-process checks (probes, see probe.ts).
// Plain JavaScript: vitest loads config files with Node before any
// TypeScript loader is in place.
//
// Besides vitest's default reporter, the xps reporter records the learner's
// progress for `pnpm xps status` (see results-reporter.mjs). XPS_EXTRA_TESTS
// (comma-separated globs, relative to the stage) adds test files: grading
// uses it for an instructor's hidden tests, copied into the stage's .xps/.
import { defineConfig } from "vitest/config";
import { readStageMeta, viewOverrides } from "@xps/course/overrides";
import XpsReporter from "./results-reporter.mjs";

/** The extra test globs named by XPS_EXTRA_TESTS. */
export function extraTests(env = process.env) {
  return (env.XPS_EXTRA_TESTS ?? "")
    .split(",")
    .map((g) => g.trim())
    .filter((g) => g !== "");
}

export function stageConfig(stageDir) {
  const overrides = viewOverrides(stageDir).map;
  const meta = readStageMeta(stageDir);
  return defineConfig({
    plugins: [
      {
        name: "xps-variant",
        enforce: "pre",
        async resolveId(source, importer, options) {
          if (overrides.size === 0) return null;
          const resolved = await this.resolve(source, importer, { ...options, skipSelf: true });
          if (resolved === null) return null;
          const target = overrides.get(resolved.id.split("?")[0]);
          if (target === null) throw new Error(`${source} is not part of the server at ${meta.name}: it comes with a later stage`);
          return target === undefined || target === importer ? null : target;
        },
      },
    ],
    test: {
      include: ["test/**/*.test.ts", ...extraTests(process.env)],
      reporters: ["default", new XpsReporter()],
      testTimeout: 60_000,
      hookTimeout: 60_000,
      // Black-box tests measure a server's memory and CPU: one file at a time.
      fileParallelism: false,
    },
  });
}

/** The shared packages' own unit tests. */
export function packageConfig() {
  return defineConfig({ test: { include: ["test/**/*.test.ts"], testTimeout: 60_000, fileParallelism: false } });
}
