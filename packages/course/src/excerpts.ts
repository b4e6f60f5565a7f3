// Code excerpts in the guides, pulled from the source.
//
// A page (a stage's README.md or hints.md, docs/*.md, the README) never holds
// hand-copied code. It names what to show, and `pnpm gen` writes the code in
// between the markers, so the page reads the same in an editor, on a forge,
// in the terminal, through `xps hint` and on the course website:
//
//   <!-- xps:excerpt packages/core/src/pipe.ts#pipeIsWritable -->
//   ...written by pnpm gen...
//   <!-- /xps:excerpt -->
//
// `pnpm gen --check` (so verify, and the website's build) fails when the
// code between the markers differs from the source, and names the page and
// the region when the source no longer has what the excerpt names.
//
// What the marker says: one or more sources `PATH#NAME[,NAME...]` and options.
//   PATH     a repository-relative file. A module of the server packages is
//            shown as a stage's view has it (views.mjs); a stage's src/ file
//            as the generator makes its pristine skeleton; any other file as
//            it is.
//   NAME     a region of the file, `// #region NAME` ... `// #endregion`
//            (VS Code folds them, and VitePress's snippets use the same
//            lines); or a top-level declaration (function, interface, type,
//            class, enum, const); or `todo-K`, the stub of TODO K.
//   signature     declarations as their signatures only (no body).
//   stage=S  the view of stage S. On a stage's page the default is the
//            page's stage, and a later stage is refused; elsewhere a module
//            of the server needs it.
//   raw      the file as it is, solution markers included (only on the
//            course authors' pages, which a student export leaves out).
// Solution regions of the page's stage and of every later one are shown as
// the stubs the learner gets, so a learner's page never shows the answer to
// a TODO of its stage or of a later one. A source of a stage that this copy of
// the course does not have (a student export through an earlier stage)
// becomes a line saying so, never an error.
import fs from "node:fs";
import path from "node:path";
import ts from "typescript";
import { serverPackages, viewOf } from "../variant/views.mjs";
import { learnerFileFor } from "../variant/overrides.mjs";
import { render, stageName, type Region } from "./skeleton.ts";
import { listStages, moduleText, type StageMeta } from "./stages.ts";

/** An excerpt that cannot be made; the message names the page, the line and what is missing. */
export class ExcerptError extends Error {}

/**
 * Pages for the course's authors and instructors, about commands that need
 * every reference solution: a student export leaves them out, and only they
 * may show solution markers (`raw`).
 */
export const AUTHORS_ONLY_DOCS = new Set(["instructors.md", "performance.md"]);

export interface ExcerptPage {
  /** Repository-relative path of the page. */
  file: string;
  /** The stage whose page this is (its README.md or hints.md), or null for the course's other pages. */
  stage: StageMeta | null;
}

export interface ExcerptSpec {
  sources: { path: string; names: string[] }[];
  signature: boolean;
  raw: boolean;
  stage: number | null;
}

/** Everything an expansion run reads more than once (stages, views), for one copy of the course. */
export class ExcerptContext {
  readonly stages: StageMeta[];
  private readonly views = new Map<number, Map<string, { source: string; text: string }>>();
  /** Excerpts that named a stage this copy does not have, as "page:line: source". */
  readonly later: string[] = [];
  constructor(readonly root: string) {
    this.stages = listStages(root);
  }
  view(stage: number): Map<string, { source: string; text: string }> {
    let v = this.views.get(stage);
    if (v === undefined) {
      v = viewOf(this.root, stage) as Map<string, { source: string; text: string }>;
      this.views.set(stage, v);
    }
    return v;
  }
  get last(): number {
    return this.stages.at(-1)?.stage ?? 0;
  }
}

