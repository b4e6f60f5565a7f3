// xps reset <stage> [file]: put back the pristine skeleton of a stage's files
// (all of them, or one). It asks first, and copies the learner's version to
// <stage>/.xps/backups/<time>/ before writing.
import fs from "node:fs";
import path from "node:path";
import readline from "node:readline/promises";
import pc from "picocolors";
import { expectedSkeletons } from "@xps/course/gen";
import { CommandError, UsageError, repoRoot, shown, stageArg, userPath, type StageMeta } from "../context.ts";

export interface ResetPlan {
  file: string;
  pristine: string;
  /** The learner's current text, or null when the file is missing. */
  current: string | null;
}

export function resetPlan(stage: StageMeta, only: string | undefined, root: string = repoRoot): ResetPlan[] {
  const files = expectedSkeletons(root).filter((s) => s.stage === stage.name);
  let chosen = files;
  if (only !== undefined) {
    const candidates = only.includes("/") ? [userPath(only), path.resolve(stage.dir, only), path.resolve(root, only)] : null;
    chosen = files.filter((f) => (candidates ? candidates.includes(f.file) : path.basename(f.file) === only));
    if (chosen.length === 0) {
      throw new UsageError(`${stage.name} has no file "${only}" of yours`, `name one of ${files.map((f) => path.basename(f.file)).join(", ")}`);
    }
  }
  return chosen.map((f) => ({ file: f.file, pristine: f.text, current: fs.existsSync(f.file) ? fs.readFileSync(f.file, "utf8") : null }));
}

function stamp(d = new Date()): string {
  return d.toISOString().replace(/[:]/g, "-").replace(/\..+$/, "");
}

async function confirm(question: string): Promise<boolean> {
  const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
  try {
    const answer = await rl.question(question);
    return /^y(es)?$/i.test(answer.trim());
  } finally {
    rl.close();
  }
}

export async function resetCommand(stageName: string, file: string | undefined, opts: { yes?: boolean }): Promise<number> {
  const stage = stageArg(stageName);
  const plan = resetPlan(stage, file);
  const changed = plan.filter((p) => p.current !== p.pristine);
  if (changed.length === 0) {
    console.log(`${plan.map((p) => shown(p.file)).join(", ")}: already the pristine skeleton; nothing to do`);
    return 0;
  }
  console.log(`This puts back the pristine skeleton of:`);
  for (const p of changed) console.log(`  ${shown(p.file)}${p.current === null ? pc.dim(" (missing)") : ""}`);
  if (!opts.yes) {
    if (!process.stdin.isTTY) {
      throw new UsageError("reset asks before it overwrites your files, and there is no terminal to ask on", `add --yes: pnpm xps reset ${stage.name}${file ? ` ${file}` : ""} --yes`);
    }
    if (!(await confirm("Your version is kept as a backup. Go ahead? [y/N] "))) {
      console.log("nothing changed");
      return 1;
    }
  }
  const backup = path.join(stage.dir, ".xps", "backups", stamp());
  let backedUp = 0;
  for (const p of changed) {
    if (p.current !== null) {
      fs.mkdirSync(backup, { recursive: true });
      fs.writeFileSync(path.join(backup, path.basename(p.file)), p.current);
      backedUp++;
    }
    fs.mkdirSync(path.dirname(p.file), { recursive: true });
    fs.writeFileSync(p.file, p.pristine);
    console.log(`${pc.green("restored")} ${shown(p.file)}`);
  }
  if (backedUp > 0) console.log(`your version: ${shown(backup)}/`);
  if (!fs.existsSync(plan[0]!.file)) throw new CommandError("could not write the skeleton");
  return 0;
}
