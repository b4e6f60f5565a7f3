// xps export gradescope and xps export classroom. The bundle's layout and
// the workflow's steps always; with XPS_TEST_AUTOGRADERS=1 (pnpm verify
// without --quick), both run as their services run them:
//
// - Gradescope: a fresh folder laid out as Gradescope lays out /autograder
//   (source/ holds the bundle, submission/ the learner's repository,
//   results/ is where results.json must appear), setup.sh once, then
//   run_autograder for the reference (full marks) and the pristine skeleton
//   (0), with XPS_AUTOGRADER_ROOT pointing at the folder.
// - Classroom: a faithful script, since no GitHub runner is here: in a
//   student export with the learner's files, each `run` step in bash, each
//   autograding-command-grader step's command with its time limit (a pass
//   earns its max-score), the reporter's sum.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { writeSkeleton } from "@xps/course/gen";
import { classroomSteps, classroomWorkflow, readWorkflowSteps } from "../src/export/autograder.ts";
import { exportStudent } from "../src/export/export.ts";
import { baseEnv, repoRoot, stage, tmpDir, writeSolved, xps } from "./helpers.ts";

const S = stage("stage-06");
const total = (S.milestones ?? []).reduce((a, m) => a + m.points, 0);
const live = process.env.XPS_TEST_AUTOGRADERS === "1";
const dirs: string[] = [];
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
}, 300_000);

function scratch(name: string): string {
  const d = tmpDir(name);
  dirs.push(d);
  return d;
}

function sh(cmd: string, cwd: string, env: NodeJS.ProcessEnv = {}, timeoutMs = 900_000): { code: number | null; out: string } {
  const r = spawnSync("bash", ["-c", cmd], { cwd, env: baseEnv(env), encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { code: r.status, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

describe("the classroom workflow", () => {
  test("one graded step per milestone, worth its points, and the file reads back the same", () => {
    const steps = classroomSteps(S, 10);
    const graded = steps.filter((s) => s.uses?.startsWith("classroom-resources/autograding-command-grader"));
    expect(graded.map((s) => s.id)).toEqual((S.milestones ?? []).map((m) => m.id));
    expect(graded.reduce((a, s) => a + Number(s.with!["max-score"]), 0)).toBe(total);
    expect(steps.at(-1)!.with!.runners).toBe(graded.map((s) => s.id).join(","));
    expect(readWorkflowSteps(classroomWorkflow(S, 10))).toEqual(steps);
  });

  test("xps export classroom writes it; a bad stage is one line with the fix", () => {
    const out = scratch("classroom");
    const r = xps(["export", "classroom", "--stage", "6", out]);
    expect(r.code, r.stderr).toBe(0);
    expect(fs.readFileSync(path.join(out, ".github", "workflows", "classroom.yml"), "utf8")).toBe(classroomWorkflow(S));
    const bad = xps(["export", "classroom", "--stage", "99", out]);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/there is no stage "99"/);
  });

  test.skipIf(!live)("run as GitHub would (a faithful script): the reference earns every point", () => {
    const repo = scratch("classroom-run");
    exportStudent(repoRoot, repo, S.stage + 1);
    writeSolved(S, path.join(repo, "stages", path.basename(S.dir), "src"));
    let score = 0;
    for (const step of readWorkflowSteps(classroomWorkflow(S, 10))) {
      if (step.run) expect(sh(step.run, repo).code, `${step.name} failed`).toBe(0);
      else if (step.uses?.startsWith("classroom-resources/autograding-command-grader")) {
        const r = sh(String(step.with!.command), repo, {}, Number(step.with!.timeout) * 60_000);
        if (r.code === 0) score += Number(step.with!["max-score"]);
        else console.log(`${step.name}: exit ${r.code}\n${r.out.slice(-1500)}`);
      }
    }
    expect(score).toBe(total);
  }, 1_800_000);
});

describe("the Gradescope bundle", () => {
  let bundle = "";
  test("xps export gradescope writes setup.sh, run_autograder, the course and the hidden tests", () => {
    bundle = path.join(scratch("gradescope"), "bundle");
    const hidden = path.join(scratch("gradescope-hidden"), "hidden");
    fs.mkdirSync(path.join(hidden, S.name), { recursive: true });
    fs.writeFileSync(path.join(hidden, S.name, "extra.test.ts"), 'import { defineStage } from "@xps/testkit";\ndefineStage(import.meta.dirname).check("m1", "hidden: nothing more", () => {});\n');
    const r = xps(["export", "gradescope", "--stage", "6", "--tests", hidden, bundle]);
    expect(r.code, r.stderr).toBe(0);
    for (const f of ["setup.sh", "run_autograder"]) expect(fs.statSync(path.join(bundle, f)).mode & 0o111).not.toBe(0);
    expect(fs.existsSync(path.join(bundle, "course", "pnpm-lock.yaml"))).toBe(true);
    expect(fs.existsSync(path.join(bundle, "course", "node_modules"))).toBe(false);
    expect(fs.existsSync(path.join(bundle, "hidden", S.name, "extra.test.ts"))).toBe(true);
    expect(xps(["export", "gradescope", "--stage", "6", bundle]).stderr).toMatch(/is not empty/);
  });

  test.skipIf(!live)("run as Gradescope runs it, in a fresh /autograder: the reference scores full marks, the pristine skeleton 0", () => {
    const root = scratch("autograder");
    fs.cpSync(bundle, path.join(root, "source"), { recursive: true });
    const env = { XPS_AUTOGRADER_ROOT: root };
    const setup = sh("bash source/setup.sh", root, env);
    expect(setup.code, setup.out.slice(-3000)).toBe(0);
    const grade = (fill: (src: string) => void): { score: number; output: string } => {
      fs.rmSync(path.join(root, "submission"), { recursive: true, force: true });
      fs.rmSync(path.join(root, "results"), { recursive: true, force: true });
      fill(path.join(root, "submission", "stages", path.basename(S.dir), "src"));
      const r = sh("bash source/run_autograder", root, env);
      expect(r.code, r.out.slice(-3000)).toBe(0);
      return JSON.parse(fs.readFileSync(path.join(root, "results", "results.json"), "utf8")) as { score: number; output: string };
    };
    const solved = grade((src) => writeSolved(S, src));
    expect(solved.score, solved.output).toBe(total);
    expect(solved.output).toMatch(/sandbox: /);
    expect(grade((src) => writeSkeleton(S.name, src)).score).toBe(0);
  }, 1_800_000);
});
