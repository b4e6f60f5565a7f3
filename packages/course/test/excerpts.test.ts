// Code excerpts in the pages: cut from the source, stubbed where a page must
// not give a TODO away, refused where they would show a later stage, and a
// renamed region fails naming the page and the region.
import { describe, expect, test } from "vitest";
import { ExcerptContext, ExcerptError, strayCodeBlocks } from "../src/excerpts.ts";
import { checkPages, fillPage } from "../src/guide-blocks.ts";
import { findStage, repoRoot } from "../src/stages.ts";

const ctx = new ExcerptContext(repoRoot);
const stage = (n: number) => findStage(String(n))!;
const block = (args: string): string => `Intro.\n\n<!-- xps:excerpt ${args} -->\n<!-- /xps:excerpt -->\n`;
const fill = (args: string, file: string, n: number | null): string => fillPage(block(args), { file, stage: n === null ? null : stage(n) }, ctx);

describe("excerpts", () => {
  test("a stage's page shows its own TODOs as stubs, an earlier stage's solution in full", () => {
    const own = fill("packages/core/src/pipe.ts#pipeIsWritable", "stages/stage-10-pipes/README.md", 10);
    expect(own).toContain("```ts\n// packages/core/src/pipe.ts\n");
    expect(own).toContain('throw todo("stage-10", 5, "Readable and writable");');
    expect(own).not.toContain("pipe.buffList.len < pipe.buffThresh");
    const later = fill("packages/core/src/pipe.ts#pipeIsWritable", "stages/stage-11-upstream/README.md", 11);
    expect(later).toContain("return pipe.buffList.len < pipe.buffThresh;");
    expect(later).not.toContain("@solution");
  });

  test("signatures, regions, declarations and TODO stubs", () => {
    expect(fill("signature packages/core/src/pipe.ts#pipeIsReadable,pipeIsWritable", "stages/stage-10-pipes/README.md", 10)).toContain(
      "export function pipeIsReadable(pipe: Pipe): boolean;\nexport function pipeIsWritable(pipe: Pipe): boolean;\n```",
    );
    expect(fill("stages/stage-10-pipes/test/milestones.test.ts#m1", "docs/instructors.md", null)).toContain('stage.milestone("m1", async (t) => {');
    const stub = fill("stages/stage-10-pipes/src/pipe.ts#todo-5", "docs/getting-started.md", null);
    expect(stub).toMatch(/\/\/ TODO\(stage-10 #5\): Readable and writable\n[\s\S]*throw todo\("stage-10", 5, "Readable and writable"\);\n```/);
  });

  test("a renamed region or function fails, naming the page and the region", () => {
    expect(() => fill("packages/core/src/pipe.ts#pipeIsWritible", "stages/stage-10-pipes/README.md", 10)).toThrow(
      /stages\/stage-10-pipes\/README\.md:3: the excerpt names "pipeIsWritible" in packages\/core\/src\/pipe\.ts/,
    );
    expect(() => fill("stages/stage-10-pipes/test/milestones.test.ts#no-such-region", "docs/instructors.md", null)).toThrow(ExcerptError);
  });

  test("a page never shows a later stage, and the solution markers only on the authors' pages", () => {
    expect(() => fill("stage=11 packages/core/src/pipe.ts#pipeIsWritable", "stages/stage-10-pipes/README.md", 10)).toThrow(/a page of stage 10 shows nothing of a later stage/);
    expect(() => fill("stages/stage-11-upstream/server.ts#x", "stages/stage-10-pipes/README.md", 10)).toThrow(/later stage/);
    expect(() => fill("packages/core/src/pipe.ts#pipeIsWritable", "docs/architecture.md", null)).toThrow(/name the stage whose view to show/);
    expect(() => fill("raw stage=10 packages/core/src/pipe.ts#pipeIsWritable", "docs/getting-started.md", null)).toThrow(/only the authors' pages/);
    expect(fill("raw stage=10 packages/core/src/pipe.ts#pipeIsWritable", "docs/instructors.md", null)).toContain("// @solution stage-10 begin 5");
  });

  test("a source of a stage this copy does not have becomes a line saying so", () => {
    const c = new ExcerptContext(repoRoot);
    const text = fillPage(block("stage=99 packages/core/src/pipe.ts#pipeIsWritable"), { file: "docs/architecture.md", stage: null }, c);
    expect(text).toContain("*This excerpt comes with stage 99, which this copy of the course does not have yet.*");
    expect(c.later).toEqual(["docs/architecture.md:3: packages/core/src/pipe.ts"]);
  });

  test("hand-copied code is found: TypeScript fences, and code fences without a language", () => {
    expect(strayCodeBlocks("```ts\nconst a = 1;\n```\n", "x.md")).toHaveLength(1);
    expect(strayCodeBlocks("```\nexport function f(): void {}\n```\n", "x.md")).toHaveLength(1);
    expect(strayCodeBlocks("```bash\npnpm test\n```\n", "x.md")).toEqual([]);
    expect(strayCodeBlocks("<!-- xps:excerpt a.ts#b -->\n\n```ts\nconst a = 1;\n```\n\n<!-- /xps:excerpt -->\n", "x.md")).toEqual([]);
  });

  test("the course's pages hold no hand-copied code, and every excerpt's source is there", () => {
    expect(checkPages(repoRoot)).toEqual([]);
  }, 120_000);
});
