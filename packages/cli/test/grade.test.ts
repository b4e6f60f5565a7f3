// xps grade on real stage 10 runs: a pristine submission scores 0, a solved
// one full marks, one whose in-process code hangs loses only the checks that
// ran it (each in its own probe, with its own time limit); hidden tests count
// and show no code; a learner's edited tests never count; all five formats
// are valid.
import fs from "node:fs";
import path from "node:path";
import { XMLParser, XMLValidator } from "fast-xml-parser";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { writeSkeleton } from "@xps/course/gen";
import { repoRoot, stage, tmpDir, writeSolved, xps, type CliResult } from "./helpers.ts";

const SECRET = "hidden-code-that-must-never-be-shown-0451";
let base = "";
let out = "";
let r: CliResult;

function stageCopy(sub: string, folder: string): string {
  const s = stage("stage-10");
  const dir = path.join(base, "subs", sub, ...folder.split("/"), path.basename(s.dir));
  fs.mkdirSync(path.join(dir, "src"), { recursive: true });
  fs.copyFileSync(path.join(s.dir, "package.json"), path.join(dir, "package.json"));
  return dir;
}

beforeAll(() => {
  base = tmpDir("grade");
  out = path.join(base, "out");
  const s10 = stage("stage-10");
  // a-hangs: the solution, but creating a pipe never returns outside a server (in an in-process check's probe).
  const hangs = stageCopy("a-hangs", "stages");
  writeSolved(s10, path.join(hangs, "src"));
  const pipe = path.join(hangs, "src", "pipe.ts");
  fs.writeFileSync(pipe, fs.readFileSync(pipe, "utf8").replace(/(export function pipeCreate\([^)]*\)[^{]*\{)/, '$1\n  if (!process.argv[1]?.endsWith("server.ts")) while (true) {}'));
  // b-pristine: only stages/, with an "improved" test that would pass anything.
  const pristine = stageCopy("b-pristine", "stages");
  writeSkeleton("stage-10", path.join(pristine, "src"));
  fs.mkdirSync(path.join(pristine, "test"));
  fs.writeFileSync(path.join(pristine, "test", "milestones.test.ts"), 'import { test } from "vitest";\ntest("M1 always", () => {});\n');
  // c-solved: a whole checkout's layout.
  const solved = stageCopy("c-solved", "stages");
  writeSolved(s10, path.join(solved, "src"));
  fs.writeFileSync(path.join(base, "subs", "c-solved", "package.json"), "{}");
  // d-missing: pipe.ts is gone.
  const missing = stageCopy("d-missing", "stages");
  writeSkeleton("stage-10", path.join(missing, "src"));
  fs.rmSync(path.join(missing, "src", "pipe.ts"));
  // Hidden tests: a milestone of their own, and one more check of M2.
  const hidden = path.join(base, "hidden", "stage-10");
  fs.mkdirSync(hidden, { recursive: true });
  fs.writeFileSync(path.join(hidden, "hidden.json"), JSON.stringify({ milestones: [{ id: "x1", title: "a large write comes back whole", points: 10 }] }));
  fs.writeFileSync(
    path.join(hidden, "extra.test.ts"),
    [
      'import { defineStage, expectEcho, randomBytes } from "@xps/testkit";',
      "const stage = defineStage(import.meta.dirname);",
      `const marker = "${SECRET}";`,
      'stage.milestone("x1", async (t) => {',
      "  const server = await t.server();",
      "  (await expectEcho(t, server.ports[2]!, randomBytes(200_000))).destroy();",
      "  if (marker.length === 0) t.fail(marker);",
      "});",
      'stage.check("m2", "hidden: two clients on one port", async (t) => {',
      "  const server = await t.server();",
      "  const a = await expectEcho(t, server.ports[0]!, randomBytes(1000));",
      "  const b = await expectEcho(t, server.ports[0]!, randomBytes(1000));",
      "  a.destroy();",
      "  b.destroy();",
      "});",
      "",
    ].join("\n"),
  );
  r = xps(
    ["grade", "--stage", "10", "--submissions", path.join(base, "subs"), "--tests", path.join(base, "hidden"), "--milestone-timeout", "10", "--format", "table", "json", "gradescope", "junit", "csv", "--out", out],
    { timeoutMs: 600_000 },
  );
}, 600_000);

afterAll(() => {
  fs.rmSync(base, { recursive: true, force: true });
});

interface Rec {
  submission: string;
  milestone: string;
  points: number;
  max_points: number;
  status: string;
  message: string;
  hidden: boolean;
}

describe("xps grade --submissions", () => {
  test("runs, prints the table, writes every format", () => {
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/^a-hangs\s+85\s+85\/110$/m);
    expect(r.stdout).toMatch(/^b-pristine\s+0\s+0\/110$/m);
    expect(r.stdout).toMatch(/^c-solved\s+110\s+110\/110$/m);
    expect(r.stdout).toMatch(/^d-missing\s+0\s+0\/110$/m);
    for (const f of ["grades.json", "grades.csv", "junit.xml", "gradescope/a-hangs/results.json", "gradescope/c-solved/results.json"]) expect(fs.existsSync(path.join(out, f)), f).toBe(true);
  });

  test("json: 0, full marks, the hang costs only the in-process milestones, reasons", () => {
    const recs = JSON.parse(fs.readFileSync(path.join(out, "grades.json"), "utf8")) as Rec[];
    const of = (sub: string): Rec[] => recs.filter((x) => x.submission === sub);
    // Four submissions, each with every milestone of stage 10 and the hidden x1.
    expect(recs).toHaveLength(4 * ((stage("stage-10").milestones ?? []).length + 1));
    expect(of("b-pristine").every((x) => x.status === "failed" && x.points === 0)).toBe(true);
    expect(of("c-solved").every((x) => x.status === "passed" && x.points === x.max_points)).toBe(true);
    const hang = of("a-hangs");
    expect(hang.filter((x) => x.status === "passed").map((x) => x.milestone)).toEqual(["m1", "m2", "m3", "m4", "m5", "m6", "x1"]);
    expect(hang.find((x) => x.milestone === "m7")!.message).toMatch(/the check's process did not finish within 10 s/);
    expect(of("d-missing")[0]!.message).toBe("the submission's src/pipe.ts is missing");
  });

  test("hidden tests count, report name, points and message, and never their code", () => {
    const recs = JSON.parse(fs.readFileSync(path.join(out, "grades.json"), "utf8")) as Rec[];
    const x1 = recs.filter((x) => x.milestone === "x1");
    expect(x1.map((x) => [x.submission, x.points, x.max_points, x.hidden])).toEqual([
      ["a-hangs", 10, 10, true],
      ["b-pristine", 0, 10, true],
      ["c-solved", 10, 10, true],
      ["d-missing", 0, 10, true],
    ]);
    expect(x1[1]!.message).toMatch(/did not echo the 200,000 bytes it was sent/);
    for (const f of ["grades.json", "grades.csv", "junit.xml", "gradescope/b-pristine/results.json"]) {
      const text = fs.readFileSync(path.join(out, f), "utf8");
      expect(text.includes(SECRET), f).toBe(false);
      expect(text.includes("extra.test.ts"), f).toBe(false);
      expect(/expectEcho|defineStage/.test(text), f).toBe(false);
    }
    expect(`${r.stdout}${r.stderr}`.includes(SECRET)).toBe(false);
    // They were copied in for the run only.
    expect(fs.readdirSync(path.join(stage("stage-10").dir, ".xps")).filter((d) => /^(hidden|grade)-/.test(d))).toEqual([]);
  });

  test("gradescope: a results.json per submission", () => {
    const g = JSON.parse(fs.readFileSync(path.join(out, "gradescope", "c-solved", "results.json"), "utf8")) as { score: number; tests: { name: string; score: number; max_score: number; status: string }[] };
    expect(g.score).toBe(110);
    expect(g.tests).toHaveLength((stage("stage-10").milestones ?? []).length + 1);
    expect(g.tests.every((x) => x.status === "passed" && x.score === x.max_score)).toBe(true);
    const p = JSON.parse(fs.readFileSync(path.join(out, "gradescope", "b-pristine", "results.json"), "utf8")) as { score: number; tests: { status: string }[] };
    expect(p.score).toBe(0);
    expect(p.tests.every((x) => x.status === "failed")).toBe(true);
  });

  test("junit and csv", () => {
    const xml = fs.readFileSync(path.join(out, "junit.xml"), "utf8");
    expect(XMLValidator.validate(xml)).toBe(true);
    const doc = new XMLParser({ ignoreAttributes: false, attributeNamePrefix: "" }).parse(xml) as { testsuites: { tests: string; failures: string; testsuite: { name: string }[] } };
    // Every milestone of stage 10 and the hidden x1, for four submissions; the
    // hang fails its two in-process checks, the pristine and the missing one all.
    const n = (stage("stage-10").milestones ?? []).length + 1;
    expect(doc.testsuites.tests).toBe(String(4 * n));
    expect(doc.testsuites.failures).toBe(String(2 + n + 0 + n));
    expect(doc.testsuites.testsuite.map((s) => s.name)).toEqual(["a-hangs stage-10", "b-pristine stage-10", "c-solved stage-10", "d-missing stage-10"]);
    const csv = fs.readFileSync(path.join(out, "grades.csv"), "utf8").trim().split("\n");
    expect(csv[0]).toBe("submission,stage-10,total,max,problems,suspicious");
    expect(csv.slice(1).map((l) => l.split(",").slice(0, 4).join(","))).toEqual(["a-hangs,85,85,110", "b-pristine,0,0,110", "c-solved,110,110,110", "d-missing,0,0,110"]);
  });

  test("nothing of the learner's own runs was touched", () => {
    expect(r.stderr).not.toMatch(/could not record/);
    expect(repoRoot).toBeTruthy();
  });
});
