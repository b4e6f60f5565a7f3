// pnpm docs           serve the course website locally (VitePress's dev server)
// pnpm docs:build     build it into packages/site/dist (git-ignored)
// pnpm docs:preview   serve the built site
//
// Run with tsx, so the configuration can use the course's TypeScript tooling.
// A build fails on a dead link: VitePress checks the pages, deadAnchors the
// #headings.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { isMainModule, scriptArgs } from "@xps/utils/args";
import { SITE_DIR, siteOptions } from "./config.ts";

const vitepressBin = (): string => path.join(path.dirname(createRequire(import.meta.url).resolve("vitepress/package.json")), "bin", "vitepress.js");

/** Run VitePress (dev, build or preview) on the site, with tsx's loader so its config loads the course's TypeScript. */
export function runVitepress(command: "dev" | "build" | "preview", args: string[] = [], env: NodeJS.ProcessEnv = process.env): number {
  const r = spawnSync(process.execPath, ["--import", "tsx", vitepressBin(), command, SITE_DIR, ...args], {
    stdio: "inherit",
    env: { ...env, ...(command === "dev" ? { XPS_DOCS_DEV: "1" } : {}) },
  });
  return r.status ?? 1;
}

/**
 * Links to an anchor that its page does not have: VitePress fails the build
 * on a link to a missing page, this on a link to a missing #heading of a page.
 */
export function deadAnchors(dist: string, base = "/"): string[] {
  const html = (dir: string, rel = ""): string[] =>
    fs.readdirSync(dir, { withFileTypes: true }).flatMap((e) => {
      const r = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) return e.name === "assets" ? [] : html(path.join(dir, e.name), r);
      return e.name.endsWith(".html") ? [r] : [];
    });
  const files = html(dist);
  const texts = new Map(files.map((f) => [f, fs.readFileSync(path.join(dist, f), "utf8")]));
  const ids = new Map([...texts].map(([f, t]) => [f, new Set([...t.matchAll(/\sid="([^"]+)"/g)].map((m) => m[1]!))]));
  const dead: string[] = [];
  for (const [file, text] of texts) {
    // The page's own content only: the theme's navigation links to pages, not to anchors.
    const main = text.slice(text.indexOf('class="vp-doc'), text.lastIndexOf("</main>") > 0 ? text.lastIndexOf("</main>") : undefined);
    for (const m of main.matchAll(/\shref="([^"#]*)#([^"]+)"/g)) {
      const [, target, hash] = m as unknown as [string, string, string];
      if (/^[a-z]+:|^\/\//i.test(target)) continue;
      let page = file;
      if (target !== "") {
        if (!target.startsWith(base)) continue;
        const p = decodeURIComponent(target.slice(base.length));
        page = p === "" || p.endsWith("/") ? `${p}index.html` : p.endsWith(".html") ? p : `${p}.html`;
      }
      const have = ids.get(page);
      if (have !== undefined && !have.has(decodeURIComponent(hash))) dead.push(`${file}: a link to ${target || "this page"}#${hash}, which has no such heading`);
    }
  }
  return [...new Set(dead)];
}

if (isMainModule(import.meta.url)) {
  const [command = "build", ...rest] = scriptArgs();
  if (command !== "dev" && command !== "build" && command !== "preview") {
    console.error(`usage: pnpm docs | pnpm docs:build | pnpm docs:preview (not "${command}")`);
    process.exit(2);
  }
  const started = Date.now();
  const status = runVitepress(command, rest);
  if (command === "build" && status === 0) {
    const opts = siteOptions();
    const dead = deadAnchors(opts.outDir, opts.base);
    for (const d of dead) console.error(`course website: ${d}`);
    if (dead.length > 0) process.exit(1);
    console.log(`course website: built ${opts.outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  }
  process.exit(status);
}
