// verify's check of a stage's mistakes catalogue (stages/<stage>/mistakes.ts,
// see mistakes.ts): every wrong solution it lists is caught by the
// milestone it names, and that failure's report names the hint it names.
//
// For each entry: the solved learner files (the stage's view with every
// region in place, as the learner's files look once the stage is done), with
// the entry's edits applied to one of them, or with one TODO left as its
// stub; then vitest on the stage with those files, only that milestone. The
// runs go two at a time. One more run checks that the solved files, unedited,
// pass every milestone the catalogue names.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import type { Entry } from "./mistakes.ts";
import { hintSections } from "./checks.ts";
import { render, skeletonHeader, type Placed } from "./skeleton.ts";
import { moduleText, repoRoot, solvedFile, type StageMeta } from "./stages.ts";
import { viewOf } from "../variant/views.mjs";
import { runSuite, type TestRun } from "../../testkit/src/runner.ts";

export interface CatalogueResult {
  total: number;
  caught: number;
  problems: string[];
  ms: number;
}


/** The learner's files of a stage once it is solved: name -> text. With `stubTodo`, that TODO alone stays a stub. */
export function solvedFiles(stage: StageMeta, root: string = repoRoot, stubTodo?: number): Map<string, string> {
  const view = viewOf(root, stage.stage);
  return new Map(stage.teaches.map((module) => [path.basename(module), solvedFile(stage, module, root, stubTodo, view)]));
}

/** Where each of this stage's regions (and earlier ones) sits in the solved learner files: name -> placed regions. */
export function solvedRegions(stage: StageMeta, root: string = repoRoot): Map<string, Placed[]> {
  const out = new Map<string, Placed[]>();
  for (const module of stage.teaches) {
    const { placed } = render(moduleText(stage, module, root), module, () => "keep");
    const offset = skeletonHeader(stage.name, module).split("\n").length - 1;
    out.set(path.basename(module), placed.map((p) => ({ ...p, from: p.from + offset, to: p.to + offset })));
  }
  return out;
}

/** Apply an entry to the solved files; throws when an edit's text is not found exactly once. */
export function mutated(stage: StageMeta, entry: Entry, root: string = repoRoot): Map<string, string> {
  if (entry.stub) return solvedFiles(stage, root, entry.todo);
  const files = solvedFiles(stage, root);
  const text = files.get(entry.file);
  if (text === undefined) throw new Error(`"${entry.id}" edits ${entry.file}, which ${stage.name} does not teach`);
  let next = text;
  for (const e of entry.edits) {
    const count = next.split(e.find).length - 1;
    if (count !== 1) {
      throw new Error(`"${entry.id}": the text to change occurs ${count} times in the solved ${entry.file} (it must occur once; did the reference change?): ${JSON.stringify(e.find.slice(0, 80))}`);
    }
    next = next.replace(e.find, e.replace);
  }
  if (next === text) throw new Error(`"${entry.id}" changes nothing`);
  files.set(entry.file, next);
  return files;
}

export async function loadCatalogue(stage: StageMeta): Promise<Entry[] | null> {
  const file = path.join(stage.dir, "mistakes.ts");
  if (!fs.existsSync(file)) return null;
  const mod = (await import(pathToFileURL(file).href)) as { mistakes: Entry[] };
  return mod.mistakes;
}

