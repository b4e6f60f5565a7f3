// pnpm typecheck:stages: every stage's files, type-checked in the stage's own
// view (see view-check.ts). pnpm typecheck checks the packages; verify runs
// both.
import { listStages } from "./stages.ts";
import { typecheckView } from "./view-check.ts";

let failed = 0;
for (const stage of listStages()) {
  const problems = typecheckView(stage);
  console.log(`${problems.length === 0 ? "ok  " : "FAIL"} ${stage.name}`);
  for (const p of problems) console.log(`       ${p}`);
  if (problems.length > 0) failed++;
}
process.exit(failed === 0 ? 0 : 1);
