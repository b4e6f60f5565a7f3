// Checks of the stage views (see variant/views.mjs), used by verify:
// - a view holds no solution region of a later stage (later code is absent
//   from an earlier stage, not stubbed), and every module its stage teaches;
// - each view type-checks on its own: the view's modules, with every
//   `@xps/<server package>` import pointing into the view, plus the stage's
//   server.ts, its learner files and its tests.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { serverPackages, viewOf, writeView } from "../variant/views.mjs";
import { parseRegions, stageName } from "./skeleton.ts";
import type { Problem } from "./checks.ts";
import { repoRoot, type StageMeta } from "./stages.ts";

/** Regions of later stages in a view, and taught modules missing from it. */
export function checkView(stage: StageMeta, root: string = repoRoot): Problem[] {
  const out: Problem[] = [];
  const view = viewOf(root, stage.stage);
  for (const [module, { source, text }] of view) {
    for (const r of parseRegions(text, module)) {
      if (r.stage > stage.stage) {
        out.push({
          where: `${source} (TODO ${r.todo} of ${stageName(r.stage)})`,
          message: `is in the view of ${stage.name}; code of a later stage must be absent there: put the region inside "// @since ${r.stage} begin" ... "// @since end"`,
        });
      }
    }
  }
  for (const m of stage.teaches) {
    if (!view.has(m)) out.push({ where: stage.name, message: `teaches ${m}, which its view does not hold` });
  }
  return out;
}

/** tsconfig "paths" that send every import of a server package into `dir`. */
function viewPaths(root: string, dir: string): Record<string, string[]> {
  const paths: Record<string, string[]> = {};
  for (const pkg of serverPackages(root)) {
    const manifest = JSON.parse(fs.readFileSync(path.join(root, "packages", pkg, "package.json"), "utf8")) as { name: string; exports?: Record<string, string> };
    for (const [key, target] of Object.entries(manifest.exports ?? {})) {
      const spec = key === "." ? manifest.name : `${manifest.name}/${key.replace(/^\.\//, "")}`;
      paths[spec] = [path.join(dir, "packages", pkg, target)];
    }
  }
  return paths;
}

/** Type-check the stage's view on its own; returns tsc's complaints (empty when clean). */
export function typecheckView(stage: StageMeta, root: string = repoRoot): string[] {
  const dir = path.join(stage.dir, ".xps", "view-check");
  fs.rmSync(dir, { recursive: true, force: true });
  writeView(root, stage.stage, dir);
  const base = JSON.parse(fs.readFileSync(path.join(root, "tsconfig.json"), "utf8")) as { compilerOptions: Record<string, unknown> };
  const config = {
    compilerOptions: { ...base.compilerOptions, paths: viewPaths(root, dir) },
    include: [path.join(dir, "packages/**/*.ts"), path.join(stage.dir, "*.ts"), path.join(stage.dir, "src/**/*.ts"), path.join(stage.dir, "test/**/*.ts")],
    exclude: ["**/node_modules/**"],
  };
  const tsconfig = path.join(dir, "tsconfig.json");
  fs.writeFileSync(tsconfig, JSON.stringify(config, null, 2));
  const tsc = path.join(root, "node_modules", ".bin", "tsc");
  const r = spawnSync(tsc, ["-p", tsconfig], { cwd: root, encoding: "utf8", maxBuffer: 16 * 1024 * 1024 });
  fs.rmSync(dir, { recursive: true, force: true });
  if (r.status === 0) return [];
  return `${r.stdout}${r.stderr}`
    .trim()
    .split("\n")
    .map((l) => l.replace(`${dir}/`, "view:").replace(`${root}/`, ""));
}
