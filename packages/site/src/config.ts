// The course website's VitePress configuration (.vitepress/config.mts loads it).
//
// Environment (all optional):
//   XPS_DOCS_BASE    the base path the site is published under, e.g.
//                    /expserver-ts/ for GitHub Pages' project sites (default /)
//   XPS_DOCS_REPO    where links to source files go (default below); with
//   XPS_DOCS_BRANCH  the branch (default main)
//   XPS_DOCS_ROOT    the course to build (default: this one; verify builds a
//                    student export's site with it)
//   XPS_DOCS_OUT     the output folder (default packages/site/dist, git-ignored)
import crypto from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { DefaultTheme, UserConfig } from "vitepress";
import { findRepoRoot } from "../../course/variant/overrides.mjs";
import { courseMarkdown, githubSlug } from "./markdown.ts";
import { excludedMarkdown, rewrites, routeLink, sitePages, type SitePage } from "./pages.ts";

export const SITE_DIR = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
export const DEFAULT_REPO = "https://github.com/eXpServer/expserver-ts";

/** "/", or the base path with one slash at each end. */
export function basePath(value: string | undefined): string {
  const v = (value ?? "").trim().replace(/^\/+|\/+$/g, "");
  return v === "" ? "/" : `/${v}/`;
}

export interface SiteOptions {
  root: string;
  outDir: string;
  base: string;
  repo: string;
  branch: string;
  strict: boolean;
}

export function siteOptions(env: NodeJS.ProcessEnv = process.env, strict = true): SiteOptions {
  const root = path.resolve(env.XPS_DOCS_ROOT || findRepoRoot(SITE_DIR));
  return {
    root,
    outDir: path.resolve(env.XPS_DOCS_OUT || path.join(SITE_DIR, "dist")),
    base: basePath(env.XPS_DOCS_BASE),
    repo: env.XPS_DOCS_REPO || DEFAULT_REPO,
    branch: env.XPS_DOCS_BRANCH || "main",
    strict,
  };
}

function sidebar(pages: SitePage[]): DefaultTheme.SidebarItem[] {
  const group = (text: string, g: SitePage["group"]): DefaultTheme.SidebarItem[] => {
    const items = pages.filter((p) => p.group === g && p.route !== "index.md").map((p) => ({ text: p.title, link: routeLink(p) }));
    return items.length > 0 ? [{ text, items }] : [];
  };
  return [
    ...group("Start", "start"),
    ...group("Phase 0: sockets and the loop", "phase0"),
    ...group("The server", "server"),
    ...group("Reference", "reference"),
    ...group("For instructors", "authors"),
  ];
}

export function siteConfig(opts: SiteOptions): UserConfig<DefaultTheme.Config> {
  const pages = sitePages(opts.root);
  const first = pages.find((p) => p.group === "server") ?? pages.find((p) => p.stage !== null);
  const link = (file: string): string | undefined => {
    const p = pages.find((x) => x.file === file);
    return p ? routeLink(p) : undefined;
  };
  const nav: DefaultTheme.NavItem[] = [
    { text: "Getting started", link: link("docs/getting-started.md") },
    ...(first ? [{ text: "Stages", link: routeLink(first) }] : []),
    { text: "Architecture", link: link("docs/architecture.md") },
    { text: "C to Node", link: link("docs/c-to-node.md") },
  ].filter((n): n is DefaultTheme.NavItemWithLink => n.link !== undefined);
  // One cache per course built, so a student export's build does not disturb this one's.
  const cacheKey = crypto.createHash("sha1").update(opts.root).digest("hex").slice(0, 10);
  return {
    title: "eXpServer",
    titleTemplate: ":title · eXpServer",
    description: "Build an nginx-like, event-driven web server in TypeScript, one stage at a time",
    lang: "en",
    base: opts.base,
    srcDir: opts.root,
    outDir: opts.outDir,
    cacheDir: path.join(SITE_DIR, ".vitepress", "cache", cacheKey),
    srcExclude: excludedMarkdown(opts.root, pages),
    rewrites: rewrites(pages),
    // The default, said out loud: a link to a page that does not exist fails the build.
    ignoreDeadLinks: false,
    lastUpdated: false,
    markdown: {
      anchor: { slugify: githubSlug },
      headers: { level: [2, 3], slugify: githubSlug } as never,
      config: (md) => courseMarkdown(md, { root: opts.root, pages, repo: opts.repo, branch: opts.branch, strict: opts.strict }),
    },
    themeConfig: {
      nav,
      sidebar: sidebar(pages),
      outline: { level: [2, 3] },
      search: { provider: "local" },
      socialLinks: [{ icon: "github", link: opts.repo }],
      footer: { message: "eXpServer, the TypeScript edition. The guides are the Markdown files of the course's repository." },
    },
    vite: {
      // The course's public/ is what stages 12 and on serve, not the site's.
      publicDir: false,
      server: { fs: { allow: [opts.root, findRepoRoot(SITE_DIR)] } },
      // Mermaid is large; its chunks are still loaded only by pages with a diagram.
      build: { chunkSizeWarningLimit: 4096 },
    },
  };
}
