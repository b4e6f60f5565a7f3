// The vitest configuration every stage uses. In the learner variant a
// resolver plugin makes every import of a taught reference module load the
// stage's own file (the same switch `node --import @xps/course/variant`
// makes for the server), so in-process unit tests check the learner's code.
// Plain JavaScript: vitest loads config files with Node before any
// TypeScript loader is in place.
import { defineConfig } from "vitest/config";
import { overridesFor } from "@xps/course/overrides";

export function stageConfig(stageDir) {
  const overrides = overridesFor(stageDir, process.env);
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
          return target === undefined || target === importer ? null : target;
        },
      },
    ],
    test: {
      include: ["test/**/*.test.ts"],
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
