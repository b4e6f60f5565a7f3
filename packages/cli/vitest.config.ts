import { packageConfig } from "@xps/testkit/vitest";

// One test file at a time: several of them run a stage's black-box tests.
export default packageConfig();
