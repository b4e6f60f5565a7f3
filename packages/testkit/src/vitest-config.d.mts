import type { ViteUserConfig } from "vitest/config";
export declare function stageConfig(stageDir: string): ViteUserConfig;
export declare function packageConfig(): ViteUserConfig;
export declare function extraTests(env?: NodeJS.ProcessEnv): string[];
