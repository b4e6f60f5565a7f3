// pnpm verify: the course's own suite, and what CI runs.
//
//   1. type-check everything (tsc, one root tsconfig)
//   2. lint every Markdown file (markdownlint-cli)
//   3. solution markers are well-formed and match each stage's "teaches" list
//   4. every stage declares its milestones with points, and hints.md has each hint
//   5. the committed skeletons are exactly what `pnpm gen` generates (no drift)
//   6. the shared packages' unit tests pass
//   7. per stage: every test passes on the solution, and every test fails on a
//      freshly generated pristine skeleton (in a temporary folder, so a
//      learner's edits in src/ do not matter)
//   8. per stage N: a student export through N (xps export) holds no solution
//      of stage N or later: verify exports a copy of the course with a canary
//      comment inside every solution region and scans the result for region
//      fingerprints, canaries, markers and later stages
//   9. (not with --quick) the export through the last stage installs on its
//      own (pnpm install, which needs the npm registry) and its tests fail
//      there the way a learner's pristine run fails
//  11. per stage: its view (the server as it stands at that stage, see
//      variant/views.mjs) holds no code of a later stage, and type-checks
//      on its own
//  10. a copy of the course under a folder named "My Course é" installs and
//      its path-sensitive entry points work (path-check.ts)
//  12. the pages: no fenced TypeScript under docs/ or stages/ outside a code
//      excerpt, and every excerpt's source is in the course (5. checks
//      that each excerpt is what pnpm gen cuts from its source)
//  13. the course website builds (pnpm docs:build), and reads as it should
//      in the bundled Chromium (packages/site/test); (not with --quick) the
//      website of a student export holds no withheld solution (its HTML,
//      page scripts and search index are scanned like the export) and no
//      page of a later stage
//
// It prints a table stage by stage and ends with the line "N passed, M failed".
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { findDrift, writeSkeleton } from "./gen.ts";
import { listStages, markedFiles, repoRoot, type StageMeta } from "./stages.ts";
import { checkGuides, checkHints, checkMarkers, type Problem } from "./checks.ts";
import { checkPages } from "./guide-blocks.ts";
import { checkView, typecheckView } from "./view-check.ts";
import { checkCatalogue } from "./catalogue.ts";
import { stageName } from "./skeleton.ts";
import { runSuite, type TestRun } from "../../testkit/src/runner.ts";
import { canaryCopy, cleanEnv, exportStudent, installAndTest, missingCanaries, scanExport, scanSite } from "../../cli/src/export/export.ts";
import { AWKWARD_FOLDER, checkAwkwardPath } from "./path-check.ts";
import { readResultsIn } from "../../cli/src/export/results.ts";

interface Check {
  name: string;
  ok: boolean;
  detail: string[];
}

const checks: Check[] = [];
const only = process.argv.slice(2).filter((a) => !a.startsWith("-"));
const quick = process.argv.includes("--quick");

function record(name: string, ok: boolean, detail: string[] = []): boolean {
  checks.push({ name, ok, detail });
  const mark = ok ? "ok  " : "FAIL";
  console.log(`${mark} ${name}`);
  for (const d of detail) console.log(`       ${d}`);
  return ok;
}

function run(cmd: string, args: string[], opts: { cwd?: string; env?: NodeJS.ProcessEnv } = {}): { ok: boolean; out: string } {
  const r = spawnSync(cmd, args, { cwd: opts.cwd ?? repoRoot, env: opts.env ?? process.env, encoding: "utf8", maxBuffer: 64 * 1024 * 1024 });
  return { ok: r.status === 0, out: `${r.stdout ?? ""}${r.stderr ?? ""}` };
}

function tail(text: string, n: number): string[] {
  return text.trim().split("\n").slice(-n);
}

function problems(list: Problem[]): string[] {
  return list.map((p) => `${p.where}: ${p.message}`);
}

// ------------------------------------------------------------ course-wide

const bin = (name: string): string => path.join(repoRoot, "node_modules", ".bin", name);

{
  const r = run(bin("tsc"), ["-p", "tsconfig.json"]);
  record("typecheck (tsc)", r.ok, r.ok ? [] : tail(r.out, 20));
}
{
  const r = run(bin("markdownlint"), ["--ignore-path", ".markdownlintignore", "--rules", "packages/site/lint/vitepress-containers.cjs", "**/*.md"]);
  record("markdownlint", r.ok, r.ok ? [] : tail(r.out, 20));
}

