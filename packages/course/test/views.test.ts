// Stage views: the stage tags of the reference, resolved per stage.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterAll, describe, expect, test } from "vitest";
import { StageTagError, fileStages, renderForStage, truncateAt, viewOf, writeView } from "../variant/views.mjs";

const ref = [
  "// @stages 7-",
  'import { a } from "./a.ts";',
  'import { pipe } from "./pipe.ts"; // @since 10',
  "export interface Core {",
  "  loop: number;",
  "  pipes: number; // @since 10",
  "  sessions: number; // @since 13",
  "}",
  "// @until 9 begin",
  "// export function handleConnections(): void {",
  "//   // one pass",
  "// }",
  "// @until end",
  "// @since 10 begin",
  "export function handlePipes(): void {",
  "  // @since 13 begin",
  "  sessions();",
  "  // @since end",
  "  // @until 12: early();",
  "}",
  "// @since end",
  "",
].join("\n");

describe("renderForStage", () => {
  test("keeps what a stage has and drops the tags", () => {
    expect(renderForStage(ref, "core.ts", 6)).toBeNull();
    expect(renderForStage(ref, "core.ts", 9)).toBe(
      ['import { a } from "./a.ts";', "export interface Core {", "  loop: number;", "}", "export function handleConnections(): void {", "  // one pass", "}", ""].join("\n"),
    );
    const at13 = renderForStage(ref, "core.ts", 13)!;
    expect(at13).toContain('import { pipe } from "./pipe.ts";\n');
    expect(at13).toContain("  sessions: number;\n");
    expect(at13).toContain("  sessions();\n");
    expect(at13).not.toContain("handleConnections");
    expect(at13).not.toContain("early();");
    expect(renderForStage(ref, "core.ts", 12)).toContain("  early();\n");
    expect(at13).not.toMatch(/@since|@until|@stages/);
    expect(renderForStage(ref, "core.ts", 10)).not.toContain("sessions");
    expect(renderForStage("// @only 8: a\n// @only 9 begin\n// b\n// @only end\n", "x.ts", 8)).toBe("a\n");
    expect(renderForStage("// @only 8: a\n// @only 9 begin\n// b\n// @only end\n", "x.ts", 9)).toBe("b\n");
  });

  test("a header range and a module name", () => {
    expect(fileStages("// @stages 6-9\n// @view-as packages/x/src/c.ts\ncode\n", "early/c.ts")).toEqual({ from: 6, to: 9, as: "packages/x/src/c.ts" });
    expect(fileStages("code\n", "c.ts")).toEqual({ from: 0, to: Infinity, as: "c.ts" });
    expect(renderForStage("// @stages 6-9\n// @view-as p.ts\nx\n", "e.ts", 9)).toBe("x\n");
    expect(renderForStage("// @stages 6-9\nx\n", "e.ts", 10)).toBeNull();
  });

  test("malformed tags are errors that name the line", () => {
    expect(() => renderForStage("// @since 10 begin\nx\n", "f.ts", 10)).toThrow(/f\.ts:1: "@since 10 begin" never ends/);
    expect(() => renderForStage("x\n// @until end\n", "f.ts", 10)).toThrow(/f\.ts:2: "@until end" without a begin/);
    expect(() => renderForStage("// @since 10 begin\n// @until end\n", "f.ts", 10)).toThrow(/closes the "@since 10 begin"/);
    expect(() => renderForStage("x // @since ten\n", "f.ts", 10)).toThrow(StageTagError);
    expect(() => renderForStage("x // @until 9\n", "f.ts", 10)).toThrow(/is written "\/\/ @until 9: code"/);
    expect(renderForStage("// @stages 6-9\nx // @until 7\n", "e.ts", 7)).toBe("x\n");
    expect(() => renderForStage("// @until 9 begin\nlive();\n// @until end\n", "f.ts", 10)).toThrow(/every line is written as a comment/);
    // An earlier form's own file is never the final server: its blocks are live code.
    expect(renderForStage("// @stages 6-9\n// @until 7 begin\nlive();\n// @until end\n", "e.ts", 7)).toBe("live();\n");
    expect(() => renderForStage("// @until 9 begin\n// // @solution stage-09 begin 1: x\n// @until end\n", "f.ts", 9)).toThrow(/a file of its own/);
    expect(() => fileStages("// @stages 9-6\n", "f.ts")).toThrow(/ends before it begins/);
  });
});

