// What the course website does to a page on its way through markdown-it:
//
// - its code excerpts are what `pnpm gen` makes of the source: the build
//   fails on drift, or on an excerpt whose region is gone, naming the page
//   and the region (the dev server shows the fresh excerpts instead, and
//   warns);
// - a stage's page gets the stage's hints.md after its guide, each hint
//   folded one level at a time, as `pnpm xps hint` gives them;
// - links: to another page, its route; to a hints.md, the stage page's hint;
//   to a source file or folder, the file in the repository (XPS_DOCS_REPO);
//   to a page of a stage this copy of the course does not have, plain text.
//   A link to something that does not exist fails the build;
// - the home page's stage list, and the module map (<!-- site:module-map -->
//   on a page), come from the stages that exist;
// - headings get GitHub's anchors, so a guide's #links work on a forge, in
//   an editor and on the site alike.
import fs from "node:fs";
import path from "node:path";
import type { MarkdownRenderer } from "vitepress";
import { AUTHORS_ONLY_DOCS, ExcerptContext, ExcerptError } from "../../course/src/excerpts.ts";
import { fillPage } from "../../course/src/guide-blocks.ts";
import { parseHints } from "../../cli/src/hints.ts";
import { fileStages } from "../../course/variant/views.mjs";
import { isStandalone, listStages, type StageMeta } from "@xps/course/stages";
import { HOME, routeLink, type SitePage } from "./pages.ts";

export interface CourseMarkdownOptions {
  /** The course whose pages these are. */
  root: string;
  pages: SitePage[];
  /** Where links to source files go: `${repo}/blob/${branch}/PATH`. */
  repo: string;
  branch: string;
  /** true for `vitepress build`: drift fails; false for the dev server: fresh excerpts and a warning. */
  strict: boolean;
}

/** GitHub's heading anchors (github-slugger): lower case, punctuation dropped, spaces to dashes. */
export function githubSlug(text: string): string {
  return text
    .trim()
    .toLowerCase()
    .replace(/[^\p{L}\p{M}\p{N}\p{Pc} -]/gu, "")
    .replace(/ /g, "-");
}