const stages = listStages().filter((s) => only.length === 0 || only.includes(s.name));
try {
  const p = checkMarkers(listStages(), markedFiles());
  record("solution markers match the stages' teaches lists", p.length === 0, problems(p));
} catch (err) {
  record("solution markers match the stages' teaches lists", false, [(err as Error).message]);
}
{
  const p = checkHints(stages);
  record("milestones have points and hints", p.length === 0, problems(p));
}
{
  const p = checkGuides(stages, listStages());
  record('every stage has a guide, and from stage 7 a "What changed since" section with the generated list of changes', p.length === 0, problems(p));
}
let drift: ReturnType<typeof findDrift> = [];
try {
  drift = findDrift();
} catch (err) {
  record("skeletons can be generated", false, [(err as Error).message]);
}
record(
  "skeletons and the pages' generated blocks and code excerpts are generated from the reference (no drift)",
  drift.length === 0,
  drift.map((d) => `${path.relative(repoRoot, d.file)} ${d.problem === "missing" ? "is missing" : d.file.endsWith(".md") ? "holds a generated block or code excerpt that differs from its source" : "differs from the generated skeleton"}; run pnpm gen`),
);
{
  const p = checkPages();
  record("no page under docs/ or stages/ holds code that is not an excerpt of the source", p.length === 0, problems(p));
}

for (const pkg of fs.readdirSync(path.join(repoRoot, "packages")).sort()) {
  const dir = path.join(repoRoot, "packages", pkg);
  // The website's test reads the built site in a browser: it runs below, after the build.
  if (!fs.existsSync(path.join(dir, "test")) || pkg === "site") continue;
  // Without --quick, the CLI's tests also run the Gradescope bundle and the Classroom workflow as their services do.
  const r = await runSuite(dir, { ...process.env, ...(pkg === "cli" && !quick ? { XPS_TEST_AUTOGRADERS: "1" } : {}) });
  record(`unit tests of @xps/${pkg} (${r.passed.length} passed)`, r.ok && r.failed.length === 0, r.ok ? r.failed.map((f) => f.name) : [r.error ?? "vitest failed", ...tail(r.output, 15)]);
}

// ------------------------------------------------------------ per stage

interface StageRow {
  stage: StageMeta;
  view: string;
  catalogue: string;
  hints: string;
  exported: string;
  tests: number;
  solution: string;
  skeleton: string;
  drift: string;
}
const rows: StageRow[] = [];

function failuresOf(r: TestRun): string[] {
  return r.failed.flatMap((f) => [`✗ ${f.name}`, ...f.message.split("\n").slice(0, 12).map((l) => `    ${l}`)]);
}

