export declare const VARIANTS: readonly ["learner", "solution"];
export type Variant = "learner" | "solution";
export interface StageMetaJson {
  name: string;
  dir: string;
  stage: number;
  title: string;
  slug?: string;
  builds?: string[];
  teaches: string[];
  milestones?: { id: string; title: string; points: number; hint?: string; inProcess?: boolean }[];
  /** Milestones that the previous stage's solution fails: what this stage teaches, made visible. */
  lessons?: string[];
}
export declare function variantName(env?: NodeJS.ProcessEnv): Variant;
export declare function findRepoRoot(from: string): string;
export declare function findStageDir(from: string): string | null;
export declare function readStageMeta(stageDir: string): StageMetaJson;
export declare function learnerDir(stageDir: string, env?: NodeJS.ProcessEnv): string;
export declare function learnerFileFor(reference: string): string;
export interface ViewModule {
  source: string;
  text: string;
}
export declare function stageDirs(root: string): { dir: string; meta: StageMetaJson }[];
export declare function withheldReferences(stageDir: string, view?: Map<string, ViewModule>): string[];
export declare function ownCandidates(stageDir: string, view?: Map<string, ViewModule>): Map<string, { dir: string; meta: StageMetaJson }>;
export declare function ownFilesFor(stageDir: string, env?: NodeJS.ProcessEnv, view?: Map<string, ViewModule>): Map<string, { stage: string; file: string }>;
export declare function viewOverrides(stageDir: string): { map: Map<string, string | null>; view: Map<string, ViewModule> };
export declare function overridesFor(stageDir: string, env?: NodeJS.ProcessEnv): Map<string, string | null>;
