import { packageConfig } from "@xps/testkit/vitest";

export default packageConfig();