/** Shape problems: every TODO has a stub entry and at least three mistakes of its own; hints and milestones exist. */
export function catalogueShape(stage: StageMeta, entries: Entry[], root: string = repoRoot): string[] {
  const out: string[] = [];
  const hints = hintSections(stage.dir);
  const milestones = new Set((stage.milestones ?? []).map((m) => m.id));
  const todos = new Set<number>();
  for (const module of stage.teaches) {
    for (const line of moduleText(stage, module, root).split("\n")) {
      const m = new RegExp(`// @solution ${stage.name} begin (\\d+):`).exec(line);
      if (m) todos.add(Number(m[1]));
    }
  }
  const ids = new Set<string>();
  for (const e of entries) {
    if (ids.has(e.id)) out.push(`"${e.id}" is in the catalogue twice`);
    ids.add(e.id);
    if (!milestones.has(e.caughtBy)) out.push(`"${e.id}" names milestone ${e.caughtBy}, which ${stage.name} does not declare`);
    if (!hints.has(e.hint)) out.push(`"${e.id}" names hint ${e.hint}, which hints.md has no section for`);
    if (!todos.has(e.todo)) out.push(`"${e.id}" is about TODO ${e.todo}, which ${stage.name} does not have`);
  }
  for (const t of [...todos].sort((a, b) => a - b)) {
    if (!entries.some((e) => e.todo === t && e.stub)) out.push(`TODO ${t} has no entry for its stub left in place ({ stub: true })`);
    const own = entries.filter((e) => e.todo === t && !e.stub).length;
    if (own < 3) out.push(`TODO ${t} has ${own} mistake(s) of its own; a catalogue lists at least three per TODO, besides the stub`);
  }
  return out;
}

export async function pool<T, R>(items: T[], width: number, fn: (item: T) => Promise<R>): Promise<R[]> {
  const out: R[] = new Array(items.length);
  let next = 0;
  await Promise.all(
    Array.from({ length: Math.min(width, items.length) }, async () => {
      while (next < items.length) {
        const i = next++;
        out[i] = await fn(items[i]!);
      }
    }),
  );
  return out;
}

export function writeFiles(dir: string, files: Map<string, string>): void {
  fs.mkdirSync(dir, { recursive: true });
  for (const [name, text] of files) fs.writeFileSync(path.join(dir, name), text);
}

/** vitest on the stage with the learner files in `dir`, only these milestones; `timeoutMs` ends a run that hangs. */
export function runWith(stage: StageMeta, dir: string, milestones: string[], extra: NodeJS.ProcessEnv = {}, timeoutMs?: number): Promise<TestRun> {
  const env: NodeJS.ProcessEnv = { ...process.env, XPS_VARIANT: "learner", XPS_LEARNER_DIR: dir, XPS_RESULTS: "off", ...extra };
  const pattern = `^(${milestones.map((m) => m.toUpperCase()).join("|")}) `;
  return runSuite(stage.dir, env, { pattern, timeoutMs });
}

interface Outcome {
  entry: Entry;
  problem: string | null;
}

/** Did this entry's tests (in `r`, whose names end with `suffix`) fail, with the right hint? */
function judge(stage: StageMeta, entry: Entry, r: TestRun, suffix = ""): Outcome {
  const prefix = `${entry.caughtBy.toUpperCase()} `;
  const ours = (n: string): boolean => n.startsWith(prefix) && n.endsWith(suffix);
  const mine = [...r.passed.filter(ours), ...r.failed.filter((f) => ours(f.name)).map((f) => f.name)];
  const failed = r.failed.filter((f) => ours(f.name));
  const what = entry.stub ? `TODO ${entry.todo} left as its stub` : `"${entry.id}" (TODO ${entry.todo}: ${entry.what})`;
  if (!r.ok) return { entry, problem: `${what}: vitest did not run: ${r.error}\n${r.output.slice(-800)}` };
  if (mine.length === 0) return { entry, problem: `${what}: no test of ${entry.caughtBy.toUpperCase()}${entry.check ? ` named "${entry.check}"` : ""} ran` };
  if (failed.length === 0) return { entry, problem: `${what} is not caught: ${entry.caughtBy.toUpperCase()} passes with it` };
  const hint = `pnpm xps hint ${stage.name} ${entry.hint}`;
  if (!failed.some((f) => f.message.includes(hint))) {
    const named = /pnpm xps hint \S+ (h\d+)/.exec(failed[0]!.message)?.[1] ?? "no hint";
    return { entry, problem: `${what} is caught by ${entry.caughtBy.toUpperCase()}, but its report points to ${named}, not ${entry.hint}:\n${failed[0]!.message.split("\n").slice(0, 4).join("\n")}` };
  }
  return { entry, problem: null };
}

