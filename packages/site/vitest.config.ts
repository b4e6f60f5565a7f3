import { defineConfig, mergeConfig } from "vitest/config";
import { packageConfig } from "@xps/testkit/vitest";

// One browser, pages opened one after another; the first run may build the site.
export default mergeConfig(packageConfig(), defineConfig({ test: { hookTimeout: 600_000 } }));