export function parseExcerptArgs(args: string, where: string): ExcerptSpec {
  const spec: ExcerptSpec = { sources: [], signature: false, raw: false, stage: null };
  for (const word of args.trim().split(/\s+/).filter((w) => w !== "")) {
    if (word === "signature") spec.signature = true;
    else if (word === "raw") spec.raw = true;
    else if (/^stage=\d+$/.test(word)) spec.stage = Number(word.slice(6));
    else if (/^[^#\s]+#[^#\s]+$/.test(word)) {
      const [p, names] = word.split("#") as [string, string];
      spec.sources.push({ path: p, names: names.split(",").filter((n) => n !== "") });
    } else throw new ExcerptError(`${where}: "${word}" is neither a source (PATH#NAME) nor an option (signature, stage=N, raw)`);
  }
  if (spec.sources.length === 0) throw new ExcerptError(`${where}: the excerpt names no source; write <!-- xps:excerpt PATH#NAME -->`);
  return spec;
}

interface Source {
  /** The file's text with its solution markers. */
  text: string;
  /** Regions of this stage and later are shown as stubs (Infinity: none, the raw text). */
  stubFrom: number;
  /** The stage whose TODOs `todo-K` names. */
  todoStage: number | null;
  /** How the excerpt's first line names it. */
  label: string;
}

const STAGE_DIR = /^stages\/([^/]+)\//;

/** The text an excerpt's source stands for, or the later stage it comes with. */
function resolveSource(p: string, spec: ExcerptSpec, page: ExcerptPage, ctx: ExcerptContext, where: string): Source | { later: number } {
  const own = page.stage?.stage ?? null;
  const refuseLater = (s: number, what: string): void => {
    if (own !== null && s > own) throw new ExcerptError(`${where}: ${what} is stage ${s}'s, and a page of stage ${own} shows nothing of a later stage`);
  };
  if (spec.stage !== null) refuseLater(spec.stage, `the view of stage ${spec.stage}`);
  if (spec.raw && !(page.file.startsWith("docs/") && AUTHORS_ONLY_DOCS.has(page.file.slice(5)))) throw new ExcerptError(`${where}: "raw" shows solution markers, which only the authors' pages (${[...AUTHORS_ONLY_DOCS].join(", ")}) may`);

  const dir = STAGE_DIR.exec(p)?.[1];
  if (dir !== undefined) {
    const stage = ctx.stages.find((s) => path.basename(s.dir) === dir);
    const n = stage?.stage ?? Number(/^stage-(\d+)/.exec(dir)?.[1] ?? NaN);
    if (stage === undefined) {
      if (n > ctx.last) return { later: n };
      throw new ExcerptError(`${where}: ${p} is in stages/${dir}, which is not a stage of the course`);
    }
    refuseLater(n, p);
    const reference = stage.teaches.find((t) => p === `stages/${dir}/src/${learnerFileFor(t)}`);
    const stubFrom = spec.raw ? Infinity : Math.min(n, own ?? n);
    if (reference !== undefined) {
      // The learner's file as the generator makes it (the copy in src/ may hold the learner's work).
      return { text: moduleText(stage, reference, ctx.root, ctx.view(n)), stubFrom, todoStage: n, label: `${p} (the skeleton)` };
    }
    return { text: readFile(p, ctx, where), stubFrom, todoStage: n, label: p };
  }

  if (serverPackages(ctx.root).some((pkg: string) => p.startsWith(`packages/${pkg}/src/`))) {
    const s = spec.stage ?? own;
    if (s === null) throw new ExcerptError(`${where}: ${p} is a module of the server; name the stage whose view to show (stage=N)`);
    if (!ctx.stages.some((x) => x.stage === s)) {
      if (s > ctx.last) return { later: s };
      throw new ExcerptError(`${where}: there is no stage ${s}`);
    }
    const m = ctx.view(s).get(p);
    if (m === undefined) throw new ExcerptError(`${where}: ${p} is not part of stage ${s}'s server (its view)`);
    return { text: m.text, stubFrom: spec.raw ? Infinity : (own ?? s), todoStage: s, label: spec.stage !== null && spec.stage !== own ? `${p}, as stage ${s} has it` : p };
  }
  return { text: readFile(p, ctx, where), stubFrom: spec.raw ? Infinity : (own ?? spec.stage ?? 0), todoStage: spec.stage ?? own, label: p };
}

function readFile(p: string, ctx: ExcerptContext, where: string): string {
  const file = path.join(ctx.root, p);
  if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new ExcerptError(`${where}: ${p} does not exist`);
  return fs.readFileSync(file, "utf8");
}

const REGION = /^\s*\/\/ #region (\S+)\s*$/;
const ENDREGION = /^\s*\/\/ #endregion\b/;

function dedent(lines: string[]): string[] {
  const indents = lines.filter((l) => l.trim() !== "").map((l) => /^\s*/.exec(l)![0].length);
  const cut = indents.length > 0 ? Math.min(...indents) : 0;
  return lines.map((l) => l.slice(cut));
}

function trimBlank(lines: string[]): string[] {
  let a = 0;
  let b = lines.length;
  while (a < b && lines[a]!.trim() === "") a++;
  while (b > a && lines[b - 1]!.trim() === "") b--;
  return lines.slice(a, b);
}

/** The lines of a `// #region NAME` block, or null. */
function namedRegion(lines: string[], name: string): string[] | null {
  const begin = lines.findIndex((l) => REGION.exec(l)?.[1] === name);
  if (begin < 0) return null;
  let depth = 0;
  for (let i = begin + 1; i < lines.length; i++) {
    if (REGION.test(lines[i]!)) depth++;
    else if (ENDREGION.test(lines[i]!)) {
      if (depth === 0) return lines.slice(begin + 1, i);
      depth--;
    }
  }
  return lines.slice(begin + 1);
}

/** A stub already in the text (a student export stubs the regions it withholds): its TODO line to its throw. */
function stubAt(lines: string[], stage: number | null, todo: number): string[] | null {
  if (stage === null) return null;
  const name = stageName(stage);
  const begin = lines.findIndex((l) => l.trim().startsWith(`// TODO(${name} #${todo}):`));
  const end = lines.findIndex((l, i) => i > begin && l.trim().startsWith(`throw todo("${name}", ${todo},`));
  return begin >= 0 && end >= 0 ? lines.slice(begin, end + 1) : null;
}

function declarationName(s: ts.Statement): string[] {
  if (ts.isFunctionDeclaration(s) || ts.isClassDeclaration(s) || ts.isInterfaceDeclaration(s) || ts.isTypeAliasDeclaration(s) || ts.isEnumDeclaration(s)) {
    return s.name ? [s.name.text] : [];
  }
  if (ts.isVariableStatement(s)) return s.declarationList.declarations.flatMap((d) => (ts.isIdentifier(d.name) ? [d.name.text] : []));
  return [];
}

/** A top-level declaration of the module: its text (with its doc comment), or its signature. */
function declaration(text: string, file: string, name: string, signature: boolean): string[] | null {
  const sf = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, true, ts.ScriptKind.TS);
  const found = sf.statements.filter((s) => declarationName(s).includes(name));
  if (found.length === 0) return null;
  const out: string[] = [];
  for (const s of found) {
    if (!signature) {
      out.push(...text.slice(s.getStart(sf, true), s.getEnd()).split("\n"));
      continue;
    }
    const start = s.getStart(sf, false);
    if (ts.isFunctionDeclaration(s)) {
      out.push(...`${text.slice(start, s.body ? s.body.getStart(sf) : s.getEnd()).trimEnd().replace(/;$/, "")};`.split("\n"));
    } else if (ts.isClassDeclaration(s)) {
      out.push(`${text.slice(start, s.members.pos).trimEnd().replace(/\{$/, "").trimEnd()} { ... }`);
    } else if (ts.isVariableStatement(s)) {
      const d = s.declarationList.declarations.find((x) => ts.isIdentifier(x.name) && x.name.text === name)!;
      const init = d.initializer;
      const fn = init !== undefined && (ts.isArrowFunction(init) || ts.isFunctionExpression(init)) ? init : null;
      const cut = fn !== null ? fn.body.getStart(sf) : d.type !== undefined ? d.type.getEnd() : s.getEnd();
      out.push(...`${text.slice(start, cut).trimEnd().replace(/;$/, "")}${fn !== null ? " ..." : ""};`.split("\n"));
    } else out.push(...text.slice(start, s.getEnd()).split("\n"));
  }
  return out;
}

