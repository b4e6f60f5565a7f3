// xps export student: what a released distribution holds, and the leak scan.
import fs from "node:fs";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { expectedSkeletons } from "@xps/course/gen";
import { listStages, markedFiles } from "@xps/course/stages";
import { overridesFor, withheldReferences } from "@xps/course/overrides";
import { canaryCopy, dropCourseOnly, exportStudent, exportText, missingCanaries, offeredCommands, scanExport } from "../src/export/export.ts";
import { repoRoot, tmpDir, xps } from "./helpers.ts";

const dirs: string[] = [];
const scratch = (p: string): string => {
  const d = tmpDir(p);
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) fs.rmSync(d, { recursive: true, force: true });
});

describe("exportText", () => {
  const ref = ["import { OK } from \"@xps/utils\";", "", "export function a(): number {", "  // @solution stage-10 begin 1: One", "  //> Return one.", "  return 1 + 0 + 0 + 0 + 0 + 0 + 0 + 0;", "  // @solution end", "}", "export function b(): number {", "  // @solution stage-11 begin 1: Two", "  return 2 + 0 + 0 + 0 + 0 + 0 + 0 + 0;", "  // @solution end", "}", ""].join("\n");
  test("stubs stage N and later, keeps earlier regions with their markers", () => {
    const out = exportText(ref, "ref.ts", 11);
    expect(out).toContain("// @solution stage-10 begin 1: One");
    expect(out).toContain("return 1 + 0");
    expect(out).not.toContain("return 2 + 0");
    expect(out).not.toContain("@solution stage-11");
    expect(out).toContain('throw todo("stage-11", 1, "Two");');
    expect(out.split("\n")[1]).toBe('import { todo } from "@xps/utils/todo";');
    expect(exportText(ref, "ref.ts", 12)).toBe(ref);
  });
});

