import { defineConfig, mergeConfig } from "vitest/config";
import { packageConfig } from "@xps/testkit/vitest";

// One test file at a time: several of them run a stage's black-box tests.
// A student export leaves the tests out (they grade and run the reference).
export default mergeConfig(packageConfig(), defineConfig({ test: { passWithNoTests: true } }));
