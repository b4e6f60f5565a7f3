// Parts of the stage guides that the course generates, so that they say
// exactly what the code does: a block between
//
//   <!-- xps:NAME -->
//   ...
//   <!-- /xps:NAME -->
//
// is rewritten by `pnpm gen`, and `pnpm gen --check` (so verify) fails when
// it differs. The blocks:
//   changes  the files and functions the solution changes since the stage
//            before (the stage-to-stage diff), in "What changed since ..."
//   own      which of the learner's files of earlier stages
//            `pnpm xps test <stage> --own` uses
import fs from "node:fs";
import path from "node:path";
import { ownCandidates } from "../variant/overrides.mjs";
import { changesMarkdown } from "./stage-diff.ts";
import { isStandalone, listStages, repoRoot, type StageMeta } from "./stages.ts";

const BLOCK = /^<!-- xps:([a-z-]+) -->$/;

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
function blockBody(name: string, stage: StageMeta, root: string): string | null {
  const previous = listStages(root).filter((s) => s.stage < stage.stage && !isStandalone(s)).at(-1);
  if (name === "changes") return previous ? changesMarkdown(previous.stage, stage.stage, root) : "This is the first stage of the server.";
  if (name === "own") return ownMarkdown(stage, root);
  return null;
}

/** The guide's text with every generated block filled in (throws on an unknown or unclosed block). */
export function fillGuide(text: string, stage: StageMeta, root: string = repoRoot): string {
  const lines = text.split("\n");
  const out: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = BLOCK.exec(lines[i]!);
    if (!m) {
      out.push(lines[i]!);
      continue;
    }
    const name = m[1]!;
    const end = lines.indexOf(`<!-- /xps:${name} -->`, i + 1);
    if (end < 0) throw new Error(`${stage.name}/README.md:${i + 1}: <!-- xps:${name} --> has no <!-- /xps:${name} -->`);
    const body = blockBody(name, stage, root);
    if (body === null) throw new Error(`${stage.name}/README.md:${i + 1}: there is no generated block "${name}" (changes, own)`);
    out.push(lines[i]!, "", body, "", lines[end]!);
    i = end;
  }
  return out.join("\n");
}

/** Each stage's guide as pnpm gen writes it. */
export function expectedGuides(root: string = repoRoot): { stage: string; file: string; text: string }[] {
  return listStages(root)
    .map((stage) => ({ stage, file: path.join(stage.dir, "README.md") }))
    .filter(({ file }) => fs.existsSync(file))
    .map(({ stage, file }) => ({ stage: stage.name, file, text: fillGuide(fs.readFileSync(file, "utf8"), stage, root) }));
}
