// The pieces without a process: milestones from tests, cleaned messages,
// the reporter's merge, and the five grade formats.
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { describe, expect, test } from "vitest";
import { mergeResults, milestoneOf, shouldRecord } from "@xps/testkit/results";
import type { TestRecord } from "@xps/testkit/results";
import { cleanMessage, milestoneOutcomes, summarise } from "../src/milestones.ts";
import { milestonePattern } from "../src/runner.ts";
import type { StageRun } from "../src/runner.ts";
import { csvCell, toCsv, toGradescope, toJson, toJunit, toRecords, toTable } from "../src/grade/formats.ts";
import type { SubmissionGrade } from "../src/grade/grade.ts";
import { stage } from "./helpers.ts";

const t = (name: string, status: TestRecord["status"], message = "", file = "/s/test/a.test.ts"): TestRecord => ({ name, file, milestone: milestoneOf(name), status, durationMs: 5, message });

function run(tests: TestRecord[], extra: Partial<StageRun> = {}): StageRun {
  return { stage: stage("stage-10"), variant: "learner", tests, fileErrors: [], unhandledErrors: [], finished: true, timedOut: false, running: [], runningFiles: [], output: "", durationMs: 1, ...extra };
}

const decl = [
  { id: "m1", title: "one", points: 10, hint: "h1" },
  { id: "m2", title: "two", points: 20, hint: "h2" },
  { id: "m3", title: "three", points: 30 },
];

describe("milestones", () => {
  test("test names map to milestones", () => {
    expect(milestoneOf("M7 the pipe module's own rules: threshold")).toBe("m7");
    expect(milestoneOf("X2 a hidden one")).toBe("x2");
    expect(milestoneOf("no milestone")).toBeNull();
    expect(milestonePattern(["m3"])).toBe("^M3 ");
    expect(milestonePattern(["m1", "m10"])).toBe("^(M1|M10) ");
  });

  test("a milestone passes when all its tests pass; points per milestone", () => {
    const o = milestoneOutcomes(run([t("M1 one", "passed"), t("M2 two: a", "passed"), t("M2 two: b", "failed", "MilestoneFailure text\n  sent: x"), t("M3 three", "passed")]), decl);
    expect(o.map((x) => [x.id, x.status, x.earned])).toEqual([
      ["m1", "passed", 10],
      ["m2", "failed", 0],
      ["m3", "passed", 30],
    ]);
    expect(o[1]!.reason).toBe("MilestoneFailure text");
    expect(summarise(o)).toEqual({ passed: 2, total: 3, earned: 40, max: 60 });
  });

  test("a hung file, tests that never ran, a file that did not load", () => {
    const hung = milestoneOutcomes(
      run([t("M1 one", "passed"), t("M2 two", "pending", "", "/s/test/b.test.ts"), t("M3 three", "pending", "", "/s/test/c.test.ts")], { timedOut: true, finished: false, runningFiles: ["/s/test/b.test.ts"] }),
      decl,
      { runTimeoutMs: 30_000 },
    );
    expect(hung[0]!.status).toBe("passed");
    expect(hung[1]!.reason).toMatch(/^did not finish: the run was stopped after 30 s while test\/b\.test\.ts was running; it scores 0/);
    expect(hung[2]!.reason).toMatch(/^did not run: the run was stopped after 30 s; it scores 0/);
    const broken = milestoneOutcomes(run([t("M1 one", "passed")], { fileErrors: [{ file: "/s/test/b.test.ts", message: "SyntaxError: Unexpected token" }] }), decl);
    expect(broken[1]!.reason).toBe("no test of it ran: a test file did not load: SyntaxError: Unexpected token");
  });

  test("vitest's timeout, in words", () => {
    const o = milestoneOutcomes(run([t("M1 one", "failed", "Test timed out in 5000ms.\nIf this is a long-running test, ...")]), decl);
    expect(o[0]!.reason).toMatch(/did not finish within its time limit of 5 s/);
  });

  test("a filter leaves the others out", () => {
    const o = milestoneOutcomes(run([t("M1 one", "skipped"), t("M2 two", "failed", "no")]), decl, { selected: ["m2"] });
    expect(o.map((x) => x.status)).toEqual(["not run", "failed", "not run"]);
    expect(summarise(o)).toEqual({ passed: 0, total: 1, earned: 0, max: 20 });
  });

  test("messages: control bytes visible, long lines cut with a count, colours gone", () => {
    const m = cleanMessage(`\x1b[31mred\x1b[39m a\rb\x00c\n${"x".repeat(500)}`);
    expect(m.split("\n")[0]).toBe("red a\\rb\\x00c");
    expect(m.split("\n")[1]).toMatch(/^x{400}… \(\+100 more characters\)$/);
  });

  test("hidden tests' messages keep their first line only: no code, stacks, paths, or what the learner's server said", () => {
    const msg = ["expected 1 to be 2", "  (raised in secret (/c/stage/.xps/hidden-1/s.test.ts:3:9))", "    at run (/c/stage/.xps/hidden-1/s.test.ts:3:9)", " > 3 | const secret = compute();", "   |       ^", "see /c/stage/.xps/hidden-1/s.test.ts"].join("\n");
    const o = milestoneOutcomes(run([t("X1 hidden", "failed", msg, "/c/stage/.xps/hidden-1/s.test.ts")]), [{ id: "x1", title: "hidden", points: 5, hidden: true }], { hiddenPaths: ["/c/stage/.xps/hidden-1"] });
    expect(o[0]!.message).toBe("expected 1 to be 2");
  });
});

