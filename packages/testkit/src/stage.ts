// A stage's milestones as vitest tests. Each milestone declared in the
// stage's package.json ("xps.milestones": id, title, points, hint) becomes a
// test named "M<n> <title>"; a failure is reported with the servers' logs, the
// hint to read, and the command that replays only that milestone.
//
// Grading adds two things through the environment: XPS_HIDDEN_MILESTONES (a
// JSON list of an instructor's hidden milestones, ids "x1", "x2", ..., which
// hidden test files use like declared ones) and XPS_MILESTONE_TIMEOUT_MS
// (one time limit for every milestone test, instead of each test's own).
import path from "node:path";
import { test } from "vitest";
import { findStageDir, readStageMeta, variantName, type StageMetaJson } from "@xps/course/overrides";
import { TodoError } from "@xps/utils";
import { MilestoneFailure, formatTranscript, type Transcript } from "./report.ts";
import { startStageServer, type StageServer, type StartOptions } from "./server.ts";

export interface MilestoneMeta {
  id: string;
  title: string;
  points: number;
  hint?: string;
  /** An instructor's hidden milestone (from XPS_HIDDEN_MILESTONES): no hint, no replay command. */
  hidden?: boolean;
}

/** The hidden milestones grading declares in XPS_HIDDEN_MILESTONES (a JSON list), if any. */
export function hiddenMilestones(env: NodeJS.ProcessEnv = process.env): MilestoneMeta[] {
  if (!env.XPS_HIDDEN_MILESTONES) return [];
  const list = JSON.parse(env.XPS_HIDDEN_MILESTONES) as MilestoneMeta[];
  return list.map((m) => ({ ...m, hidden: true }));
}

/**
 * verify's one-run check of a mistakes catalogue: XPS_MISTAKES is a JSON
 * list of { id, milestone, dir } (the mistake's learner files). Null
 * otherwise.
 */
export function mistakeRuns(env: NodeJS.ProcessEnv = process.env): { id: string; milestone: string; dir: string }[] | null {
  return env.XPS_MISTAKES ? (JSON.parse(env.XPS_MISTAKES) as { id: string; milestone: string; dir: string }[]) : null;
}

/** A test's time limit: XPS_MILESTONE_TIMEOUT_MS when grading sets it, else the test's own. */
export function timeLimit(own: number, env: NodeJS.ProcessEnv = process.env): number {
  const cap = Number(env.XPS_MILESTONE_TIMEOUT_MS);
  return Number.isFinite(cap) && cap > 0 ? cap : own;
}

/** The command that shows a hint, one level at a time. */
export function hintCommand(stage: string, hint: string): string {
  return `pnpm xps hint ${stage} ${hint}`;
}

export interface MilestoneContext {
  /** Start the stage's server on free ports; it is stopped after the test. */
  server(opts?: Omit<StartOptions, "stageDir">): Promise<StageServer>;
  /** Register something to undo after the test (an upstream, a temp dir). */
  cleanup(fn: () => unknown): void;
  /** Fail with a transcript (or a plain message). */
  fail(t: Transcript | string): never;
}

/** The test-name prefix of a milestone: "m3" -> "M3". */
export function testPrefix(id: string): string {
  return id.toUpperCase();
}

export function replayCommand(stage: string, id: string): string {
  const env = variantName(process.env) === "solution" ? "XPS_VARIANT=solution " : "";
  return `${env}pnpm test --filter ${stage} -- -t "^${testPrefix(id)} "`;
}

export class Stage {
  readonly meta: StageMetaJson;
  readonly dir: string;

  constructor(dir: string) {
    this.dir = dir;
    this.meta = readStageMeta(dir);
  }

  get name(): string {
    return this.meta.name;
  }

  milestoneMeta(id: string): MilestoneMeta {
    const m = this.meta.milestones?.find((x) => x.id === id) ?? hiddenMilestones().find((x) => x.id === id);
    if (m === undefined) {
      throw new Error(
        /^x\d+$/.test(id)
          ? `${this.name}: hidden milestone "${id}" is not declared in the hidden tests' hidden.json`
          : `${this.name}: milestone "${id}" is not declared in package.json xps.milestones`,
      );
    }
    return m;
  }

  /** One test for the whole milestone. */
  milestone(id: string, fn: (t: MilestoneContext) => Promise<void>, opts: { timeout?: number } = {}): void {
    const m = this.milestoneMeta(id);
    this.register(m, `${testPrefix(id)} ${m.title}`, fn, timeLimit(opts.timeout ?? 60_000));
  }

