// Consistency checks of the course itself (used by verify).
import fs from "node:fs";
import path from "node:path";
import type { StageMeta } from "./stages.ts";
import { stageName, type Region } from "./skeleton.ts";

export interface Problem {
  where: string;
  message: string;
}

/**
 * Every region names an existing stage that lists its file in "teaches";
 * every taught file has regions of that stage; each stage's TODOs are
 * numbered 1..k without gaps.
 */
export function checkMarkers(stages: StageMeta[], marked: { file: string; module?: string; regions: Region[] }[]): Problem[] {
  const out: Problem[] = [];
  const byNumber = new Map(stages.map((s) => [s.stage, s]));
  for (const { file, module = file, regions } of marked) {
    for (const r of regions) {
      const stage = byNumber.get(r.stage);
      if (stage === undefined) out.push({ where: `${file}:${r.begin + 1}`, message: `region of ${stageName(r.stage)}, which does not exist` });
      else if (!stage.teaches.includes(module)) {
        out.push({ where: `${file}:${r.begin + 1}`, message: `region of ${stage.name}, whose "teaches" list does not name ${module}` });
      }
      if (r.body.every((l) => l.trim() === "")) out.push({ where: `${file}:${r.begin + 1}`, message: "region has no solution code" });
    }
  }
  for (const stage of stages) {
    const todos = new Map<number, string>();
    for (const file of stage.teaches) {
      const entry = marked.find((m) => (m.module ?? m.file) === file && m.regions.some((r) => r.stage === stage.stage));
      const mine = entry?.regions.filter((r) => r.stage === stage.stage) ?? [];
      if (mine.length === 0) out.push({ where: stage.name, message: `teaches ${file}, which has no region of ${stage.name}` });
      for (const r of mine) {
        const seen = todos.get(r.todo);
        if (seen !== undefined && seen !== r.title) {
          out.push({ where: `${file}:${r.begin + 1}`, message: `TODO ${r.todo} is titled "${r.title}" here and "${seen}" elsewhere` });
        }
        todos.set(r.todo, r.title);
      }
    }
    const numbers = [...todos.keys()].sort((a, b) => a - b);
    numbers.forEach((n, i) => {
      if (n !== i + 1) out.push({ where: stage.name, message: `TODOs are numbered ${numbers.join(", ")}; expected 1..${numbers.length}` });
    });
  }
  return dedupe(out);
}

/** Hint sections ("## h1 ..." headings) of a stage's hints.md. */
export function hintSections(stageDir: string): Map<string, string[]> {
  const file = path.join(stageDir, "hints.md");
  const sections = new Map<string, string[]>();
  if (!fs.existsSync(file)) return sections;
  let current: string[] | null = null;
  for (const line of fs.readFileSync(file, "utf8").split("\n")) {
    const h = /^## (h\d+)\b/.exec(line);
    if (h) {
      current = [];
      sections.set(h[1]!, current);
    } else if (current) current.push(line);
  }
  return sections;
}

/** Each milestone has an id, a title, points above 0 and a hint that hints.md holds, with at least two levels. */
export function checkHints(stages: StageMeta[]): Problem[] {
  const out: Problem[] = [];
  for (const stage of stages) {
    const ms = stage.milestones ?? [];
    if (ms.length === 0) out.push({ where: stage.name, message: "declares no milestones" });
    const sections = hintSections(stage.dir);
    if (!fs.existsSync(path.join(stage.dir, "hints.md"))) out.push({ where: stage.name, message: "has no hints.md" });
    for (const m of ms) {
      if (!/^m\d+$/.test(m.id)) out.push({ where: `${stage.name} ${m.id}`, message: 'milestone ids are "m1", "m2", ...' });
      if (!(m.points > 0)) out.push({ where: `${stage.name} ${m.id}`, message: "has no points" });
      if (!m.hint) out.push({ where: `${stage.name} ${m.id}`, message: "names no hint" });
      else {
        const body = sections.get(m.hint);
        if (body === undefined) out.push({ where: `${stage.name} ${m.id}`, message: `hint "${m.hint}" is not a "## ${m.hint}" section of hints.md` });
        else if (body.filter((l) => /^### /.test(l)).length < 2) {
          out.push({ where: `${stage.name} hints.md ${m.hint}`, message: 'needs at least two "### Level N" parts (hints are given one level at a time)' });
        }
      }
    }
  }
  return out;
}

function dedupe(list: Problem[]): Problem[] {
  const seen = new Set<string>();
  return list.filter((p) => {
    const k = `${p.where}|${p.message}`;
    if (seen.has(k)) return false;
    seen.add(k);
    return true;
  });
}

/**
 * Each stage has a guide (README.md); a stage that follows another one in
 * the server (stage 7 on) says what changed since, with the generated list
 * of files and functions (<!-- xps:changes -->, filled by pnpm gen).
 */
export function checkGuides(stages: StageMeta[], all: StageMeta[] = stages): Problem[] {
  const out: Problem[] = [];
  for (const stage of stages) {
    const file = path.join(stage.dir, "README.md");
    if (!fs.existsSync(file)) {
      out.push({ where: stage.name, message: "has no README.md (its guide)" });
      continue;
    }
    const text = fs.readFileSync(file, "utf8");
    const previous = all.filter((s) => s.stage < stage.stage).at(-1);
    if (previous !== undefined && stage.stage >= 7) {
      const section = new RegExp(`^## What changed since ${previous.name.replace("stage-0", "stage ").replace("stage-", "stage ")}\\b`, "m");
      if (!section.test(text)) out.push({ where: `${stage.name} README.md`, message: `has no "## What changed since stage ${previous.stage}" section` });
      if (!text.includes("<!-- xps:changes -->")) out.push({ where: `${stage.name} README.md`, message: 'its "What changed" section lacks the generated list of changes (<!-- xps:changes --> ... <!-- /xps:changes -->, which pnpm gen fills)' });
    }
  }
  return out;
}
