import { stageConfig } from "@xps/testkit/vitest";

export default stageConfig(import.meta.dirname);