for (const stage of stages) {
  let viewCell = "ok";
  try {
    const p = checkView(stage);
    record(`${stage.name}: its view holds no later stage's code and every module it teaches`, p.length === 0, problems(p));
    const tsc = typecheckView(stage);
    record(`${stage.name}: its view type-checks on its own`, tsc.length === 0, tsc.slice(0, 20));
    if (p.length > 0 || tsc.length > 0) viewCell = `${p.length + tsc.length} problem(s)`;
  } catch (err) {
    record(`${stage.name}: its view can be made`, false, [(err as Error).message]);
    viewCell = "failed!";
  }
  const env: NodeJS.ProcessEnv = { ...process.env, XPS_VARIANT: "solution", XPS_LEARNER_DIR: "" };
  const sol = await runSuite(stage.dir, env);
  const declared = (stage.milestones ?? []).map((m) => m.id.toUpperCase());
  const names = [...sol.passed, ...sol.failed.map((f) => f.name)];
  const stray = names.filter((n) => !declared.some((d) => n.startsWith(`${d} `)));
  const untested = declared.filter((d) => !names.some((n) => n.startsWith(`${d} `)));
  record(
    `${stage.name}: every test passes on the solution (${sol.passed.length}/${names.length})`,
    sol.ok && sol.failed.length === 0 && names.length > 0,
    sol.ok ? failuresOf(sol) : [sol.error ?? "vitest did not run", ...tail(sol.output, 20)],
  );
  record(
    `${stage.name}: every test belongs to a declared milestone, and every milestone has a test`,
    stray.length === 0 && untested.length === 0,
    [...stray.map((n) => `test "${n}" names no declared milestone`), ...untested.map((d) => `milestone ${d} has no test`)],
  );

  // The lesson is visible: the milestones that say what this stage fixes
  // fail on the previous stage's solution.
  const previous = listStages().filter((s) => s.stage < stage.stage).at(-1);
  if (stage.lessons && stage.lessons.length > 0) {
    const name = `${stage.name}: ${stage.lessons.map((m) => m.toUpperCase()).join(", ")} fail(s) on the solution of ${previous?.name ?? "the stage before"} (the lesson is visible)`;
    if (previous === undefined) record(name, false, ["there is no earlier stage"]);
    else {
      const pattern = `^(${stage.lessons.map((m) => m.toUpperCase()).join("|")}) `;
      const r = await runSuite(stage.dir, { ...env, XPS_SERVER_STAGE_DIR: previous.dir, XPS_RESULTS: "off" }, { pattern });
      const lessonTests = [...r.passed, ...r.failed.map((f) => f.name)].filter((n) => new RegExp(pattern).test(n));
      const passing = r.passed.filter((n) => new RegExp(pattern).test(n));
      record(
        name,
        r.ok && lessonTests.length > 0 && passing.length === 0,
        r.ok ? [...passing.map((n) => `"${n}" passes on ${previous.name}'s solution: it does not show what ${stage.name} changes`), ...(lessonTests.length === 0 ? ["no lesson test ran"] : [])] : [r.error ?? "vitest did not run", ...tail(r.output, 15)],
      );
    }
  }

  // The mistakes catalogue: every wrong solution it lists is caught.
  let catalogue = "none";
  {
    const c = await checkCatalogue(stage);
    catalogue = c.total === 0 ? "none!" : `caught ${c.caught}/${c.total}`;
    record(`${stage.name}: its mistakes catalogue is caught, ${catalogue} (${(c.ms / 1000).toFixed(0)} s)`, c.problems.length === 0 && c.total > 0, c.problems);
  }

  let skeleton = "skipped";
  if (!quick) {
    // Inside the stage (git-ignored .xps/), so the copy resolves the workspace packages.
    fs.mkdirSync(path.join(stage.dir, ".xps"), { recursive: true });
    const tmp = fs.mkdtempSync(path.join(stage.dir, ".xps", "pristine-"));
    writeSkeleton(stage.name, tmp);
    const skel = await runSuite(stage.dir, { ...process.env, XPS_VARIANT: "learner", XPS_LEARNER_DIR: tmp });
    fs.rmSync(tmp, { recursive: true, force: true });
    const ran = [...skel.passed, ...skel.failed.map((f) => f.name)];
    const missing = names.filter((n) => !ran.includes(n));
    const allFail = skel.ok && skel.passed.length === 0 && missing.length === 0;
    record(
      `${stage.name}: every test fails on the pristine skeleton (${skel.failed.length}/${names.length})`,
      allFail,
      skel.ok
        ? [
            ...skel.passed.map((n) => `"${n}" passes on the pristine skeleton: it cannot tell a solved stage from an unsolved one`),
            ...missing.map((n) => `"${n}" did not run on the pristine skeleton (its file failed to load?)`),
            ...(missing.length > 0 ? tail(skel.output, 15) : []),
          ]
        : [skel.error ?? "vitest did not run", ...tail(skel.output, 20)],
    );
    skeleton = allFail ? `all ${skel.failed.length} fail` : skel.passed.length > 0 ? `${skel.passed.length} pass!` : `${missing.length} did not run!`;
  }
  const stageDrift = drift.filter((d) => d.stage === stage.name).length;
  const hintProblems = checkHints([stage]).length;
  rows.push({
    stage,
    view: viewCell,
    catalogue,
    hints: hintProblems === 0 ? "ok" : `${hintProblems} problem(s)`,
    exported: exportLeaks(stage),
    tests: names.length,
    solution: sol.ok && sol.failed.length === 0 ? `all ${sol.passed.length} pass` : `${sol.failed.length} fail!`,
    skeleton,
    drift: stageDrift === 0 ? "none" : `${stageDrift} file(s)`,
  });
}

// ------------------------------------------------------------ the bundled browser