/** A stage's hints.md as Markdown for its page: each level folded inside the one before. */
export function foldedHints(text: string, stageName: string): string {
  const preface = text.split("\n").slice(1).join("\n").split(/^## /m)[0]!.trim();
  const out = ["## Hints", ""];
  if (preface) out.push(preface, "");
  for (const h of parseHints(text)) {
    out.push(`### ${h.id} ${h.title}`, "");
    if (h.intro) out.push(h.intro, "");
    const open: string[] = [];
    h.levels.forEach((l, i) => {
      out.push(`<details class="details custom-block xps-hint"><summary>${l.title} <small>(${i + 1} of ${h.levels.length}, <code>pnpm xps hint ${stageName} ${h.id}</code>)</small></summary>`, "", l.body, "");
      open.push("</details>");
    });
    out.push(...open.flatMap((c) => [c, ""]));
  }
  return out.join("\n");
}

/** The home page's list of stages: every stage that exists, in order. */
export function stageTable(pages: SitePage[]): string {
  const rows = pages.filter((p) => p.stage !== null).map((p) => {
    const [n, ...title] = p.title.split(" ");
    return `| ${n} | [${title.join(" ")}](${routeLink(p)}) | ${p.description} |`;
  });
  return ["| Stage | Guide | What you build |", "| --- | --- | --- |", ...rows].join("\n");
}

/**
 * The stage-to-stage module map, as a Mermaid diagram: the stages of the
 * server in order, and the modules each one teaches (the learner writes),
 * grouped by package. Made when the site is built, so it always shows the
 * stages that exist.
 */
export function moduleMap(root: string, all: StageMeta[] = listStages(root)): string {
  const stages = all.filter((s) => !isStandalone(s));
  if (stages.length === 0) return "The course has no stage of the server yet.";
  const id = (m: string): string => m.replace(/[^A-Za-z0-9]/g, "_");
  const modules = new Map<string, Set<string>>();
  const edges: string[] = [];
  for (const s of stages) {
    for (const t of s.teaches) {
      const file = path.join(root, t);
      const module = fs.existsSync(file) ? fileStages(fs.readFileSync(file, "utf8"), t).as : t;
      const pkg = /^packages\/([^/]+)\//.exec(module)?.[1] ?? "other";
      if (!modules.has(pkg)) modules.set(pkg, new Set());
      modules.get(pkg)!.add(module);
      edges.push(`  s${s.stage} -.-> ${id(module)}`);
    }
  }
  return [
    "```mermaid",
    "flowchart LR",
    ...stages.map((s) => `  s${s.stage}["stage ${s.stage}: ${s.title}"]`),
    `  ${stages.map((s) => `s${s.stage}`).join(" --> ")}`,
    ...[...modules].sort(([a], [b]) => a.localeCompare(b)).flatMap(([pkg, ms]) => [
      `  subgraph ${id(pkg)}_pkg["packages/${pkg}"]`,
      ...[...ms].sort().map((m) => `    ${id(m)}["${path.basename(m)}"]`),
      "  end",
    ]),
    ...[...new Set(edges)],
    "```",
  ].join("\n");
}

interface Env {
  path?: string;
  realPath?: string;
  relativePath?: string;
}

function pageOf(opts: CourseMarkdownOptions, env: Env): SitePage | undefined {
  const file = env.realPath ?? env.path;
  if (file === undefined) return undefined;
  const rel = path.relative(opts.root, file).split(path.sep).join("/");
  return opts.pages.find((p) => p.file === rel);
}

const filledPages = new Map<string, string>();

/** The page's Markdown as the site shows it; throws (naming the page) on a broken or drifted excerpt in a build. */
export function pageSource(src: string, page: SitePage, opts: CourseMarkdownOptions): string {
  let text = src;
  if (page.file !== HOME) {
    const onDisk = fs.readFileSync(path.join(opts.root, page.file), "utf8");
    // A build renders each page several times (the page, its search entry): fill it once.
    const key = `${page.file}\0${onDisk}`;
    let filled = opts.strict ? filledPages.get(key) : undefined;
    if (filled === undefined) {
      try {
        filled = fillPage(onDisk, { file: page.file, stage: page.meta }, new ExcerptContext(opts.root));
      } catch (err) {
        if (err instanceof ExcerptError) throw new Error(`course website: ${err.message}`);
        throw err;
      }
      filledPages.set(key, filled);
    }
    if (filled !== onDisk) {
      if (opts.strict) throw new Error(`course website: ${page.file} holds code excerpts or generated blocks that differ from the source (drift); run pnpm gen`);
      console.warn(`[xps] ${page.file}: excerpts differ from the source; showing the fresh ones (pnpm gen writes them)`);
      text = filled;
    }
  }
  if (page.meta !== null) {
    const hints = path.join(opts.root, path.dirname(page.file), "hints.md");
    if (fs.existsSync(hints)) text = `${text.trimEnd()}\n\n${foldedHints(fs.readFileSync(hints, "utf8"), page.meta.name)}\n`;
  }
  if (page.file === HOME) text = text.replace("<!-- site:stages -->", stageTable(opts.pages));
  text = text.replace(/^<!-- site:module-map -->$/m, () => moduleMap(opts.root));
  return text;
}

interface Token {
  type: string;
  tag: string;
  content: string;
  attrs: [string, string][] | null;
  children: Token[] | null;
  attrGet(name: string): string | null;
  attrSet(name: string, value: string): void;
}

/** Where a link of a page goes on the site; null for "leave it". Throws on a dead link. */
export function resolveLink(href: string, page: SitePage, opts: CourseMarkdownOptions, stageCount: number): { href: string } | { text: string } | null {
  if (/^[a-z][a-z0-9+.-]*:/i.test(href) || href.startsWith("#") || href.startsWith("/")) return null;
  const [target, hash = ""] = href.split("#") as [string, string?];
  const fragment = hash ? `#${hash}` : "";
  const from = path.posix.dirname(page.file);
  const rel = path.posix.normalize(path.posix.join(from, decodeURIComponent(target)));
  const where = `course website: ${page.file} links to ${href}`;
  if (rel === "README.md") return { href: `/index.md${fragment}` };
  const byFile = opts.pages.find((p) => p.file === rel);
  if (byFile) return { href: `/${byFile.route}${fragment}` };
  if (path.posix.basename(rel) === "hints.md") {
    const stagePage = opts.pages.find((p) => p.file === `${path.posix.dirname(rel)}/README.md`);
    if (stagePage) return { href: `/${stagePage.route}${fragment || "#hints"}` };
  }
  const later = /^stages\/stage-(\d+)/.exec(rel);
  if (later && Number(later[1]) > stageCount && !fs.existsSync(path.join(opts.root, rel))) return { text: `stage ${Number(later[1])}, which comes later` };
  // A student export leaves the authors' pages out.
  if (rel.startsWith("docs/") && AUTHORS_ONLY_DOCS.has(rel.slice(5)) && !fs.existsSync(path.join(opts.root, rel))) return { text: "the instructors' copy of the course" };
  const abs = path.join(opts.root, rel);
  if (rel.startsWith("..") || !fs.existsSync(abs)) throw new Error(`${where}, which does not exist (${rel})`);
  const kind = fs.statSync(abs).isDirectory() ? "tree" : "blob";
  return { href: `${opts.repo.replace(/\/$/, "")}/${kind}/${opts.branch}/${rel}${fragment}` };
}

export function courseMarkdown(md: MarkdownRenderer, opts: CourseMarkdownOptions): void {
  const last = Math.max(0, ...opts.pages.map((p) => p.stage ?? 0));
  const parse = md.parse.bind(md);
  md.parse = (src: string, env: Env) => {
    const page = pageOf(opts, env);
    return parse(page ? pageSource(src, page, opts) : src, env);
  };
  md.core.ruler.push("xps_links", (state) => {
    const page = pageOf(opts, state.env as Env);
    if (!page) return;
    for (const block of state.tokens as unknown as Token[]) {
      const children = block.children ?? [];
      children.forEach((t, i) => {
        if (t.type !== "link_open") return;
        const href = t.attrGet("href");
        if (href === null) return;
        const r = resolveLink(href, page, opts, last);
        if (r === null) return;
        if ("href" in r) {
          t.attrSet("href", r.href);
          if (/^https?:/.test(r.href)) {
            t.attrSet("target", "_blank");
            t.attrSet("rel", "noreferrer");
          }
          return;
        }
        // A page this copy of the course does not have yet: the words stay, the link goes.
        const close = children.findIndex((c, j) => j > i && c.type === "link_close");
        t.type = "html_inline";
        t.content = `<span class="xps-later" title="in ${r.text}">`;
        if (close > 0) {
          children[close]!.type = "html_inline";
          children[close]!.content = "</span>";
        }
      });
    }
  });
}
