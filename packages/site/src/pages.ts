// The pages of the course website and their routes. The guides stay where
// they are: the site's source folder is the course itself, and rewrites give
// the pages their routes.
//
//   packages/site/index.md          /                        the home page
//   docs/getting-started.md         /docs/getting-started     stage 0
//   stages/stage-10-pipes/README.md /stages/stage-10-pipes/   one page per stage, with its hints.md folded in
//   docs/architecture.md, ...       /docs/architecture, ...
//
// Stages are found as the course finds them (listStages), so a new stage
// folder is a new page with no change here.
import fs from "node:fs";
import path from "node:path";
import { isStandalone, listStages, type StageMeta } from "@xps/course/stages";

export interface SitePage {
  /** The Markdown file, relative to the course's root. */
  file: string;
  /** Where VitePress puts it (the rewrite's target), relative to the site's root. */
  route: string;
  title: string;
  /** The stage whose guide this is (getting started is stage 0), or null. */
  stage: number | null;
  meta: StageMeta | null;
  /** What the stage builds (its package.json's description), for the home page. */
  description: string;
  group: "start" | "phase0" | "server" | "reference" | "authors";
}

export const HOME = "packages/site/index.md";

/** The docs/ pages beyond getting started, in the site's order. */
const DOCS: { name: string; title: string; group: SitePage["group"] }[] = [
  { name: "architecture.md", title: "Architecture", group: "reference" },
  { name: "c-to-node.md", title: "From C to Node", group: "reference" },
  { name: "instructors.md", title: "For instructors", group: "authors" },
  { name: "performance.md", title: "Performance", group: "authors" },
];

const rel = (root: string, file: string): string => path.relative(root, file).split(path.sep).join("/");

export function sitePages(root: string, stages: StageMeta[] = listStages(root)): SitePage[] {
  const out: SitePage[] = [];
  const exists = (f: string): boolean => fs.existsSync(path.join(root, f));
  if (exists(HOME)) out.push({ file: HOME, route: "index.md", title: "Home", stage: null, meta: null, description: "", group: "start" });
  if (exists("docs/getting-started.md")) out.push({ file: "docs/getting-started.md", route: "docs/getting-started.md", title: "0 Getting started", stage: 0, meta: null, description: "the set-up: Node, pnpm, nc, curl, python3, and how to run a stage", group: "start" });
  for (const s of stages) {
    const file = rel(root, path.join(s.dir, "README.md"));
    if (!exists(file)) continue;
    const dir = path.dirname(file);
    const group = isStandalone(s) ? "phase0" : "server";
    const pkg = JSON.parse(fs.readFileSync(path.join(s.dir, "package.json"), "utf8")) as { description?: string };
    const description = (pkg.description ?? "").replace(/^Stage \d+: /, "");
    out.push({ file, route: `${dir}/index.md`, title: `${s.stage} ${s.title}`, stage: s.stage, meta: s, description, group });
  }
  for (const d of DOCS) if (exists(`docs/${d.name}`)) out.push({ file: `docs/${d.name}`, route: `docs/${d.name}`, title: d.title, stage: null, meta: null, description: "", group: d.group });
  return out;
}

/** The rewrites that give each page its route. */
export function rewrites(pages: SitePage[]): Record<string, string> {
  return Object.fromEntries(pages.filter((p) => p.file !== p.route).map((p) => [p.file, p.route]));
}

const SKIP = new Set(["node_modules", ".git", ".xps", ".turbo", ".vitepress", "dist", "test-artifacts", "bench-results", "temp"]);

/** Every other Markdown file of the course: VitePress must not make pages of them (srcExclude). */
export function excludedMarkdown(root: string, pages: SitePage[]): string[] {
  const keep = new Set(pages.map((p) => p.file));
  const out: string[] = [];
  const walk = (dir: string): void => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (SKIP.has(e.name)) continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.name.endsWith(".md") && !keep.has(rel(root, p))) out.push(rel(root, p));
    }
  };
  walk(root);
  return out.sort();
}

/** The route of a page as a link target ("/stages/stage-10-pipes/", "/docs/architecture"). */
export function routeLink(page: SitePage): string {
  return `/${page.route.replace(/(^|\/)index\.md$/, "$1").replace(/\.md$/, "")}`;
}
