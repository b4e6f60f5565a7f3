// pnpm mutate stage-NN: mutation testing of one stage's solution regions, an
// audit deeper than the mistakes catalogue and not part of CI.
//
// The mutants come from StrykerJS's instrumenter (@stryker-mutator/instrumenter:
// its mutators, its locations), restricted to the stage's solution regions in
// the solved learner files. They are not run by Stryker's own runner: the
// milestones are black-box, with the server in a child process, which
// Stryker's per-test coverage cannot see, and its command runner would run
// every milestone for every mutant, hours per stage. Instead:
//
//   1. Which milestones can see a TODO: those that fail with that TODO alone
//      left as its stub (one run per TODO).
//   2. Each mutant is the solved files with one mutant applied as text. It is
//      run against the milestones that see its TODO, fastest first, and it is
//      killed by the first that fails (a test that times out kills it too, as
//      in Stryker). A vitest run takes many mutants at once (XPS_MISTAKES,
//      as the catalogue check does: each test runs its server, or its
//      in-process probe, on one mutant's files).
//   3. The score per TODO: killed / (killed + survived); a mutant in a TODO
//      that no milestone sees counts as survived ("no coverage").
import fs from "node:fs";
import path from "node:path";
import { parseArgs } from "node:util";
import { Instrumenter } from "@stryker-mutator/instrumenter";
import { isMainModule } from "@xps/utils/args";
import { pool, runWith, solvedFiles, solvedRegions, writeFiles } from "./catalogue.ts";
import { findStage, repoRoot, type StageMeta } from "./stages.ts";

export interface MutantCase {
  id: string;
  file: string;
  todo: number;
  line: number;
  mutator: string;
  replacement: string;
  original: string;
  text: string;
}

export interface MutantOutcome {
  id: string;
  todo: number;
  status: "killed" | "survived" | "no coverage" | "not run";
  by?: string;
}

export interface MutationReport {
  stage: string;
  mutants: number;
  outcomes: MutantOutcome[];
  perTodo: { todo: number; title: string; killed: number; total: number }[];
  score: number;
  ms: number;
  seeing: Record<number, string[]>;
}

const quiet = (): void => {};
const LOGGER = {
  isTraceEnabled: () => false,
  isDebugEnabled: () => false,
  isInfoEnabled: () => false,
  isWarnEnabled: () => true,
  isErrorEnabled: () => true,
  isFatalEnabled: () => true,
  trace: quiet,
  debug: quiet,
  info: quiet,
  warn: (...a: unknown[]) => console.warn(...a),
  error: (...a: unknown[]) => console.error(...a),
  fatal: (...a: unknown[]) => console.error(...a),
};

/** Offsets of the starts of lines, for Stryker's 0-based {line, column} positions. */
function lineStarts(text: string): number[] {
  const out = [0];
  for (let i = 0; i < text.length; i++) if (text[i] === "\n") out.push(i + 1);
  return out;
}

