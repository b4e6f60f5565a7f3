// The learner's commands that run no tests (status, hint, reset, diff), on a
// scratch copy of the course (XPS_ROOT), so the real checkout is untouched.
import fs from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, test } from "vitest";
import { parseHints } from "../src/hints.ts";
import { unifiedDiff } from "../src/diff.ts";
import { listStages } from "@xps/course/stages";
import { repoRoot, scratchCourse, stage, writeResults, writeSolved, xps } from "./helpers.ts";

const escapeRe = (x: string): string => x.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

const stages = (root = repoRoot) => listStages(root);

let root = "";
let env: NodeJS.ProcessEnv = {};
beforeAll(() => {
  root = scratchCourse();
  env = { XPS_ROOT: root };
});
afterAll(() => {
  fs.rmSync(root, { recursive: true, force: true });
});

describe("xps status", () => {
  test("on the pristine skeleton, nothing run yet: 0 of N for every stage", () => {
    const r = xps(["status"], { env });
    expect(r.code).toBe(0);
    const all = stages(root);
    all.forEach((s, i) => {
      const next = i === 0 ? `start: pnpm xps test ${s.name}` : `after ${all[0]!.name}: pnpm xps test ${s.name}`;
      expect(r.stdout).toMatch(new RegExp(`^${s.name}\\s+${escapeRe(s.title)}\\s+0 of ${s.milestones!.length}\\s+0/100\\s+not run yet\\s+${escapeRe(next)}$`, "m"));
    });
  });

  test("after a run: what passed, and the first failing milestone with its hint", () => {
    const s10 = stage("stage-10", root);
    const n = s10.milestones!.length;
    const m3 = s10.milestones!.find((m) => m.id === "m3")!;
    writeResults(path.join(root, ".xps", "results"), s10, Object.fromEntries(s10.milestones!.map((m) => [m.id, m.id === "m3" ? "failed" : "passed"])));
    for (const f of fs.readdirSync(path.join(s10.dir, "src"))) fs.utimesSync(path.join(s10.dir, "src", f), new Date(Date.now() - 60_000), new Date(Date.now() - 60_000));
    const r = xps(["status"], { env });
    expect(r.stdout).toMatch(new RegExp(`^stage-10\\s+Pipes\\s+${n - 1} of ${n}\\s+${100 - m3.points}/100\\s+\\d+ s ago\\s+M3 flow control: .*: pnpm xps test stage-10 -m m3, pnpm xps hint stage-10 h3$`, "m"));
    const json = JSON.parse(xps(["status", "--json"], { env }).stdout) as { stage: string; passed: number; total: number; milestones: Record<string, string> }[];
    expect(json.map((s) => [s.stage, s.passed, s.total])).toEqual(stages(root).map((s) => [s.name, s.name === "stage-10" ? n - 1 : 0, s.milestones!.length]));
    expect(json.find((s) => s.stage === "stage-10")!.milestones.m3).toBe("failed");
  });

  test("a file changed after the last run says so", () => {
    const s10 = stage("stage-10", root);
    fs.utimesSync(path.join(s10.dir, "src", "pipe.ts"), new Date(), new Date(Date.now() + 5000));
    expect(xps(["status"], { env }).stdout).toMatch(/stage-10 .*\(files changed\)\s+your files changed since: pnpm xps test stage-10/);
  });
});

describe("xps hint", () => {
  test("the hints.md of every stage parses into sections of two or more levels", () => {
    for (const name of stages().map((x) => x.name)) {
      const s = stage(name);
      const sections = parseHints(fs.readFileSync(path.join(s.dir, "hints.md"), "utf8"));
      expect(sections.length).toBeGreaterThan(0);
      for (const m of s.milestones ?? []) {
        const h = sections.find((x) => x.id === m.hint);
        expect(h, `${name} ${m.id} -> ${m.hint}`).toBeDefined();
        expect(h!.levels.length).toBeGreaterThanOrEqual(2);
      }
    }
  });

  test("parseHints: titles, levels, and headings inside code fences are text", () => {
    const md = ["# Hints", "", "## h1 First", "intro", "### Level 1", "one", "```md", "### not a level", "```", "### Level 2", "two", "## h2 Second", "### Level 1", "a", "### Level 2", "b"].join("\n");
    const s = parseHints(md);
    expect(s.map((x) => [x.id, x.title, x.levels.length])).toEqual([
      ["h1", "First", 2],
      ["h2", "Second", 2],
    ]);
    expect(s[0]!.intro).toBe("intro");
    expect(s[0]!.levels[0]!.body).toContain("### not a level");
  });

  test("one level at a time, then the last one again; --level and --reset", () => {
    const first = xps(["hint", "stage-10", "h2"], { env });
    expect(first.code).toBe(0);
    expect(first.stdout).toMatch(/stage-10 hint h2: Concurrent clients/);
    expect(first.stdout).toMatch(/Level 1 \(1 of 3\)/);
    expect(first.stdout).toMatch(/The next level: pnpm xps hint stage-10 h2/);
    expect(xps(["hint", "10", "2"], { env }).stdout).toMatch(/Level 2 \(2 of 3\)/);
    expect(xps(["hint", "10", "m2"], { env }).stdout).toMatch(/Level 3 \(3 of 3\)[\s\S]*That was the last level/);
    expect(xps(["hint", "10", "h2"], { env }).stdout).toMatch(/Level 3 \(3 of 3\)/);
    expect(xps(["hint", "10", "h2", "--level", "1"], { env }).stdout).toMatch(/Level 1 \(1 of 3\)/);
    expect(xps(["hint", "10", "h2", "--reset"], { env }).stdout).toMatch(/back to Level 1/);
    expect(xps(["hint", "10", "h2"], { env }).stdout).toMatch(/Level 1 \(1 of 3\)/);
    expect(xps(["hint", "10", "--list"], { env }).stdout).toMatch(/^h2\s+Concurrent clients\s+\(M2; 1 of 3 levels read\)$/m);
  });

  test("with no hint named: the first failing milestone's", () => {
    const s10 = stage("stage-10", root);
    writeResults(path.join(root, ".xps", "results"), s10, { m1: "passed", m2: "passed", m3: "passed", m4: "failed" });
    expect(xps(["hint", "10"], { env }).stdout).toMatch(/stage-10 hint h4: /);
  });
});

