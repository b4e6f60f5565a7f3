// Parts of the course's pages that the course generates, so that they say
// exactly what the code does: a block between
//
//   <!-- xps:NAME ARGS -->
//   ...
//   <!-- /xps:NAME -->
//
// is rewritten by `pnpm gen`, and `pnpm gen --check` (so verify) fails when
// it differs. The blocks:
//   changes  the files and functions the solution changes since the stage
//            before (the stage-to-stage diff), in "What changed since ..."
//            (a stage's README.md)
//   own      which of the learner's files of earlier stages
//            `pnpm xps test <stage> --own` uses (a stage's README.md)
//   excerpt  code from the source: ARGS name the file and the region
//            (excerpts.ts); on every page
// The pages: every stage's README.md and hints.md, docs/*.md and the
// README. A block may be indented (inside a list item).
import fs from "node:fs";
import path from "node:path";
import { ownCandidates } from "../variant/overrides.mjs";
import { changesMarkdown } from "./stage-diff.ts";
import { isStandalone, listStages, repoRoot, type StageMeta } from "./stages.ts";
import { ExcerptContext, ExcerptError, excerptMarkdown, strayCodeBlocks, type ExcerptPage } from "./excerpts.ts";

const BLOCK = /^(\s*)<!-- xps:([a-z-]+)(?: (.*?))? -->$/;

function ownMarkdown(stage: StageMeta, root: string): string {
  const own = [...ownCandidates(stage.dir)].sort(([a], [b]) => a.localeCompare(b));
  if (own.length === 0) return `No file of an earlier stage stands in here: \`pnpm xps test ${stage.name} --own\` runs the same as \`pnpm xps test ${stage.name}\`.`;
  const rows = own.map(([module, earlier]) => `| \`${path.relative(root, path.join(earlier.dir, "src", path.basename(module)))}\` | \`${module}\` |`);
  return [
    `\`pnpm xps test ${stage.name} --own\` runs this stage with your own solved files of earlier stages in place of the reference for:`,
    "",
    "| your file | stands for |",
    "| --- | --- |",
    ...rows,
  ].join("\n");
}

/** The body of a generated block, or null for a name the course does not know. */
function blockBody(name: string, args: string, page: ExcerptPage, ctx: ExcerptContext, line: number): string | null {
  const where = `${page.file}:${line}`;
  if (name === "excerpt") return excerptMarkdown(args, page, ctx, line);
  if (name !== "changes" && name !== "own") return null;
  const stage = page.stage;
  if (stage === null || path.basename(page.file) !== "README.md") throw new ExcerptError(`${where}: <!-- xps:${name} --> belongs in a stage's README.md`);
  if (name === "changes") {
    const previous = ctx.stages.filter((s) => s.stage < stage.stage && !isStandalone(s)).at(-1);
    return previous ? changesMarkdown(previous.stage, stage.stage, ctx.root) : "This is the first stage of the server.";
  }
  return ownMarkdown(stage, ctx.root);
}

/**
 * A page's text with every generated block filled in. Throws, naming the page
 * and the line, on an unknown or unclosed block, or an excerpt whose source
 * lacks what it names.
 */
