import type { ViewModule } from "./overrides.mjs";
export declare class StageTagError extends Error {}
export declare function fileStages(text: string, file: string): { from: number; to: number; as: string };
export declare function renderForStage(text: string, file: string, stage: number): string | null;
export declare function truncateAt(text: string, file: string, last: number): string;
export declare function serverPackages(root: string): string[];
export declare function serverFiles(root: string): string[];
export declare function viewOf(root: string, stage: number): Map<string, ViewModule>;
export declare function viewDir(stageDir: string): string;
export declare function writeView(
  root: string,
  stage: number,
  dir: string,
  view?: Map<string, ViewModule>,
): { map: Map<string, string | null>; view: Map<string, ViewModule> };
