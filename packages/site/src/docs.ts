// pnpm docs           serve the course website locally (VitePress's dev server)
// pnpm docs:build     build it into packages/site/dist (git-ignored)
// pnpm docs:preview   serve the built site
//
// Run with tsx, so the configuration can use the course's TypeScript tooling.
import { spawnSync } from "node:child_process";
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

if (isMainModule(import.meta.url)) {
  const [command = "build", ...rest] = scriptArgs();
  if (command !== "dev" && command !== "build" && command !== "preview") {
    console.error(`usage: pnpm docs | pnpm docs:build | pnpm docs:preview (not "${command}")`);
    process.exit(2);
  }
  const started = Date.now();
  const status = runVitepress(command, rest);
  if (command === "build" && status === 0) console.log(`course website: built ${siteOptions().outDir} in ${((Date.now() - started) / 1000).toFixed(1)} s`);
  process.exit(status);
}
