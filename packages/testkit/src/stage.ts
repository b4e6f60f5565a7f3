// A stage's milestones as vitest tests. Each milestone declared in the
// stage's package.json ("xps.milestones": id, title, points, hint) becomes a
// test named "M<n> <title>"; a failure is reported with the servers' logs, the
// hint to read, and the command that replays only that milestone.
//
// Grading adds two things through the environment: XPS_HIDDEN_MILESTONES (a
// JSON list of an instructor's hidden milestones, ids "x1", "x2", ..., which
// hidden test files use like declared ones) and XPS_MILESTONE_TIMEOUT_MS
// (one time limit for every milestone test, instead of each test's own).
//
// A milestone flagged "inProcess" calls the learner's modules directly: its
// tests run each check in a probe (probe.ts), a child process, and judge the
// probe's observations here, against the reference's recorded ones.
import path from "node:path";
import { findStageDir, readStageMeta, variantName, type StageMetaJson } from "@xps/course/overrides";
import { TodoError } from "@xps/utils";
import { Describer, PROBE_CHILD, judge, nonce, probeTarget, readChannel, readObservations, recordObservations, type ProbeChannel } from "./probe.ts";
import { MilestoneFailure, formatTranscript, type Transcript } from "./report.ts";
import { REGISTER, startLearnerProcess, startStageServer, type StageServer, type StartOptions } from "./server.ts";

// A probe child registers no test: it does without vitest (a second or more to load).
const vitest = probeTarget === null ? await import("vitest") : null;
const test = vitest?.test;

type Hook = () => unknown;
const probeHooks: { beforeEach: Hook[]; afterEach: Hook[]; afterAll: Hook[] } = { beforeEach: [], afterEach: [], afterAll: [] };

/** vitest's hook in the test runner; in a probe child, run around the one check it runs. Test files with in-process checks use these. */
export function beforeEach(fn: Hook): void {
  if (vitest) vitest.beforeEach(async () => void (await fn()));
  else probeHooks.beforeEach.push(fn);
}

export function afterEach(fn: Hook): void {
  if (vitest) vitest.afterEach(async () => void (await fn()));
  else probeHooks.afterEach.push(fn);
}

export function afterAll(fn: Hook): void {
  if (vitest) vitest.afterAll(async () => void (await fn()));
  else probeHooks.afterAll.push(fn);
}

export interface MilestoneMeta {
  id: string;
  title: string;
  points: number;
  hint?: string;
  /** An instructor's hidden milestone (from XPS_HIDDEN_MILESTONES): no hint, no replay command. */
  hidden?: boolean;
  /** Its tests call the learner's modules: they run in a probe. */
  inProcess?: boolean;
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
export function mistakeRuns(env: NodeJS.ProcessEnv = process.env): MistakeRun[] | null {
  return env.XPS_MISTAKES ? (JSON.parse(env.XPS_MISTAKES) as MistakeRun[]) : null;
}

/** One mistake of XPS_MISTAKES; with `check`, only the milestone's check of that name runs for it. */
export interface MistakeRun {
  id: string;
  milestone: string;
  dir: string;
  hint?: string;
  check?: string;
}

/**
 * Mistakes already caught in this test file (with the hint they must name,
 * when they have one): the later checks of the same milestone skip them. One
 * failure is all the catalogue and the mutation audit need, and an
 * in-process milestone has many checks, each a probe process of its own.
 */
const caughtMistakes = new Set<string>();

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
  /**
   * `got` must be `want` (the same value, the same object): fails otherwise.
   * In an in-process check it is also an observation, compared with the
   * reference's.
   */
  same(what: string, got: unknown, want: unknown, opts?: { hint?: string; show?: (v: unknown) => string }): void;
  /** `ok` must hold, or the check fails with `failure` (default: `what`). An observation too. */
  ensure(what: string, ok: boolean, failure?: Transcript | string): asserts ok;
}

/** A value in a failure message: objects are named, not printed (they often refer to each other). */
export function shownValue(v: unknown): string {
  if (v === null || v === undefined || typeof v !== "object") return JSON.stringify(v) ?? String(v);
  if (Buffer.isBuffer(v)) return `a Buffer of ${v.length} bytes`;
  return "an object";
}

function failure(t: Transcript | string): MilestoneFailure {
  return new MilestoneFailure(typeof t === "string" ? t : formatTranscript(t), typeof t === "string" ? undefined : t.hint);
}