describe("views of a course", () => {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "xps-views-"));
  afterAll(() => fs.rmSync(root, { recursive: true, force: true }));
  const put = (rel: string, text: string): void => {
    fs.mkdirSync(path.dirname(path.join(root, rel)), { recursive: true });
    fs.writeFileSync(path.join(root, rel), text);
  };
  put("packages/net/package.json", JSON.stringify({ name: "@t/net", xps: { server: true } }));
  put("packages/net/src/connection.ts", "// @stages 10-\nexport const form = 'pipes';\n");
  put("packages/net/src/early/connection.ts", "// @stages 6-9\n// @view-as packages/net/src/connection.ts\nexport const form = 'reverse';\n");
  put("packages/net/src/pipe.ts", "// @stages 10-\nexport const pipe = 1;\n");
  put("packages/tool/package.json", JSON.stringify({ name: "@t/tool" }));
  put("packages/tool/src/x.ts", "// @stages 99-\n");

  test("each module at its stage's form; earlier forms stand in under the module's name", () => {
    expect([...viewOf(root, 8).keys()]).toEqual(["packages/net/src/connection.ts"]);
    expect(viewOf(root, 8).get("packages/net/src/connection.ts")).toEqual({ source: "packages/net/src/early/connection.ts", text: "export const form = 'reverse';\n" });
    expect([...viewOf(root, 10).keys()].sort()).toEqual(["packages/net/src/connection.ts", "packages/net/src/pipe.ts"]);
  });

  test("writeView writes every module and maps what the stage does not have to null", () => {
    const dir = path.join(root, "view-8");
    const { map } = writeView(root, 8, dir);
    expect(fs.readFileSync(path.join(dir, "packages/net/src/connection.ts"), "utf8")).toBe("export const form = 'reverse';\n");
    expect(map.get(path.join(root, "packages/net/src/connection.ts"))).toBe(path.join(dir, "packages/net/src/connection.ts"));
    expect(map.get(path.join(root, "packages/net/src/pipe.ts"))).toBeNull();
    expect(map.has(path.join(root, "packages/net/src/early/connection.ts"))).toBe(false);
    // A later view of the same folder drops what it no longer holds.
    fs.writeFileSync(path.join(dir, "packages/net/src/stale.ts"), "");
    writeView(root, 8, dir);
    expect(fs.existsSync(path.join(dir, "packages/net/src/stale.ts"))).toBe(false);
  });

  test("two files that claim one module in the same view are an error", () => {
    put("packages/net/src/early/twin.ts", "// @stages 8-8\n// @view-as packages/net/src/connection.ts\n");
    expect(() => viewOf(root, 8)).toThrow(/both stand for packages\/net\/src\/connection\.ts in the view of stage 8/);
    fs.rmSync(path.join(root, "packages/net/src/early/twin.ts"));
  });
});

describe("truncateAt", () => {
  test("a copy that ends at a stage renders every view up to it as the whole reference does", () => {
    for (const last of [7, 9, 10, 12, 13]) {
      const cut = truncateAt(ref, "core.ts", last);
      for (let stage = 6; stage <= last; stage++) expect(renderForStage(cut, "core.ts", stage), `last ${last}, stage ${stage}`).toBe(renderForStage(ref, "core.ts", stage));
    }
    expect(truncateAt(ref, "core.ts", 12)).not.toContain("sessions");
    expect(truncateAt(ref, "core.ts", 9)).not.toContain("handlePipes");
    expect(truncateAt("// @stages 11-\nexport const x = 1;\n", "u.ts", 10)).toBe("// @stages 11-\n// This module comes with a later stage.\n");
  });
});
