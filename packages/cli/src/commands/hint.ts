// xps hint <stage> [n]: the stage's hints.md, one level at a time.
import path from "node:path";
import pc from "picocolors";
import { UsageError, repoRoot, shown, stageArg, type StageMeta } from "../context.ts";
import { readSeen, stageHints, writeSeen, type HintSection } from "../hints.ts";
import { readResults } from "../results.ts";
import { indent } from "../show.ts";

export interface HintOptions {
  level?: string;
  reset?: boolean;
  list?: boolean;
}

/** Which hint: "h2", "2", a milestone "m3"; none: the first failing milestone's (or the first) hint. */
export function resolveHint(stage: StageMeta, sections: HintSection[], n: string | undefined): HintSection {
  const ids = sections.map((s) => s.id);
  const pick = (id: string, from: string): HintSection => {
    const s = sections.find((x) => x.id === id);
    if (!s) throw new UsageError(`${stage.name} has no hint "${from}"`, `use one of ${ids.join(", ")}, or a milestone id`);
    return s;
  };
  if (n === undefined) {
    const results = readResults(stage, repoRoot);
    const ms = stage.milestones ?? [];
    const failing = ms.find((m) => results?.milestones[m.id]?.status === "failed") ?? ms.find((m) => results?.milestones[m.id]?.status !== "passed");
    const id = failing?.hint ?? ids[0];
    if (!id) throw new UsageError(`${stage.name} has no hints.md sections`, "ask your instructor");
    return pick(id, id);
  }
  const t = n.trim().toLowerCase();
  if (/^h\d+$/.test(t)) return pick(t, n);
  if (/^\d+$/.test(t)) return pick(`h${t}`, n);
  if (/^m\d+$/.test(t)) {
    const m = stage.milestones?.find((x) => x.id === t);
    if (!m) throw new UsageError(`${stage.name} has no milestone "${n}"`, `use one of ${(stage.milestones ?? []).map((x) => x.id).join(", ")}`);
    if (!m.hint) throw new UsageError(`${stage.name} ${m.id} names no hint`, `use one of ${ids.join(", ")}`);
    return pick(m.hint, n);
  }
  throw new UsageError(`"${n}" is not a hint`, `write a hint id like h1 (or a milestone id like m3); ${stage.name} has ${ids.join(", ")}`);
}

export function hintCommand(stageName: string, n: string | undefined, opts: HintOptions): number {
  const stage = stageArg(stageName);
  const sections = stageHints(stage);
  const file = shown(path.join(stage.dir, "hints.md"));
  if (sections.length === 0) throw new UsageError(`${stage.name} has no hints (${file} is missing or has no "## h1" sections)`, "ask your instructor");
  if (opts.list) {
    const seen = readSeen(repoRoot)[stage.name] ?? {};
    for (const s of sections) {
      const users = (stage.milestones ?? []).filter((m) => m.hint === s.id).map((m) => m.id.toUpperCase());
      console.log(`${s.id}  ${s.title}  ${pc.dim(`(${users.join(", ") || "no milestone"}; ${seen[s.id] ?? 0} of ${s.levels.length} levels read)`)}`);
    }
    return 0;
  }
  const section = resolveHint(stage, sections, n);
  const all = readSeen(repoRoot);
  const mine = (all[stage.name] ??= {});
  if (opts.reset) {
    delete mine[section.id];
    writeSeen(repoRoot, all);
    console.log(`${stage.name} ${section.id}: back to Level 1 next time`);
    return 0;
  }
  const count = section.levels.length;
  let level: number;
  if (opts.level !== undefined) {
    level = Number(opts.level);
    if (!Number.isInteger(level) || level < 1 || level > count) throw new UsageError(`--level wants 1 to ${count} for ${section.id}, not "${opts.level}"`, `try --level 1`);
  } else {
    level = Math.min(count, (mine[section.id] ?? 0) + 1);
  }
  mine[section.id] = Math.max(mine[section.id] ?? 0, level);
  writeSeen(repoRoot, all);

  const users = (stage.milestones ?? []).filter((m) => m.hint === section.id);
  console.log(pc.bold(`${stage.name} hint ${section.id}: ${section.title}`) + pc.dim(`  (for ${users.map((m) => `${m.id.toUpperCase()} ${m.title}`).join("; ") || "no milestone"})`));
  if (section.intro && level === 1) console.log(indent(section.intro, "  "));
  for (let i = 1; i < level; i++) console.log(pc.dim(`  ${section.levels[i - 1]!.title}: read already (--level ${i} shows it again)`));
  const l = section.levels[level - 1]!;
  console.log("");
  console.log(pc.bold(`  ${l.title}`) + pc.dim(` (${level} of ${count})`));
  console.log("");
  console.log(indent(l.body, "  "));
  console.log("");
  if (level < count) console.log(pc.dim(`  Try again first. The next level: pnpm xps hint ${stage.name} ${section.id}`));
  else console.log(pc.dim(`  That was the last level of ${section.id} (all of it is in ${file}).`));
  return 0;
}