describe("xps export student", () => {
  test.each([7, 10, 11])("through stage %i: a workspace of its own, with no solution of that stage or later", (n) => {
    const out = path.join(scratch(`export-${n}`), "course");
    const r = xps(["export", "student", out, "--through", String(n)]);
    expect(r.code, r.stderr).toBe(0);
    expect(r.stdout).toMatch(/leak check: no region of the withheld stages/);
    for (const f of ["package.json", "pnpm-workspace.yaml", "turbo.json", "tsconfig.json", ".gitignore", "README.md", "pnpm-lock.yaml", "docs", "packages/cli/src/main.ts"]) {
      expect(fs.existsSync(path.join(out, f)), f).toBe(true);
    }
    expect(fs.readdirSync(path.join(out, "stages")).sort()).toEqual(listStages(repoRoot).filter((s) => s.stage <= n).map((s) => path.basename(s.dir)).sort());
    for (const d of ["node_modules", ".xps", "stages/stage-11-upstream/test-artifacts", "packages/cli/test"]) expect(fs.existsSync(path.join(out, d)), d).toBe(false);
    expect(fs.readFileSync(path.join(out, "README.md"), "utf8")).toMatch(/## This distribution[\s\S]*not `pnpm install --frozen-lockfile`/);
    // Every stage's src/ is the course's pristine skeleton.
    for (const s of expectedSkeletons(repoRoot).filter((x) => Number(x.stage.slice(6)) <= n)) {
      const rel = path.relative(repoRoot, s.file);
      expect(fs.readFileSync(path.join(out, rel), "utf8"), rel).toBe(s.text);
    }
    // No region body of stage n or later, anywhere; earlier regions are there.
    const all = fs.readFileSync(path.join(out, "packages/core/src/pipe.ts"), "utf8");
    expect(all.includes("// @solution stage-10 begin")).toBe(n > 10);
    expect(scanExport(out, n, repoRoot)).toEqual([]);
    if (n === 7) {
      // Nothing of stage 8 or later, not even stubbed: the send queue, the
      // level-triggered loop, handle_connections, the pipe.
      const code = (rel: string): string => fs.readFileSync(path.join(out, rel), "utf8");
      for (const rel of ["packages/connection/src/early/connection.ts", "packages/core/src/loop.ts", "packages/connection/src/socket.ts", "packages/core/src/core.ts"]) {
        for (const later of ["writeBuffList", "reportWritable", "handleConnections", "socketSendSome", "pipeCreate", "stage-08"]) expect(code(rel), `${rel} holds ${later}`).not.toContain(later);
      }
      expect(code("packages/core/src/pipe.ts")).toMatch(/^\/\/ @stages 10-\n\/\/ This module comes with a later stage\.\n$/);
    }
    expect(xps(["export", "student", out, "--through", String(n)]).stderr).toMatch(/is not empty; name a new folder, or add --force/);
  });

  test("with a canary in every region: no withheld canary leaks, every released one is there", () => {
    const base = scratch("canary");
    const course = path.join(base, "course");
    fs.mkdirSync(course);
    const canaries = canaryCopy(repoRoot, course, "t3st");
    expect(canaries.length).toBe(markedFiles(repoRoot).reduce((a, m) => a + m.regions.length, 0));
    for (const n of [10, 11]) {
      const out = path.join(base, `out-${n}`);
      exportStudent(course, out, n);
      expect(scanExport(out, n, course, canaries)).toEqual([]);
      expect(missingCanaries(out, n, canaries)).toEqual([]);
    }
  });

  test("the scan finds what a careless export would leak", () => {
    const out = path.join(scratch("leaky"), "course");
    exportStudent(repoRoot, out, 11);
    // A solution copied back into packages/, a stray marker, and a later stage's folder.
    fs.copyFileSync(path.join(repoRoot, "packages/connection/src/upstream.ts"), path.join(out, "packages/connection/src/upstream.ts"));
    fs.writeFileSync(path.join(out, "stages/stage-10-pipes/notes.ts"), "// @solution stage-11 begin 9: oops\n");
    fs.writeFileSync(path.join(out, "docs/marker.md"), "An example: `// @solution stage-12 begin 3: title` (prose is fine)\n");
    const leaks = scanExport(out, 11, repoRoot);
    expect(leaks.some((l) => l.file === "packages/connection/src/upstream.ts" && /^the code of stage-11 TODO/.test(l.what))).toBe(true);
    expect(leaks.some((l) => l.file === "stages/stage-10-pipes/notes.ts" && /marker/.test(l.what))).toBe(true);
    expect(leaks.some((l) => l.file === "docs/marker.md")).toBe(false);
    const cli = xps(["export", "student", out, "--through", "10", "--force"]);
    expect(cli.code).toBe(0);
    expect(fs.existsSync(path.join(out, "stages/stage-11-upstream"))).toBe(false);
  });

  test("code shaped like a withheld TODO is a leak, and the authors' fault fixtures stay out", () => {
    const out = path.join(scratch("shaped"), "course");
    exportStudent(repoRoot, out, 11);
    expect(fs.existsSync(path.join(out, "packages/faults"))).toBe(false);
    // The fixtures' wire() is stage 11's TODO 2 with other names: no fingerprint matches it.
    fs.mkdirSync(path.join(out, "packages/faults/fixtures"), { recursive: true });
    fs.copyFileSync(path.join(repoRoot, "packages/faults/fixtures/server.ts"), path.join(out, "packages/faults/fixtures/server.ts"));
    const leaks = scanExport(out, 11, repoRoot).map((l) => `${l.file}: ${l.what}`);
    expect(leaks).toContainEqual(expect.stringMatching(/^packages\/faults\/fixtures\/server\.ts: code shaped like stage-11 TODO 2 /));
    expect(leaks).toContainEqual("packages/faults: the course authors' package is in the export");
  });

  test("pages say only what works in the copy: course-only blocks go, a stray command is caught", () => {
    const md = ["# A", "", "<!-- course-only -->", "Run `XPS_VARIANT=solution pnpm test --filter stage-11`.", "<!-- /course-only -->", "", "Keep this.", ""].join("\n");
    expect(dropCourseOnly(md)).toBe("# A\n\nKeep this.\n");
    expect(offeredCommands("```bash\npnpm demo\n```\nProse about pnpm demo, and `pnpm verify`.\n").map((c) => c.text)).toEqual(["pnpm demo", "pnpm verify"]);
    const out = path.join(scratch("pages"), "course");
    exportStudent(repoRoot, out, 11);
    for (const doc of ["docs/instructors.md", "docs/performance.md"]) expect(fs.existsSync(path.join(out, doc)), doc).toBe(false);
    // Stage 10's reference is released, so its page keeps how to run it; stage 11's is not.
    expect(fs.readFileSync(path.join(out, "stages/stage-10-pipes/README.md"), "utf8")).toContain("XPS_VARIANT=solution pnpm test --filter stage-10");
    fs.appendFileSync(path.join(out, "stages/stage-11-upstream/README.md"), "\n```bash\nXPS_VARIANT=solution pnpm --filter stage-11 start\n```\n");
    expect(scanExport(out, 11, repoRoot).map((l) => l.what)).toContainEqual(expect.stringMatching(/^offers "XPS_VARIANT=solution"/));
  });

  test("in a copy that withholds a stage's reference, asking for it says so instead of running stubs", () => {
    const out = path.join(scratch("withheld"), "course");
    exportStudent(repoRoot, out, 11);
    const stageDir = path.join(out, "stages/stage-11-upstream");
    expect(withheldReferences(stageDir).length).toBeGreaterThan(0);
    expect(() => overridesFor(stageDir, { XPS_VARIANT: "solution" })).toThrow(/stage-11's reference solution is not part of this copy of the course/);
    expect(withheldReferences(path.join(out, "stages/stage-10-pipes"))).toEqual([]);
    expect(withheldReferences(path.join(repoRoot, "stages/stage-11-upstream"))).toEqual([]);
  });
});
