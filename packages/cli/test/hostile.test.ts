// The hostile submissions (test/hostile/, see its README.md), graded in one
// batch with hidden tests the way an instructor grades: each scores 0, the
// hidden tests' code shows up nowhere, the output is not rewritten after the
// grader is done, and no file outside the sandbox changed: not the course's
// tests, not the testkit, not the hidden tests, no junk left behind, no
// process left running.
//
// It needs a sandbox that can hide things (bubblewrap, or root's unshare):
// without one a hostile submission could really damage this checkout, so
// it is skipped, saying why.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, expect, test } from "vitest";
import { writeSkeleton } from "@xps/course/gen";
import { available } from "@xps/testkit/sandbox";
import { changedFiles, hashFiles, trustedFiles } from "../src/grade/integrity.ts";
import { repoRoot, stage, tmpDir, xps, type CliResult } from "./helpers.ts";

const STAGE = stage("stage-06");
/** The learner file the hostile block goes into: servers and the in-process check's probe both load it. */
const TARGET = "connection.ts";
const SECRET = "hidden-test-source-that-must-stay-secret-7741";
const FIXTURES = path.join(import.meta.dirname, "hostile");
const names = fs.readdirSync(FIXTURES).filter((f) => f.endsWith(".ts")).map((f) => f.replace(/\.ts$/, "")).sort();
const isolated = available().bubblewrap || available().namespaces;

let base = "";
let out = "";
let hidden = "";
let r: CliResult;
let wrote = new Map<string, string>();
let before = new Map<string, string>();
const junkPlaces = [os.tmpdir(), "/tmp", "/var/tmp", "/dev/shm", os.homedir(), repoRoot, STAGE.dir];

function trusted(): string[] {
  return [...trustedFiles(repoRoot, [STAGE.dir], [hidden]), ...fs.readdirSync(path.join(repoRoot, "stages")).map((s) => path.join(repoRoot, "stages", s, "test"))];
}

function outputs(): Map<string, string> {
  const files = new Map<string, string>();
  const walk = (d: string): void => {
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.isDirectory()) walk(p);
      else files.set(p, fs.readFileSync(p, "utf8"));
    }
  };
  if (fs.existsSync(out)) walk(out);
  return files;
}

beforeAll(async () => {
  if (!isolated) return;
  base = tmpDir("hostile");
  out = path.join(base, "out");
  hidden = path.join(base, "hidden");
  for (const name of [...names, "zz-pristine-after-all"]) {
    const src = path.join(base, "subs", name, "stages", path.basename(STAGE.dir), "src");
    writeSkeleton(STAGE.name, src);
    const file = path.join(src, TARGET);
    const block = names.includes(name) ? fs.readFileSync(path.join(FIXTURES, `${name}.ts`), "utf8") : "";
    fs.writeFileSync(file, `${block}\n${fs.readFileSync(file, "utf8")}`);
  }
  const dir = path.join(hidden, STAGE.name);
  fs.mkdirSync(dir, { recursive: true });
  fs.writeFileSync(path.join(dir, "hidden.json"), JSON.stringify({ milestones: [{ id: "x1", title: "a hidden echo", points: 10 }] }));
  fs.writeFileSync(
    path.join(dir, "secret.test.ts"),
    [
      'import { defineStage, expectEcho, randomText } from "@xps/testkit";',
      "const stage = defineStage(import.meta.dirname);",
      `const marker = "${SECRET}";`,
      'stage.milestone("x1", async (t) => {',
      "  const server = await t.server();",
      "  (await expectEcho(t, server.ports[0]!, randomText(100))).destroy();",
      "  if (marker.length === 0) t.fail(marker);",
      "});",
      "",
    ].join("\n"),
  );
  before = hashFiles(trusted());
  // One black-box milestone, the in-process one and the hidden one: every path a learner's code runs on.
  r = xps(
    ["grade", "--stage", STAGE.name, "--milestone", "m1,m4,x1", "--submissions", path.join(base, "subs"), "--tests", hidden, "--run-timeout", "30", "--milestone-timeout", "20", "--format", "json", "gradescope", "junit", "csv", "--out", out],
    { timeoutMs: 1_200_000 },
  );
  wrote = outputs();
  // The late rewrite waits two seconds: give it four.
  await new Promise((resolve) => setTimeout(resolve, 4000));
}, 1_300_000);

afterAll(() => {
  if (base) fs.rmSync(base, { recursive: true, force: true });
});

test.skipIf(!isolated)("the batch runs to its end, in a sandbox, and says which", () => {
  expect(r.code, r.stderr).toBe(0);
  expect(r.stderr).toMatch(/sandbox: (bubblewrap|unshare namespaces)/);
});

test.skipIf(!isolated)("every hostile submission scores 0, and so does the pristine one graded after them", () => {
  const records = JSON.parse(fs.readFileSync(path.join(out, "grades.json"), "utf8")) as { submission: string; milestone: string; points: number; max_points: number }[];
  const subs = [...new Set(records.map((x) => x.submission))].sort();
  expect(subs).toEqual([...names, "zz-pristine-after-all"].sort());
  for (const s of subs) {
    const earned = records.filter((x) => x.submission === s && x.points > 0).map((x) => x.milestone);
    expect(earned, `${s} earned points`).toEqual([]);
  }
  expect(records.filter((x) => x.milestone === "x1")).toHaveLength(subs.length);
});

test.skipIf(!isolated)("the hidden tests' source is in no output, and the hidden milestone is shown only once published", () => {
  for (const [file, text] of wrote) expect(text.includes(SECRET), `${path.relative(out, file)} holds the hidden test's source`).toBe(false);
  expect(fs.existsSync("/tmp/xps-hostile-exfiltrated.txt")).toBe(false);
  const gs = JSON.parse(fs.readFileSync(path.join(out, "gradescope", "exfiltrate", "results.json"), "utf8")) as { tests: { name: string; visibility: string }[] };
  expect(gs.tests.find((x) => x.name.includes("X1"))?.visibility).toBe("after_published");
});

test.skipIf(!isolated)("the output is as the grader wrote it, seconds later", () => {
  const now = outputs();
  expect([...now.keys()].sort()).toEqual([...wrote.keys()].sort());
  for (const [file, text] of wrote) expect(now.get(file), `${path.relative(out, file)} was rewritten`).toBe(text);
  expect(fs.existsSync("/autograder/results/results.json") && fs.readFileSync("/autograder/results/results.json", "utf8").includes('"score":110')).toBe(false);
});

test.skipIf(!isolated)("the course's tests, the testkit and the hidden tests are unchanged", () => {
  expect(changedFiles(before, hashFiles(trusted())).map((f) => path.relative(repoRoot, f))).toEqual([]);
});

test.skipIf(!isolated)("no junk is left and no process survives", () => {
  for (const dir of junkPlaces) {
    const junk = fs.existsSync(dir) ? fs.readdirSync(dir).filter((f) => f.startsWith("xps-hostile-")) : [];
    expect(junk, `junk in ${dir}`).toEqual([]);
  }
  const survivors = fs
    .readdirSync("/proc")
    .filter((p) => /^\d+$/.test(p))
    .filter((p) => {
      try {
        return fs.readFileSync(`/proc/${p}/cmdline`, "utf8").includes("xps-hostile");
      } catch {
        return false;
      }
    });
  expect(survivors, "processes of the hostile submissions still running").toEqual([]);
});

test.skipIf(isolated)("skipped: this machine has neither bubblewrap nor root's unshare, so hostile code could reach the checkout", () => {});