// Stage 11's M10 on the solution with every system browser hidden and an
// empty TMPDIR: the Chromium that `pnpm install` brings must unpack and work,
// as on a fresh machine, whatever this machine has installed or cached.
for (const stage of stages.filter((s) => s.name === "stage-11")) {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xps-verify-browser-"));
  const env: NodeJS.ProcessEnv = { ...process.env, XPS_VARIANT: "solution", XPS_HIDE_SYSTEM_BROWSERS: "1", TMPDIR: tmp, XPS_RESULTS: "off", XPS_LEARNER_DIR: "" };
  const r = await runSuite(stage.dir, env, { pattern: "^M10 " });
  fs.rmSync(tmp, { recursive: true, force: true });
  const m10 = { ...r, passed: r.passed.filter((n) => n.startsWith("M10 ")), failed: r.failed.filter((f) => f.name.startsWith("M10 ")) };
  record(
    `${stage.name}: M10 passes with the bundled Chromium alone (XPS_HIDE_SYSTEM_BROWSERS=1, an empty TMPDIR)`,
    r.ok && m10.failed.length === 0 && m10.passed.length > 0,
    !r.ok ? [r.error ?? "vitest did not run", ...tail(r.output, 20)] : m10.passed.length + m10.failed.length === 0 ? ["no M10 test ran", ...tail(r.output, 10)] : failuresOf(m10),
  );
}

// ------------------------------------------------------------ the course website

// pnpm docs:build, then the site read as a reader would: served from a free
// port and opened in the bundled Chromium (system browsers hidden, as on a
// fresh machine; packages/site/test/site.test.ts).
{
  const started = Date.now();
  const r = run(process.execPath, ["--import", "tsx", path.join(repoRoot, "packages", "site", "src", "docs.ts"), "build"], { env: { ...process.env, XPS_DOCS_OUT: "", XPS_DOCS_ROOT: "", XPS_DOCS_BASE: "" } });
  const secs = ((Date.now() - started) / 1000).toFixed(0);
  if (record(`the course website builds (pnpm docs:build, ${secs} s)`, r.ok, r.ok ? [] : tail(r.out, 25))) {
    const t0 = Date.now();
    const env: NodeJS.ProcessEnv = { ...process.env, XPS_HIDE_SYSTEM_BROWSERS: "1", XPS_DOCS_OUT: "", XPS_DOCS_ROOT: "", XPS_DOCS_BASE: "" };
    const t = await runSuite(path.join(repoRoot, "packages", "site"), env);
    record(
      `the course website in the bundled Chromium: every stage on the home page in order, excerpts highlighted, diagrams as SVG, search, no console error (${t.passed.length} passed, ${((Date.now() - t0) / 1000).toFixed(0)} s)`,
      t.ok && t.failed.length === 0 && t.passed.length > 0,
      t.ok ? failuresOf(t) : [t.error ?? "vitest did not run", ...tail(t.output, 20)],
    );
  }
}

// ------------------------------------------------------------ exports

