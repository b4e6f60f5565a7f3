import { describe, expect, test } from "vitest";
import { MarkerError, fingerprint, parseRegions, render, skeletonFor, solvedFor } from "../src/skeleton.ts";
import { checkMarkers } from "../src/checks.ts";

const ref = [
  'import { OK } from "@xps/utils";',
  "",
  "export function a(x: number): number {",
  "  // @solution stage-10 begin 1: Double it",
  "  //> Multiply by two.",
  "  return x * 2;",
  "  // @solution end",
  "}",
  "",
  "export function b(): number {",
  "  // @solution stage-11 begin 1: Return OK",
  "  return OK;",
  "  // @solution end",
  "}",
  "",
].join("\n");

describe("regions", () => {
  test("parse the stage, TODO number, title, notes and body", () => {
    const [r1, r2] = parseRegions(ref, "ref.ts");
    expect(r1).toMatchObject({ stage: 10, todo: 1, title: "Double it", notes: ["Multiply by two."], body: ["  return x * 2;"], indent: "  " });
    expect(r2).toMatchObject({ stage: 11, todo: 1, title: "Return OK" });
  });

  test("malformed markers are errors that name the line", () => {
    expect(() => parseRegions("// @solution end\n", "f.ts")).toThrow(/f\.ts:1/);
    expect(() => parseRegions("// @solution stage-1 begin 1: x\n", "f.ts")).toThrow(/never ends/);
    expect(() => parseRegions("// @solution stage-1 begin 1: a\n// @solution stage-1 begin 2: b\n", "f.ts")).toThrow(MarkerError);
    expect(() => parseRegions("// @solution stage-x begin\n", "f.ts")).toThrow(/malformed/);
  });
});

describe("rendering", () => {
  test("stage 10's skeleton stubs stage 10 and later, and imports todo once", () => {
    const out = skeletonFor(ref, "ref.ts", 10, "stage-10");
    expect(out).toContain('throw todo("stage-10", 1, "Double it");');
    expect(out).toContain('throw todo("stage-11", 1, "Return OK");');
    expect(out).toContain("// Multiply by two.");
    expect(out).not.toContain("x * 2");
    expect(out).not.toContain("@solution");
    expect(out.match(/import \{ todo \}/g)).toHaveLength(1);
    expect(out.indexOf('import { todo }')).toBeGreaterThan(out.indexOf('import { OK }'));
  });

  test("stage 11's skeleton keeps stage 10's solution", () => {
    const out = skeletonFor(ref, "ref.ts", 11, "stage-11");
    expect(out).toContain("return x * 2;");
    expect(out).toContain('throw todo("stage-11", 1, "Return OK");');
  });

  test("the solved view of a stage keeps its regions and stubs later ones", () => {
    const out = solvedFor(ref, "ref.ts", 10);
    expect(out).toContain("return x * 2;");
    expect(out).not.toContain("return OK;");
    expect(render(ref, "ref.ts", () => "keep").stubs).toEqual([]);
  });

  test("an import after a multi-line import", () => {
    const text = ['import {', '  a,', '  b,', '} from "x";', "// @solution stage-1 begin 1: t", "a();", "// @solution end"].join("\n");
    const lines = render(text, "m.ts", () => "stub").text.split("\n");
    expect(lines[4]).toBe('import { todo } from "@xps/utils/todo";');
  });

  test("fingerprints ignore comments and short bodies", () => {
    const [r1] = parseRegions(ref, "ref.ts");
    expect(fingerprint(r1!)).toBe("");
    const long = parseRegions("// @solution stage-1 begin 1: t\nconst total = items.reduce((a, b) => a + b, 0);\n// @solution end\n", "f.ts");
    expect(fingerprint(long[0]!)).toContain("items.reduce");
  });
});

describe("marker consistency", () => {
  test("regions must belong to a stage that teaches their file, with TODOs 1..k", () => {
    const regions = parseRegions(ref, "packages/x/src/ref.ts");
    const stage10 = { name: "stage-10", dir: "/nowhere", stage: 10, title: "t", teaches: ["packages/x/src/ref.ts"] };
    const problems = checkMarkers([stage10], [{ file: "packages/x/src/ref.ts", regions }]);
    expect(problems.map((p) => p.message)).toEqual(["region of stage-11, which does not exist"]);
    const stage11 = { ...stage10, name: "stage-11", stage: 11, teaches: [] };
    expect(checkMarkers([stage10, stage11], [{ file: "packages/x/src/ref.ts", regions }])[0]!.message).toMatch(/does not name/);
  });
});