/** Every mutant of the stage's solution regions, as whole learner files. */
export async function mutantsOf(stage: StageMeta, root: string = repoRoot, mutators?: Set<string>): Promise<MutantCase[]> {
  const solved = solvedFiles(stage, root);
  const regions = solvedRegions(stage, root);
  const out: MutantCase[] = [];
  const instrumenter = new Instrumenter(LOGGER as never);
  for (const [file, text] of solved) {
    const mine = (regions.get(file) ?? []).filter((p) => p.region.stage === stage.stage);
    if (mine.length === 0) continue;
    // The region's body, without its first line (the begin marker's place: kept lines start with the solution).
    const mutate = mine.map((p) => ({ start: { line: p.from, column: 0 }, end: { line: p.to, column: 0 } }));
    const result = await instrumenter.instrument([{ name: file, content: text, mutate }], { plugins: null, excludedMutations: [], ignorers: [] });
    const starts = lineStarts(text);
    const lines = text.split("\n");
    for (const m of result.mutants) {
      const line = m.location.start.line;
      const region = mine.find((p) => line >= p.from && line < p.to);
      if (region === undefined) continue;
      if (mutators && !mutators.has(m.mutatorName)) continue;
      // A log line's wording is not what a TODO asks for.
      if (m.mutatorName === "StringLiteral" && /\blogger\(/.test(lines[line] ?? "")) continue;
      const a = starts[m.location.start.line]! + m.location.start.column;
      const b = starts[m.location.end.line]! + m.location.end.column;
      out.push({
        id: `${path.basename(file, ".ts")}-${m.id}`,
        file,
        todo: region.region.todo,
        line: line + 1,
        mutator: m.mutatorName,
        replacement: m.replacement,
        original: text.slice(a, b),
        text: text.slice(0, a) + m.replacement + text.slice(b),
      });
    }
  }
  return out;
}

interface Milestone {
  id: string;
  ms: number;
}

/** Ran and failed, or timed out: either way the milestone noticed. */
function failedIn(names: string[], failed: { name: string }[], prefix: string, suffix: string): boolean {
  return failed.some((f) => f.name.startsWith(prefix) && f.name.endsWith(suffix)) || !names.some((n) => n.startsWith(prefix) && n.endsWith(suffix));
}

export async function mutate(
  stage: StageMeta,
  opts: { root?: string; width?: number; budgetMs?: number; todo?: number; mutators?: Set<string>; limit?: number; log?: (line: string) => void } = {},
): Promise<MutationReport> {
  const root = opts.root ?? repoRoot;
  const width = opts.width ?? 2;
  const log = opts.log ?? (() => {});
  const started = Date.now();
  const deadline = started + (opts.budgetMs ?? 30 * 60_000);
  let cases = await mutantsOf(stage, root, opts.mutators);
  if (opts.todo !== undefined) cases = cases.filter((c) => c.todo === opts.todo);
  if (opts.limit !== undefined) cases = cases.slice(0, opts.limit);
  const todos = [...new Set(cases.map((c) => c.todo))].sort((a, b) => a - b);
  log(`${stage.name}: ${cases.length} mutants in TODOs ${todos.join(", ")}`);

  fs.mkdirSync(path.join(stage.dir, ".xps"), { recursive: true });
  const scratch = fs.mkdtempSync(path.join(stage.dir, ".xps", "mutate-"));
  try {
    // The solved files pass every milestone; each one's time orders them.
    const solvedDir = path.join(scratch, "solved");
    writeFiles(solvedDir, solvedFiles(stage, root));
    const milestones: Milestone[] = await pool(stage.milestones ?? [], width, async (m) => {
      const t0 = Date.now();
      const r = await runWith(stage, solvedDir, [m.id]);
      if (!r.ok || r.failed.length > 0 || r.passed.length === 0) {
        throw new Error(`the solved files do not pass ${m.id.toUpperCase()}: ${r.ok ? r.failed.map((f) => f.message.split("\n")[0]).join("; ") || "no test ran" : r.error}`);
      }
      return { id: m.id, ms: Date.now() - t0 };
    });
    // Fastest first: most mutants die in the first milestone that sees them.
    milestones.sort((a, b) => a.ms - b.ms);
    log(`solved files pass every milestone: ${milestones.map((m) => `${m.id.toUpperCase()} ${(m.ms / 1000).toFixed(1)} s`).join(", ")}`);
    const cap = (m: Milestone): string => String(Math.max(10_000, 3 * m.ms));

    // 1. Which milestones see each TODO.
    const seeing = new Map<number, Milestone[]>();
    const stubDirs = new Map<number, string>();
    for (const k of todos) {
      const dir = path.join(scratch, `stub-${k}`);
      writeFiles(dir, solvedFiles(stage, root, k));
      stubDirs.set(k, dir);
    }
    await pool(todos, width, async (k) => {
      const r = await runWith(stage, stubDirs.get(k)!, milestones.map((m) => m.id));
      seeing.set(k, milestones.filter((m) => r.failed.some((f) => f.name.startsWith(`${m.id.toUpperCase()} `))));
    });
    for (const k of todos) log(`TODO ${k} is seen by ${seeing.get(k)!.map((m) => m.id.toUpperCase()).join(", ") || "no milestone"}`);

    // 2. The mutants, milestone by milestone, fastest first.
    const outcome = new Map<string, MutantOutcome>();
    const dirs = new Map<string, string>();
    for (const c of cases) {
      if (seeing.get(c.todo)!.length === 0) {
        outcome.set(c.id, { id: c.id, todo: c.todo, status: "no coverage" });
        continue;
      }
      const files = solvedFiles(stage, root);
      files.set(c.file, c.text);
      const dir = path.join(scratch, c.id);
      writeFiles(dir, files);
      dirs.set(c.id, dir);
    }
    for (const m of milestones) {
      const alive = cases.filter((c) => !outcome.has(c.id) && seeing.get(c.todo)!.includes(m));
      if (alive.length === 0) continue;
      if (Date.now() > deadline) break;
      const env = { XPS_MILESTONE_TIMEOUT_MS: cap(m) };
      const prefix = `${m.id.toUpperCase()} `;
      // Batches small enough that one slow mutant does not hold up the rest for long.
      const size = Math.max(1, Math.min(25, Math.ceil(alive.length / width)));
      const batches: MutantCase[][] = [];
      for (let i = 0; i < alive.length; i += size) batches.push(alive.slice(i, i + size));
      await pool(batches, width, async (batch) => {
        if (Date.now() > deadline) return;
        const list = batch.map((c) => ({ id: c.id, milestone: m.id, dir: dirs.get(c.id)! }));
        const r = await runWith(stage, solvedDir, [m.id], { ...env, XPS_MISTAKES: JSON.stringify(list) }, batch.length * (Number(cap(m)) + 5000) + 60_000);
        for (const c of batch) {
          // A run that did not report (it was stopped at its time limit) kills nobody: its mutants go on to the next milestone.
          if (r.ok && failedIn(r.passed, r.failed, prefix, ` [mistake ${c.id}]`)) outcome.set(c.id, { id: c.id, todo: c.todo, status: "killed", by: m.id });
        }
      });
      const killed = [...outcome.values()].filter((o) => o.by === m.id).length;
      log(`${m.id.toUpperCase()}: ${alive.length} mutants run, ${killed} killed (${((Date.now() - started) / 1000).toFixed(0)} s so far)`);
    }
    const overBudget = Date.now() > deadline;
    for (const c of cases) {
      if (!outcome.has(c.id)) outcome.set(c.id, { id: c.id, todo: c.todo, status: overBudget ? "not run" : "survived" });
    }

    // 3. Scores.
    const titles = new Map<number, string>();
    for (const list of solvedRegions(stage, root).values()) for (const p of list) if (p.region.stage === stage.stage) titles.set(p.region.todo, p.region.title);
    const outcomes = cases.map((c) => outcome.get(c.id)!);
    const judged = outcomes.filter((o) => o.status !== "not run");
    const perTodo = todos.map((k) => {
      const mine = judged.filter((o) => o.todo === k);
      return { todo: k, title: titles.get(k) ?? "", killed: mine.filter((o) => o.status === "killed").length, total: mine.length };
    });
    const killed = judged.filter((o) => o.status === "killed").length;
    return {
      stage: stage.name,
      mutants: cases.length,
      outcomes,
      perTodo,
      score: judged.length === 0 ? 0 : killed / judged.length,
      ms: Date.now() - started,
      seeing: Object.fromEntries([...seeing].map(([k, ms]) => [k, ms.map((m) => m.id)])),
    };
  } finally {
    fs.rmSync(scratch, { recursive: true, force: true });
  }
}

const USAGE = `Usage: pnpm mutate <stage> [options]

Mutation testing of one stage's solution regions (StrykerJS's mutators; the
stage's own milestones as the tests). Not part of CI: it takes minutes.

  --todo N         only the mutants of TODO N
  --mutators LIST  only these Stryker mutators (e.g. EqualityOperator,ConditionalExpression)
  --limit N        at most N mutants (a quick look)
  --width N        vitest runs at a time (default 2)
  --budget MIN     stop starting runs after MIN minutes (default 30)
  --out FILE       also write the full report as JSON
  --help           this text`;

async function main(argv: string[]): Promise<number> {
  let parsed;
  try {
    parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      strict: true,
      options: {
        todo: { type: "string" },
        mutators: { type: "string" },
        limit: { type: "string" },
        width: { type: "string" },
        budget: { type: "string" },
        out: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
    });
  } catch (err) {
    console.error(`pnpm mutate: ${(err as Error).message.split("\n")[0]}\n\n${USAGE}`);
    return 2;
  }
  const { values, positionals } = parsed;
  if (values.help) {
    console.log(USAGE);
    return 0;
  }
  if (positionals.length !== 1) {
    console.error(`pnpm mutate: name one stage, for example: pnpm mutate stage-10\n\n${USAGE}`);
    return 2;
  }
  const stage = findStage(positionals[0]!);
  if (stage === null) {
    console.error(`pnpm mutate: there is no stage "${positionals[0]}" (pnpm xps status lists them)`);
    return 2;
  }
  const int = (name: string, v: string | undefined, min: number): number | undefined => {
    if (v === undefined) return undefined;
    const n = Number(v);
    if (!Number.isInteger(n) || n < min) throw new RangeError(`--${name} takes a whole number of at least ${min}, not "${v}"`);
    return n;
  };
  let todo, limit, width, budget;
  try {
    todo = int("todo", values.todo, 1);
    limit = int("limit", values.limit, 1);
    width = int("width", values.width, 1);
    budget = int("budget", values.budget, 1);
  } catch (err) {
    console.error(`pnpm mutate: ${(err as Error).message}`);
    return 2;
  }
  const mutators = values.mutators === undefined ? undefined : new Set(values.mutators.split(",").map((s) => s.trim()).filter(Boolean));
  const report = await mutate(stage, { todo, limit, width, mutators, budgetMs: budget === undefined ? undefined : budget * 60_000, log: (l) => console.log(l) });
  console.log("");
  const ran = report.outcomes.filter((o) => o.status !== "not run").length;
  console.log(`${report.stage}: mutation score ${(report.score * 100).toFixed(1)}% (${ran === report.mutants ? `${ran} mutants` : `${ran} of ${report.mutants} mutants run`}, ${(report.ms / 60_000).toFixed(1)} min)`);
  for (const t of report.perTodo) console.log(`  TODO ${t.todo} ${t.title}: ${t.killed}/${t.total} killed${t.total ? ` (${((100 * t.killed) / t.total).toFixed(0)}%)` : ""}`);
  const survivors = report.outcomes.filter((o) => o.status === "survived" || o.status === "no coverage");
  const notRun = report.mutants - ran;
  if (notRun > 0) console.log(`  ${notRun} mutants not run: the budget ran out (--budget)`);
  if (survivors.length > 0) {
    console.log("\nSurvivors (a milestone that would catch them is a candidate test, or the mutant is equivalent):");
    const byId = new Map((await mutantsOf(stage, repoRoot, mutators)).map((c) => [c.id, c]));
    for (const o of survivors) {
      const c = byId.get(o.id)!;
      console.log(`  ${c.file}:${c.line} TODO ${c.todo} ${c.mutator}${o.status === "no coverage" ? " (no milestone sees this TODO)" : ""}: ${JSON.stringify(c.original).slice(0, 70)} -> ${JSON.stringify(c.replacement).slice(0, 70)}`);
    }
  }
  if (values.out !== undefined) fs.writeFileSync(values.out, `${JSON.stringify(report, null, 2)}\n`);
  return 0;
}

if (isMainModule(import.meta.url)) {
  main(process.argv.slice(2)).then(
    (code) => process.exit(code),
    (err: unknown) => {
      console.error(`pnpm mutate: ${err instanceof Error ? err.message : String(err)}`);
      process.exit(1);
    },
  );
}