function fenceLanguage(p: string): string {
  if (/\.[cm]?tsx?$/.test(p)) return "ts";
  if (/\.[cm]?jsx?$/.test(p)) return "js";
  if (p.endsWith(".json")) return "json";
  return "text";
}

/** The Markdown an excerpt expands to: one fenced block (or, for a later stage's source, a line saying so). */
export function excerptMarkdown(args: string, page: ExcerptPage, ctx: ExcerptContext, line: number): string {
  const where = `${page.file}:${line}`;
  const spec = parseExcerptArgs(args, where);
  const code: string[] = [];
  for (const src of spec.sources) {
    const resolved = resolveSource(src.path, spec, page, ctx, where);
    if ("later" in resolved) {
      ctx.later.push(`${where}: ${src.path}`);
      return `*This excerpt comes with stage ${resolved.later}, which this copy of the course does not have yet.*`;
    }
    const { text: shown, placed } = resolved.stubFrom === Infinity ? { text: resolved.text, placed: [] } : render(resolved.text, src.path, (r: Region) => (r.stage >= resolved.stubFrom ? "stub" : "keep"));
    const lines = shown.split("\n");
    if (code.length > 0) code.push("");
    code.push(`// ${resolved.label}`);
    src.names.forEach((name, i) => {
      let part: string[] | null = namedRegion(lines, name);
      const todo = /^todo-(\d+)$/.exec(name);
      if (part === null && todo) {
        const p = placed.find((x) => x.region.todo === Number(todo[1]) && x.region.stage === resolved.todoStage);
        part = p ? lines.slice(p.from, p.to) : stubAt(lines, resolved.todoStage, Number(todo[1]));
      }
      if (part === null) part = declaration(shown, src.path, name, spec.signature);
      if (part === null) {
        throw new ExcerptError(`${where}: the excerpt names "${name}" in ${resolved.label}, which has no region (// #region ${name}), declaration or TODO of that name`);
      }
      if (i > 0 && !spec.signature) code.push("");
      code.push(...trimBlank(dedent(part.filter((l) => !REGION.test(l) && !ENDREGION.test(l)))));
    });
  }
  return ["```" + fenceLanguage(spec.sources[0]!.path), ...code, "```"].join("\n");
}