/** The checks every context shares; `observe` records (in a probe) or does nothing. */
function assertions(observe: (what: string, value: unknown, want?: unknown) => void): Pick<MilestoneContext, "fail" | "same" | "ensure"> {
  return {
    fail: (t) => {
      throw failure(t);
    },
    same: (what, got, want, opts = {}) => {
      observe(what, got, want);
      const show = opts.show ?? shownValue;
      if (got !== want) throw new MilestoneFailure(`${what}: expected ${show(want)}, got ${show(got)}`, opts.hint);
    },
    ensure: (what, ok, fail) => {
      observe(what, ok ? "yes" : "no");
      if (!ok) throw failure(fail ?? what);
    },
  };
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
    if (probeTarget !== null) {
      // A probe child loading this file: keep the one check it runs.
      if (name === probeTarget.name) probeTarget.fn = fn;
      return;
    }
    const body = (learnerDir?: string) => (ctx: { task: { file: { filepath: string } } }) =>
      m.inProcess ? this.runInProbe(m, name, ctx.task.file.filepath, timeout, learnerDir) : this.run(m, fn, learnerDir);
    const batch = mistakeRuns();
    if (batch === null) {
      test!(name, body(), timeout);
      return;
    }
    for (const x of batch.filter((b) => b.milestone === m.id && (b.check === undefined || name.endsWith(`: ${b.check}`)))) {
      test!(
        `${name} [mistake ${x.id}]`,
        async (ctx: { task: { file: { filepath: string } }; skip: (note?: string) => void }) => {
          if (caughtMistakes.has(x.id)) return ctx.skip("caught by an earlier check of this milestone");
          try {
            await body(x.dir)(ctx);
          } catch (err) {
            // A catalogue entry must name its hint; for a mutant (no hint) any failure kills it.
            if (x.hint === undefined || String((err as Error)?.message ?? err).includes(hintCommand(this.name, x.hint))) caughtMistakes.add(x.id);
            throw err;
          }
        },
        timeout,
      );
    }
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
      ...assertions(() => {}),
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

  /** An in-process check: its probe's observations against the recorded ones. */
  private async runInProbe(m: MilestoneMeta, name: string, file: string, timeout: number, learnerDir?: string): Promise<void> {
    const key = nonce();
    const variant = variantName(process.env);
    const probe = startLearnerProcess(this.dir, {
      command: process.execPath,
      args: ["--import", "tsx", "--import", REGISTER, PROBE_CHILD],
      env: {
        XPS_VARIANT: variant,
        XPS_STAGE_DIR: this.dir,
        XPS_PROBE_FILE: file,
        XPS_PROBE_CHECK: name,
        NO_COLOR: "1",
        FORCE_COLOR: "0",
        ...(learnerDir === undefined ? {} : { XPS_LEARNER_DIR: learnerDir }),
      },
      stdin: true,
      channel: true,
      timeoutMs: Math.max(1000, timeout - 1000),
    });
    probe.process.stdin?.end(`${key}\n`);
    const exit = await probe.exited;
    const { observations, end } = readChannel(probe.channel(), key);
    if (process.env.XPS_OBSERVE === "record") {
      if (variant !== "solution") throw new Error("XPS_OBSERVE=record records the reference's observations: run it with XPS_VARIANT=solution");
      if (end?.status !== "passed") throw new Error(`the reference fails this check, so there is nothing to record: ${end?.message ?? "the probe did not finish"}`);
      if (observations.length === 0) throw new Error("this in-process check observes nothing (no t.same or t.ensure): its probe could claim to pass without doing anything");
      recordObservations(file, name, observations);
      return;
    }
    const expected = readObservations(file)[name];
    if (expected === undefined) {
      throw new Error(`no recorded observations for "${name}" in ${path.relative(this.dir, file)}: record them with XPS_OBSERVE=record XPS_VARIANT=solution pnpm test --filter ${this.name}`);
    }
    const verdict = judge(expected, observations, end);
    if (verdict.ok) return;
    const lines: string[] = [];
    if (m.hidden) lines.push(verdict.reason.replace(/: the reference gives .*$/, ": it differs from the reference"));
    else {
      lines.push(end?.status === "failed" && end.message ? end.message : verdict.reason);
      if (end === null) {
        const how = exit.timedOut ? `did not finish within ${Math.round(timeout / 1000)} s` : exit.signal ? `was killed by ${exit.signal}` : `exited with code ${exit.code}`;
        lines.push(`  the check's process ${how} before it was done`);
      }
      const tail = probe.output.lines().slice(-8);
      if (tail.length > 0) lines.push("  its output, last lines:", ...tail.map((l) => `    ${l}`));
    }
    const hint = !m.hidden && end?.hint && /^h\d+$/.test(end.hint) ? end.hint : undefined;
    throw this.decorate(m, new MilestoneFailure(lines.join("\n"), hint), [], end?.todo);
  }

  private decorate(m: MilestoneMeta, err: unknown, servers: StageServer[], todoIn?: string): MilestoneFailure {
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
    const todo = err instanceof TodoError ? `${err.stage} TODO ${err.todo}` : todoIn;
    if (todo !== undefined) {
      lines.splice(1, 0, `  this check called code of yours that is still a TODO (${todo})`);
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

/** In a probe child: run the check the test file registered, reporting each observation on the channel. */
export async function runProbe(channel: ProbeChannel): Promise<void> {
  if (probeTarget?.fn == null) {
    channel.end({ status: "failed", message: `the test file has no check named "${probeTarget?.name}"` });
    return;
  }
  const describer = new Describer();
  const undo: (() => unknown)[] = [];
  const ctx: MilestoneContext = {
    server: () => Promise.reject(new Error("an in-process check cannot start a server")),
    cleanup: (f) => {
      undo.push(f);
    },
    ...assertions((what, value, want) => {
      if (want !== null && typeof want === "object") describer.id(want);
      channel.observe([what, describer.describe(value)]);
    }),
  };
  const after = async (): Promise<void> => {
    for (const f of [...undo.reverse(), ...probeHooks.afterEach, ...probeHooks.afterAll]) {
      try {
        await f();
      } catch {
        // the check's own result matters
      }
    }
  };
  try {
    for (const f of probeHooks.beforeEach) await f();
    await (probeTarget.fn as (t: MilestoneContext) => Promise<void> | void)(ctx);
    await after();
    channel.end({ status: "passed", message: "" });
  } catch (err) {
    await after();
    const todo = err instanceof TodoError ? `${err.stage} TODO ${err.todo}` : undefined;
    const hint = err instanceof MilestoneFailure ? err.hint : undefined;
    channel.end({ status: "failed", message: err instanceof Error ? err.message : String(err), todo, hint });
  }
}
