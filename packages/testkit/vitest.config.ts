import { packageConfig } from "./src/vitest-config.mjs";

// The shared packages' settings: test/**/*.test.ts, one file at a time, 60 s a test.
export default packageConfig();