// ------------------------------------------------------------ the fence check

const CODE_FENCE = /^(\s*)(`{3,}|~{3,})\s*([\w-]*)/;
/** Languages whose blocks must be excerpts. */
export const CODE_LANGUAGES = new Set(["ts", "typescript", "mts", "cts", "tsx", "js", "javascript", "mjs", "cjs", "jsx"]);
/** A block without a language that reads as TypeScript (a declaration or an import at the start of a line). */
const LOOKS_LIKE_CODE = /^\s*(?:export\s+)?(?:import\s.+from\s|(?:async\s+)?function\s+\w+\s*\(|interface\s+\w+\s*[{<]|type\s+\w+\s*=|(?:const|let)\s+\w+\s*(?::[^=]+)?=)/;

export interface FenceProblem {
  file: string;
  line: number;
  message: string;
}

/**
 * Fenced blocks of TypeScript or JavaScript (by language, or without one but
 * reading like it) that are not inside an excerpt block: hand-copied code,
 * which drifts from the source.
 */
export function strayCodeBlocks(text: string, file: string): FenceProblem[] {
  const out: FenceProblem[] = [];
  const lines = text.split("\n");
  let inExcerpt = false;
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i]!;
    if (/^\s*<!-- xps:excerpt\b/.test(line)) inExcerpt = true;
    else if (/^\s*<!-- \/xps:excerpt -->/.test(line)) inExcerpt = false;
    const f = CODE_FENCE.exec(line);
    if (!f) continue;
    const close = new RegExp(`^\\s*${f[2]![0] === "`" ? "`" : "~"}{${f[2]!.length},}\\s*$`);
    let end = i + 1;
    while (end < lines.length && !close.test(lines[end]!)) end++;
    const lang = f[3]!.toLowerCase();
    const body = lines.slice(i + 1, end);
    if (!inExcerpt && (CODE_LANGUAGES.has(lang) || (lang === "" && body.some((l) => LOOKS_LIKE_CODE.test(l))))) {
      out.push({ file, line: i + 1, message: `a fenced block of ${lang || "code"} that is not an excerpt: write <!-- xps:excerpt PATH#NAME --> ... <!-- /xps:excerpt --> (see docs/architecture.md, "Code excerpts in the guides")` });
    }
    i = end;
  }
  return out;
}