describe("the reporter's record", () => {
  const declared = [{ id: "m1" }, { id: "m2" }];
  const rec = (name: string, status: TestRecord["status"]): TestRecord => t(name, status, status === "failed" ? "boom\nmore" : "");
  test("a full run replaces, a filtered run merges", () => {
    const first = mergeResults(null, { stage: "stage-10", variant: "learner", at: "2026-01-01T00:00:00.000Z", tests: [rec("M1 a", "failed"), rec("M2 b", "failed")], declared });
    expect(first.milestones.m1).toMatchObject({ status: "failed", message: "boom" });
    const filtered = mergeResults(first, { stage: "stage-10", variant: "learner", at: "2026-01-02T00:00:00.000Z", tests: [rec("M1 a", "passed"), rec("M2 b", "skipped")], declared });
    expect([filtered.milestones.m1!.status, filtered.milestones.m2!.status]).toEqual(["passed", "failed"]);
    const renamed = mergeResults(filtered, { stage: "stage-10", variant: "learner", at: "2026-01-03T00:00:00.000Z", tests: [rec("M1 a renamed", "passed"), rec("M2 b", "passed")], declared });
    expect(renamed.tests.map((x) => x.name)).toEqual(["M1 a renamed", "M2 b"]);
  });

  test("only the learner's own runs count", () => {
    expect(shouldRecord("/c/stages/s", {})).toBe(true);
    expect(shouldRecord("/c/stages/s", { XPS_LEARNER_DIR: "/c/stages/s/src" })).toBe(true);
    expect(shouldRecord("/c/stages/s", { XPS_LEARNER_DIR: "/c/stages/s/.xps/pristine-1" })).toBe(false);
    expect(shouldRecord("/c/stages/s", { XPS_RESULTS: "off" })).toBe(false);
  });
});

function grades(): SubmissionGrade[] {
  const ms = (earned: boolean) => [
    { id: "m1", name: "M1 one", title: "one", points: earned ? 10 : 0, maxPoints: 10, status: earned ? ("passed" as const) : ("failed" as const), message: earned ? "" : 'got "a\\r\\n" & <b>', hidden: false, durationMs: 1200 },
    { id: "x1", name: "X1 secret", title: "secret", points: 0, maxPoints: 5, status: "failed" as const, message: "expected 1 to be 2", hidden: true, durationMs: 10 },
  ];
  return [
    { submission: "alice", dir: "/s/alice", score: 10, max: 15, stages: [{ stage: "stage-10", title: "Pipes", score: 10, max: 15, milestones: ms(true), problems: [], suspicious: [], isolation: "", durationMs: 2000 }] },
    { submission: 'bob, "the" builder', dir: "/s/bob", score: 0, max: 15, stages: [{ stage: "stage-10", title: "Pipes", score: 0, max: 15, milestones: ms(false), problems: ["the run hit its time limit"], suspicious: ["it hit its time limit"], isolation: "", durationMs: 3000 }] },
  ];
}

describe("grade formats", () => {
  test("json: one record per submission, stage and milestone", () => {
    const records = JSON.parse(toJson(grades())) as ReturnType<typeof toRecords>;
    expect(records).toHaveLength(4);
    expect(records[0]).toEqual({ submission: "alice", stage: "stage-10", milestone: "m1", name: "M1 one", points: 10, max_points: 10, status: "passed", message: "", hidden: false, suspicious: "", isolation: "" });
    expect(records[3]).toMatchObject({ submission: 'bob, "the" builder', milestone: "x1", hidden: true, status: "failed", points: 0, max_points: 5 });
  });

  test("gradescope: results.json as the autograder reads it", () => {
    const r = toGradescope(grades()[0]!);
    expect(r.score).toBe(10);
    expect(r.tests.reduce((a, x) => a + x.score, 0)).toBe(r.score);
    for (const x of r.tests) {
      expect(Object.keys(x).sort()).toEqual(["max_score", "name", "number", "output", "score", "status", "visibility"]);
      expect(["passed", "failed"]).toContain(x.status);
      expect(x.score).toBeLessThanOrEqual(x.max_score);
    }
    expect(r.tests[1]!.name).toBe("stage-10 X1 secret (hidden test)");
    expect(r.tests.map((x) => x.visibility)).toEqual(["visible", "after_published"]);
    expect(toGradescope(grades()[0]!, "hidden").tests[1]!.visibility).toBe("hidden");
  });

  test("junit: well-formed XML with a failure per failed milestone", () => {
    const xml = toJunit(grades());
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml) as {
      testsuites: { tests: string; failures: string; testsuite: { name: string; tests: string; failures: string; testcase: { name: string; failure?: { message: string } }[] }[] };
    };
    expect(doc.testsuites.tests).toBe("4");
    expect(doc.testsuites.failures).toBe("3");
    expect(doc.testsuites.testsuite.map((s) => [s.name, s.tests, s.failures])).toEqual([
      ["alice stage-10", "2", "1"],
      ['bob, "the" builder stage-10', "2", "2"],
    ]);
    expect(doc.testsuites.testsuite[1]!.testcase[0]!.failure!.message).toBe('got "a\\r\\n" & <b>');
  });

  test("csv: a header, one row per submission, quoting where needed", () => {
    const csv = toCsv(grades(), ["stage-10"]);
    expect(csv).toBe(['submission,stage-10,total,max,problems,suspicious', "alice,10,10,15,,", '"bob, ""the"" builder",0,0,15,stage-10: the run hit its time limit,stage-10: it hit its time limit', ""].join("\n"));
    expect(csvCell("a\nb")).toBe('"a\nb"');
  });

  test("table", () => {
    const text = toTable(grades(), ["stage-10"]);
    expect(text).toMatch(/^submission\s+stage-10 \(\/15\)\s+total$/m);
    expect(text).toMatch(/^alice\s+10\s+10\/15$/m);
    expect(text).toMatch(/problems:\n {2}bob, "the" builder stage-10: the run hit its time limit/);
  });
});