describe("xps reset", () => {
  test("restores the pristine skeleton, keeping the learner's version", () => {
    const s10 = stage("stage-10", root);
    const file = path.join(s10.dir, "src", "pipe.ts");
    const pristine = fs.readFileSync(file, "utf8");
    fs.writeFileSync(file, `${pristine}\n// my work\n`);
    const refused = xps(["reset", "10", "pipe.ts"], { env });
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/add --yes: pnpm xps reset stage-10 pipe.ts --yes/);
    expect(fs.readFileSync(file, "utf8")).toContain("// my work");
    const r = xps(["reset", "stage-10", "src/pipe.ts", "--yes"], { env });
    expect(r.code).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toBe(pristine);
    const backups = path.join(s10.dir, ".xps", "backups");
    const [stamp] = fs.readdirSync(backups);
    expect(fs.readFileSync(path.join(backups, stamp!, "pipe.ts"), "utf8")).toContain("// my work");
    expect(xps(["reset", "10", "--yes"], { env }).stdout).toMatch(/already the pristine skeleton/);
  });

  test("a missing file comes back too", () => {
    const s11 = stage("stage-11", root);
    const file = path.join(s11.dir, "src", "routes.ts");
    fs.rmSync(file);
    expect(xps(["reset", "11", "--yes"], { env }).code).toBe(0);
    expect(fs.readFileSync(file, "utf8")).toMatch(/^\/\/ stage-11: your copy of packages\/connection\/src\/routes.ts/);
  });

  test("answering no changes nothing", () => {
    const s10 = stage("stage-10", root);
    const file = path.join(s10.dir, "src", "connection.ts");
    fs.appendFileSync(file, "// mine\n");
    // readline reads the answer from stdin; without a terminal, reset needs --yes.
    expect(xps(["reset", "10", "connection.ts"], { env, input: "n\n" }).code).toBe(2);
    expect(fs.readFileSync(file, "utf8")).toContain("// mine");
    xps(["reset", "10", "--yes"], { env });
  });
});

describe("xps diff", () => {
  test("is offered only once every milestone passes", () => {
    const s11 = stage("stage-11", root);
    const none = xps(["diff", "11"], { env });
    expect(none.code).toBe(1);
    expect(none.stderr).toMatch(/have not run yet; run pnpm xps test stage-11/);
    writeResults(path.join(root, ".xps", "results"), s11, { m1: "passed", m2: "failed" });
    const some = xps(["diff", "11"], { env });
    expect(some.code).toBe(1);
    expect(some.stderr).toMatch(new RegExp(`1 of ${(s11.milestones ?? []).length} did`));
  });

  test("then shows the learner's files against the reference", () => {
    const s11 = stage("stage-11", root);
    writeSolved(s11, path.join(s11.dir, "src"), root);
    const routes = path.join(s11.dir, "src", "routes.ts");
    fs.writeFileSync(routes, fs.readFileSync(routes, "utf8").replace(/\n}\n/, "\n  // my own comment\n}\n"));
    const old = new Date(Date.now() - 120_000);
    for (const f of ["routes.ts", "upstream.ts"]) fs.utimesSync(path.join(s11.dir, "src", f), old, old);
    writeResults(path.join(root, ".xps", "results"), s11, Object.fromEntries((s11.milestones ?? []).map((m) => [m.id, "passed" as const])));
    const r = xps(["diff", "11"], { env });
    expect(r.code).toBe(0);
    expect(r.stdout).toMatch(/^--- yours: .*routes\.ts$/m);
    expect(r.stdout).toMatch(/^\+\+\+ reference: packages\/connection\/src\/routes\.ts$/m);
    expect(r.stdout).toMatch(/^-  \/\/ my own comment$/m);
    expect(r.stdout).toMatch(/upstream\.ts: the same as the reference/);
    expect(r.stdout).toMatch(/1 of 2 files are exactly the reference/);
  });
});

describe("unifiedDiff", () => {
  test("hunks with context, and nothing for equal texts", () => {
    const a = "abcdefghijklmn".split("").join("\n") + "\n";
    const b = "abcDefghijklmn".split("").join("\n") + "\no\n";
    expect(unifiedDiff("x", "y", a, a)).toBe("");
    expect(unifiedDiff("x", "y", a, b)).toBe(
      ["--- x", "+++ y", "@@ -1,7 +1,7 @@", " a", " b", " c", "-d", "+D", " e", " f", " g", "@@ -12,3 +12,4 @@", " l", " m", " n", "+o"].join("\n"),
    );
    // Changes closer than twice the context share a hunk.
    expect(unifiedDiff("x", "y", "a\nb\nc\nd\ne", "A\nb\nc\nd\nE").split("\n").filter((l) => l.startsWith("@@"))).toEqual(["@@ -1,5 +1,5 @@"]);
  });
});

test("the scratch course is a copy: the real checkout's stages are not touched", () => {
  expect(root.startsWith(repoRoot)).toBe(false);
});