/** Export a canary-marked copy of the course through the stage, and scan it. Returns the table cell. */
function exportLeaks(stage: StageMeta): string {
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xps-verify-export-"));
  try {
    const marked = path.join(tmp, "course");
    fs.mkdirSync(marked);
    const canaries = canaryCopy(repoRoot, marked, Math.random().toString(36).slice(2, 10));
    const out = path.join(tmp, "export");
    exportStudent(marked, out, stage.stage);
    const leaks = scanExport(out, stage.stage, marked, canaries);
    const blind = missingCanaries(out, stage.stage, canaries);
    record(
      `${stage.name}: a student export through it holds no solution of ${stage.name} or later (${canaries.filter((c) => c.stage >= stage.stage).length} canaries withheld)`,
      leaks.length === 0 && blind.length === 0,
      [
        ...leaks.map((l) => `${l.file}: ${l.what}`),
        ...blind.map((c) => `the canary of ${c.where} (${stageName(c.stage)}, released) is missing from the export: the leak scan cannot see what it should`),
      ],
    );
    return leaks.length === 0 && blind.length === 0 ? "no leak" : `${leaks.length} leak(s)!`;
  } catch (err) {
    record(`${stage.name}: a student export through it holds no solution of ${stage.name} or later`, false, [(err as Error).message]);
    return "failed!";
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

if (!quick && stages.length > 0) {
  const last = listStages().at(-1)!;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), "xps-verify-install-"));
  const name = `the student export through ${last.name} installs on its own, and its ${last.name} tests fail there as a learner's do`;
  try {
    exportStudent(repoRoot, tmp, last.stage);
    const resultsDir = fs.mkdtempSync(path.join(os.tmpdir(), "xps-verify-results-"));
    const r = installAndTest(tmp, last.name, resultsDir);
    const results = readResultsIn(resultsDir, last.name);
    fs.rmSync(resultsDir, { recursive: true, force: true });
    const recorded = fs.existsSync(path.join(tmp, ".xps", "results"));
    const declared = (last.milestones ?? []).map((m) => m.id);
    const failing = declared.filter((id) => results?.milestones[id]?.status === "failed");
    const ok = r.installed && r.testExit !== 0 && r.testExit !== null && failing.length === declared.length && !recorded;
    record(
      name,
      ok,
      ok
        ? []
        : !r.installed
          ? ["pnpm install failed in the export:", ...tail(r.installOutput, 12)]
          : [
              ...(recorded ? ["the check's own test run was saved in the export's .xps/results, as if the learner had run it"] : []),
              `pnpm test --filter ${last.name} exited ${r.testExit}; ${failing.length} of ${declared.length} milestones failed (all must, on a pristine skeleton)`,
              ...tail(r.testOutput, 12),
            ],
    );
  } catch (err) {
    record(name, false, [(err as Error).message]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// The website of a student export: built from the export (canaries inside
// every solution region), it holds no solution of the withheld stages in its
// HTML, its pages' JavaScript or its search index, and no page of them.
if (!quick && stages.length > 1) {
  const through = listStages().at(-2)!;
  const name = `the website of a student export through ${through.name} holds no solution of ${through.name} or later, and no later stage`;
  // Inside the site package (git-ignored .xps/), so the export's pages resolve the site's Vue.
  fs.mkdirSync(path.join(repoRoot, "packages", "site", ".xps"), { recursive: true });
  const tmp = fs.mkdtempSync(path.join(repoRoot, "packages", "site", ".xps", "student-site-"));
  try {
    const marked = path.join(tmp, "course");
    fs.mkdirSync(marked);
    const canaries = canaryCopy(repoRoot, marked, Math.random().toString(36).slice(2, 10));
    const out = path.join(tmp, "export");
    exportStudent(marked, out, through.stage);
    const dist = path.join(out, "packages", "site", "dist");
    const started = Date.now();
    const b = run(process.execPath, ["--import", "tsx", path.join(repoRoot, "packages", "site", "src", "docs.ts"), "build"], { env: { ...process.env, XPS_DOCS_ROOT: out, XPS_DOCS_OUT: dist, XPS_DOCS_BASE: "" } });
    if (!b.ok) record(name, false, ["pnpm docs:build failed on the export:", ...tail(b.out, 20)]);
    else {
      const leaks = [...scanExport(out, through.stage, marked, canaries), ...scanSite(dist, through.stage, marked)];
      record(`${name} (built in ${((Date.now() - started) / 1000).toFixed(0)} s)`, leaks.length === 0, leaks.map((l) => `${l.file}: ${l.what}`));
    }
  } catch (err) {
    record(name, false, [(err as Error).message]);
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

// ------------------------------------------------------------ paths

{
  const name = `the course works from a folder whose path a URL must encode ("${AWKWARD_FOLDER}")`;
  try {
    const failures = checkAwkwardPath(repoRoot, cleanEnv());
    record(name, failures.length === 0, failures);
  } catch (err) {
    record(name, false, [(err as Error).message]);
  }
}

// ------------------------------------------------------------ report

const header = ["stage", "title", "view", "milestones", "points", "hints", "tests", "solution", "pristine skeleton", "mistakes", "drift", "student export"];
const table = rows.map((r) => [
  r.stage.name,
  r.stage.title,
  r.view,
  String(r.stage.milestones?.length ?? 0),
  String((r.stage.milestones ?? []).reduce((a, m) => a + m.points, 0)),
  r.hints,
  String(r.tests),
  r.solution,
  r.skeleton,
  r.catalogue,
  r.drift,
  r.exported,
]);
const widths = header.map((h, i) => Math.max(h.length, ...table.map((row) => row[i]!.length)));
const line = (cells: string[]): string => cells.map((c, i) => c.padEnd(widths[i]!)).join("  ");
console.log("");
console.log(line(header));
console.log(widths.map((w) => "-".repeat(w)).join("  "));
for (const row of table) console.log(line(row));
console.log("");
const failed = checks.filter((c) => !c.ok);
for (const c of failed) console.log(`failed: ${c.name}`);
console.log(`${checks.length - failed.length} passed, ${failed.length} failed`);
process.exit(failed.length === 0 ? 0 : 1);