/**
 * Run the whole catalogue of a stage, in `width` batches at a time beside the solved files' run.
 * Most of a mistake's run is spent waiting (a server starting, an answer that does not come), so
 * three batches on two cores took stage 10 from 92 s to 74 s and stage 13 from 78 s to 61 s.
 */
export async function checkCatalogue(stage: StageMeta, root: string = repoRoot, width = 3): Promise<CatalogueResult> {
  const started = Date.now();
  const entries = await loadCatalogue(stage);
  if (entries === null) return { total: 0, caught: 0, problems: [`${stage.name} has no mistakes catalogue (mistakes.ts)`], ms: 0 };
  const problems = catalogueShape(stage, entries, root);
  fs.mkdirSync(path.join(stage.dir, ".xps"), { recursive: true });
  const scratch = fs.mkdtempSync(path.join(stage.dir, ".xps", "catalogue-"));
  try {
    // The solved files, unedited, pass every milestone the catalogue uses.
    const used = [...new Set(entries.map((e) => e.caughtBy))].sort();
    const baseDir = path.join(scratch, "solved");
    writeFiles(baseDir, solvedFiles(stage, root));
    const base = runWith(stage, baseDir, used);
    // Each entry's files; an entry whose edit no longer applies is a problem of its own.
    const ready: { entry: Entry; dir: string }[] = [];
    const results: Outcome[] = [];
    for (const entry of entries) {
      const dir = path.join(scratch, entry.id);
      try {
        writeFiles(dir, mutated(stage, entry, root));
        ready.push({ entry, dir });
      } catch (err) {
        results.push({ entry, problem: (err as Error).message });
      }
    }
    // Every entry goes in one vitest run per batch (XPS_MISTAKES): servers and
    // in-process checks' probes both run in child processes, each with the
    // mistake's files.
    const batched = ready;
    const batches: (typeof batched)[] = Array.from({ length: Math.min(width, batched.length) }, () => []);
    batched.forEach((x, i) => batches[i % batches.length]!.push(x));
    const jobs: (() => Promise<Outcome[]>)[] = [
      ...batches.map((batch) => async () => {
        const list = batch.map((x) => ({ id: x.entry.id, milestone: x.entry.caughtBy, dir: x.dir, hint: x.entry.hint, check: x.entry.check }));
        const r = await runWith(stage, baseDir, [...new Set(list.map((x) => x.milestone))], { XPS_MISTAKES: JSON.stringify(list) });
        return batch.map((x) => judge(stage, x.entry, r, ` [mistake ${x.entry.id}]`));
      }),
    ];
    results.push(...(await pool(jobs, width, (job) => job())).flat());
    let b = await base;
    const passing = (r: TestRun): boolean => r.ok && r.failed.length === 0 && r.passed.length > 0;
    // The solved files ran beside the batches, four vitest runs on a machine
    // that may have two cores: a failure there is run again alone, and only a
    // second failure counts (with the first one's reason, to track it down).
    if (!passing(b)) {
      const first = b;
      b = await runWith(stage, baseDir, used);
      if (!passing(b)) {
        const why = (r: TestRun): string => (r.ok ? r.failed.map((f) => `${f.name}: ${f.message.split("\n")[0]}`).join("; ") : (r.error ?? "vitest did not run"));
        problems.push(`the solved learner files do not pass ${used.join(", ")}, beside the mistakes' runs (${why(first)}) nor alone (${why(b)})`);
      }
    }
    for (const r of results) if (r.problem !== null) problems.push(r.problem);
    const caught = results.filter((r) => r.problem === null).length;
    return { total: entries.length, caught, problems, ms: Date.now() - started };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}