  /** One of several tests that together make a milestone ("M7 <title>: <name>"). */
  check(id: string, name: string, fn: (t: MilestoneContext) => Promise<void> | void, opts: { timeout?: number } = {}): void {
    const m = this.milestoneMeta(id);
    this.register(m, `${testPrefix(id)} ${m.title}: ${name}`, fn, timeLimit(opts.timeout ?? 30_000));
  }

  /**
   * The test, or, when verify checks the mistakes catalogue in one run
   * (XPS_MISTAKES), one test per mistake of this milestone, each running the
   * stage's server on that mistake's files.
   */
  private register(m: MilestoneMeta, name: string, fn: (t: MilestoneContext) => Promise<void> | void, timeout: number): void {
    const batch = mistakeRuns();
    if (batch === null) {
      test(name, () => this.run(m, fn), timeout);
      return;
    }
    for (const x of batch.filter((b) => b.milestone === m.id)) test(`${name} [mistake ${x.id}]`, () => this.run(m, fn, x.dir), timeout);
  }

  private async run(m: MilestoneMeta, fn: (t: MilestoneContext) => Promise<void> | void, learnerDir?: string): Promise<void> {
    const servers: StageServer[] = [];
    const undo: (() => unknown)[] = [];
    const ctx: MilestoneContext = {
      server: async (opts = {}) => {
        const env = learnerDir === undefined ? opts.env : { ...opts.env, XPS_LEARNER_DIR: learnerDir };
        const s = await startStageServer({ ...opts, env, stageDir: this.dir });
        servers.push(s);
        return s;
      },
      cleanup: (f) => {
        undo.push(f);
      },
      fail: (t) => {
        throw new MilestoneFailure(typeof t === "string" ? t : formatTranscript(t), typeof t === "string" ? undefined : t.hint);
      },
    };
    try {
      await fn(ctx);
    } catch (err) {
      // The client may see its connection close before the server's own log
      // line about why has reached us: give the logs a moment to arrive.
      if (servers.some((s) => s.alive())) await new Promise((r) => setTimeout(r, 150));
      throw this.decorate(m, err, servers);
    } finally {
      for (const f of undo.reverse()) {
        try {
          await f();
        } catch {
          // cleanup must not hide the test's own result
        }
      }
      await Promise.all(servers.map((s) => s.stop()));
    }
  }

  private decorate(m: MilestoneMeta, err: unknown, servers: StageServer[]): MilestoneFailure {
    const base = err instanceof Error ? err.message : String(err);
    const lines = [base, ""];
    for (const s of servers) {
      const state = s.alive() ? "" : `, which is no longer running (exit ${s.exitCode ?? s.exitSignal})`;
      const tail = s.logTail(8);
      lines.push(`  server log (${s.variant} variant${state}), last lines:`);
      lines.push(...(tail.length ? tail.map((l) => `    ${l}`) : ["    (empty)"]));
    }
    const hint = err instanceof MilestoneFailure && err.hint ? err.hint : m.hint;
    if (hint && !m.hidden) {
      const file = path.relative(process.cwd(), path.join(this.dir, "hints.md")) || "hints.md";
      lines.push(`  hint:   ${hintCommand(this.name, hint)}   (${file}, section "${hint}")`);
    }
    if (!m.hidden) lines.push(`  replay: ${replayCommand(this.name, m.id)}`);
    if (err instanceof TodoError) {
      lines.splice(1, 0, `  this check called code of yours that is still a TODO (${err.stage} TODO ${err.todo})`);
    } else if (!(err instanceof MilestoneFailure) && err instanceof Error && err.stack) {
      const frame = err.stack.split("\n").find((l) => l.trim().startsWith("at "))?.trim().replace(/^at /, "");
      lines.push(`  (raised in ${frame ?? "?"})`);
    }
    return new MilestoneFailure(lines.join("\n"), hint);
  }
}

/**
 * `const stage = defineStage(import.meta.dirname + "/..")` in a stage's test
 * file. Any folder inside the stage works (the nearest stage package above it
 * is used), so a hidden test copied into the stage's .xps/ can pass its own
 * `import.meta.dirname`.
 */
export function defineStage(dir: string): Stage {
  return new Stage(findStageDir(path.resolve(dir)) ?? path.resolve(dir));
}
