export interface TestRecord {
  name: string;
  file: string;
  milestone: string | null;
  status: "passed" | "failed" | "skipped" | "pending";
  durationMs: number;
  message: string;
  expected?: string;
  actual?: string;
}

export interface RunReport {
  at: string;
  reason: string;
  tests: TestRecord[];
  fileErrors: { file: string; message: string }[];
  unhandledErrors: string[];
}

export interface MilestoneResult {
  status: "passed" | "failed";
  tests: number;
  failed: number;
  at: string;
  message: string;
}

export interface StageResults {
  stage: string;
  variant: "learner" | "solution";
  updatedAt: string;
  milestones: Record<string, MilestoneResult>;
  tests: { name: string; milestone: string | null; status: "passed" | "failed"; at: string; durationMs?: number; message: string }[];
}

export declare function milestoneOf(name: string): string | null;
export declare function resultsDir(root: string, env?: NodeJS.ProcessEnv): string;
export declare function resultsFile(root: string, stageName: string, variant?: "learner" | "solution", env?: NodeJS.ProcessEnv): string;
export declare function shouldRecord(stageDir: string, env?: NodeJS.ProcessEnv): boolean;
export declare function errorText(errors: unknown[] | undefined): string;
export declare function mergeResults(
  previous: StageResults | null,
  run: { stage: string; variant: "learner" | "solution"; at: string; tests: TestRecord[]; declared: { id: string }[] },
): StageResults;
export declare function testRecord(tc: unknown): TestRecord;
export default class XpsReporter {
  constructor(env?: NodeJS.ProcessEnv);
  onInit(vitest: unknown): void;
  onTestRunEnd(modules: readonly unknown[], unhandledErrors: readonly unknown[], reason: string): void;
}