export function fillPage(text: string, page: ExcerptPage, ctx: ExcerptContext, only?: ReadonlySet<string>): string {
  const lines = text.split("\n");
  const out: string[] = [];
  let fence: string | null = null;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    // A block's marker shown as an example inside a fenced block is not one.
    const f = /^\s*(`{3,}|~{3,})/.exec(line);
    if (f && (fence === null || f[1]!.startsWith(fence))) fence = fence === null ? f[1]! : null;
    const m = fence === null ? BLOCK.exec(line) : null;
    if (!m || (only !== undefined && !only.has(m[2]!))) {
      out.push(line);
      continue;
    }
    const [, indent, name, args = ""] = m as unknown as [string, string, string, string | undefined];
    const end = lines.findIndex((l, j) => j > i && l.trim() === `<!-- /xps:${name} -->`);
    if (end < 0) throw new ExcerptError(`${page.file}:${i + 1}: <!-- xps:${name} --> has no <!-- /xps:${name} -->`);
    const body = blockBody(name, args, page, ctx, i + 1);
    if (body === null) throw new ExcerptError(`${page.file}:${i + 1}: there is no generated block "${name}" (changes, own, excerpt)`);
    out.push(line, "", ...body.split("\n").map((l) => (l === "" ? "" : indent + l)), "", lines[end]!);
    i = end;
  }
  return out.join("\n");
}

/** The guide's text with every generated block filled in (throws on an unknown or unclosed block). */
export function fillGuide(text: string, stage: StageMeta, root: string = repoRoot): string {
  return fillPage(text, { file: path.relative(root, path.join(stage.dir, "README.md")), stage }, new ExcerptContext(root));
}

/** A page of the course that pnpm gen fills: absolute path, and the stage it belongs to (null: a page of the whole course). */
export interface CoursePage {
  file: string;
  stage: StageMeta | null;
}

/** Every page pnpm gen fills, in the course's order: the README, docs/*.md, then each stage's README.md and hints.md. */
export function coursePages(root: string = repoRoot, stages: StageMeta[] = listStages(root)): CoursePage[] {
  const out: CoursePage[] = [];
  if (fs.existsSync(path.join(root, "README.md"))) out.push({ file: path.join(root, "README.md"), stage: null });
  const docs = path.join(root, "docs");
  if (fs.existsSync(docs)) {
    for (const f of fs.readdirSync(docs).filter((f) => f.endsWith(".md")).sort()) out.push({ file: path.join(docs, f), stage: null });
  }
  for (const stage of stages) {
    for (const f of ["README.md", "hints.md"]) if (fs.existsSync(path.join(stage.dir, f))) out.push({ file: path.join(stage.dir, f), stage });
  }
  return out;
}

/**
 * Every page as pnpm gen writes it. `ctx` collects the excerpts whose
 * source comes with a stage this copy of the course does not have.
 */
export function expectedGuides(root: string = repoRoot, ctx: ExcerptContext = new ExcerptContext(root), only?: ReadonlySet<string>): { stage: string; file: string; text: string }[] {
  return coursePages(root, ctx.stages).map(({ file, stage }) => ({
    stage: stage?.name ?? "course",
    file,
    text: fillPage(fs.readFileSync(file, "utf8"), { file: path.relative(root, file).split(path.sep).join("/"), stage }, ctx, only),
  }));
}

/** Markdown files under docs/ and stages/ (not node_modules, .xps or test artifacts), repo-relative. */
function markdownFiles(root: string): string[] {
  const out: string[] = [];
  const walk = (dir: string): void => {
    if (!fs.existsSync(dir)) return;
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (["node_modules", ".xps", "test-artifacts"].includes(e.name)) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".md")) out.push(path.relative(root, p).split(path.sep).join("/"));
    }
  };
  walk(path.join(root, "docs"));
  walk(path.join(root, "stages"));
  return out.sort();
}

/**
 * The pages hold no hand-copied code: every fenced block of TypeScript or
 * JavaScript under docs/ and stages/ is an excerpt that pnpm gen expands (so
 * the drift check covers it), and every excerpt's source is in the course.
 */
export function checkPages(root: string = repoRoot): { where: string; message: string }[] {
  const out: { where: string; message: string }[] = [];
  const pages = new Set(coursePages(root).map((p) => path.relative(root, p.file).split(path.sep).join("/")));
  for (const rel of markdownFiles(root)) {
    const text = fs.readFileSync(path.join(root, rel), "utf8");
    for (const p of strayCodeBlocks(text, rel)) out.push({ where: `${p.file}:${p.line}`, message: p.message });
    if (!pages.has(rel) && /^\s*<!-- xps:/m.test(text)) out.push({ where: rel, message: "holds a generated block, but pnpm gen fills only the README, docs/*.md and each stage's README.md and hints.md" });
  }
  const ctx = new ExcerptContext(root);
  try {
    expectedGuides(root, ctx);
  } catch (err) {
    out.push({ where: "pnpm gen", message: (err as Error).message });
  }
  for (const l of ctx.later) out.push({ where: l.split(": ")[0]!, message: `the excerpt's source ${l.split(": ")[1]} names a stage the course does not have` });
  return out;
}
