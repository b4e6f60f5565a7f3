// From a run's tests to milestones: a milestone passes when every one of its
// tests ran and passed ("M7 <title>: <check>" tests share milestone m7).
import type { TestRecord } from "@xps/testkit/results";
import type { StageMeta } from "./context.ts";
import type { StageRun } from "./runner.ts";

export interface MilestoneDecl {
  id: string;
  title: string;
  points: number;
  hint?: string;
  hidden?: boolean;
}

export interface MilestoneOutcome extends MilestoneDecl {
  hidden: boolean;
  status: "passed" | "failed" | "not run";
  tests: TestRecord[];
  /** One line: why it failed (empty when it passed). */
  reason: string;
  /** The failure's full text, cleaned for a terminal or a report. */
  message: string;
  earned: number;
}

const ANSI = /\x1b\[[0-9;?]*[A-Za-z]/g;
const MAX_LINE = 400;
const MAX_LINES = 60;

/** Control characters other than newlines made visible, long lines cut with a count, ANSI colours removed. */
export function cleanMessage(text: string, opts: { hiddenPaths?: string[] } = {}): string {
  let t = text.replace(ANSI, "").replace(/\r\n/g, "\n");
  for (const p of opts.hiddenPaths ?? []) t = t.split(p).join("<hidden test>");
  let lines = t.split("\n").map((l) =>
    l
      .replace(/\r/g, "\\r")
      .replace(/\t/g, "    ")
      .replace(/[\x00-\x08\x0b-\x1f\x7f]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`),
  );
  if (opts.hiddenPaths) {
    // A hidden test's message may name what it checked, never show its code.
    lines = lines.filter((l) => !/^\s*(?:>\s*)?\d+\s*\|/.test(l) && !/^\s*at\s/.test(l) && !/^\s*❯\s/.test(l) && !/^\s*\|\s*\^/.test(l) && !/\(raised in /.test(l));
  }
  lines = collapseStacks(lines);
  lines = lines.map((l) => (l.length > MAX_LINE ? `${l.slice(0, MAX_LINE)}… (+${(l.length - MAX_LINE).toLocaleString("en-US")} more characters)` : l));
  if (lines.length > MAX_LINES) lines = [...lines.slice(0, MAX_LINES), `… (+${lines.length - MAX_LINES} more lines)`];
  while (lines.length > 0 && lines.at(-1)!.trim() === "") lines.pop();
  return lines.join("\n");
}

/** Long runs of stack frames ("    at f (file:1:2)") keep their first two lines and a count. */
function collapseStacks(lines: string[]): string[] {
  const out: string[] = [];
  let run = 0;
  for (const l of lines) {
    if (/^\s*at\s/.test(l)) {
      run++;
      if (run <= 2) out.push(l);
      else if (run === 3) out.push(`${l.match(/^\s*/)![0]}… (more stack lines)`);
    } else {
      run = 0;
      out.push(l);
    }
  }
  return out;
}

/** vitest's own timeout message, in the course's words. */
function explainTimeout(message: string): string {
  const m = /Test timed out in (\d+)ms/.exec(message);
  if (!m) return message;
  const s = Number(m[1]) / 1000;
  return `the test did not finish within its time limit of ${s} s: something waited forever (a reply that never came, a connection that never closed, or a loop that never ended)`;
}

export function firstLine(text: string): string {
  return text.split("\n").find((l) => l.trim() !== "")?.trim() ?? "";
}

/** A stage's declared milestones, then the hidden ones. */
export function declaredMilestones(stage: StageMeta, hidden: MilestoneDecl[] = []): MilestoneDecl[] {
  return [...(stage.milestones ?? []).map((m) => ({ ...m, hidden: false })), ...hidden.map((m) => ({ ...m, hidden: true }))];
}

export function milestoneOutcomes(
  run: StageRun,
  declared: MilestoneDecl[],
  opts: { selected?: string[]; runTimeoutMs?: number; hiddenPaths?: string[] } = {},
): MilestoneOutcome[] {
  const stoppedAfter = opts.runTimeoutMs ? `${Math.round(opts.runTimeoutMs / 1000)} s` : "its time limit";
  return declared.map((m) => {
    const tests = run.tests.filter((t) => t.milestone === m.id);
    const base = { ...m, hidden: m.hidden ?? false, tests, earned: 0 };
    // A hidden milestone, or a test from a hidden file: no code, no paths.
    const secret = (file?: string): boolean => m.hidden === true || (file !== undefined && (opts.hiddenPaths ?? []).some((p) => file.startsWith(p)));
    // A hidden test's message keeps only its first line (what the test says
    // went wrong): the rest (a server's log, the bytes it sent) is the
    // learner's code talking, and could carry the hidden test's own source.
    const clean = (text: string, file?: string): string => {
      const t = cleanMessage(explainTimeout(text), secret(file) ? { hiddenPaths: opts.hiddenPaths ?? [] } : {});
      return secret(file) ? firstLine(t).slice(0, 300) : t;
    };
    if (opts.selected && !opts.selected.includes(m.id)) return { ...base, status: "not run", reason: "not selected", message: "" };
    const failed = tests.filter((t) => t.status === "failed");
    if (failed.length > 0) {
      const messages = failed.map((t) => {
        const check = failed.length > 1 || tests.length > 1 ? `${t.name}\n` : "";
        return check + clean(t.message || "failed", t.file);
      });
      return { ...base, status: "failed", reason: firstLine(clean(failed[0]!.message || "failed", failed[0]!.file)), message: messages.join("\n\n") };
    }
    const hung = tests.filter((t) => run.running.includes(t.name));
    if (hung.length > 0 && run.timedOut) {
      const reason = `the run was stopped after ${stoppedAfter} while "${hung[0]!.name}" was still running; it scores 0`;
      return { ...base, status: "failed", reason, message: reason };
    }
    const pending = tests.filter((t) => t.status === "pending");
    if (pending.length > 0) {
      const inOpenFile = pending.find((t) => run.runningFiles.includes(t.file));
      const where = inOpenFile ? inOpenFile.file.split("/").slice(-2).join("/") : "";
      const reason = !run.timedOut
        ? "did not finish: the run ended before it did; it scores 0"
        : inOpenFile
          ? `did not finish: the run was stopped after ${stoppedAfter} while ${secret(inOpenFile.file) ? "a hidden test file" : where} was running; it scores 0`
          : `did not run: the run was stopped after ${stoppedAfter}; it scores 0`;
      return { ...base, status: "failed", reason, message: reason };
    }
    const ran = tests.filter((t) => t.status === "passed");
    if (ran.length === 0) {
      if (tests.length > 0 && tests.every((t) => t.status === "skipped")) {
        if (opts.selected) return { ...base, status: "not run", reason: "skipped", message: "" };
        return { ...base, status: "failed", reason: "every test of it was skipped", message: "every test of it was skipped" };
      }
      const why = run.fileErrors[0]
        ? `no test of it ran: a test file did not load: ${firstLine(clean(run.fileErrors[0].message, run.fileErrors[0].file))}`
        : run.timedOut
          ? `no test of it ran: the run was stopped after ${stoppedAfter}`
          : !run.finished
            ? `no test of it ran: vitest did not run: ${firstLine(cleanMessage(run.error ?? run.output)) || "no output"}`
            : "no test of it ran";
      const detail = run.fileErrors[0] ? `${why}\n${clean(run.fileErrors[0].message, run.fileErrors[0].file)}` : why;
      return { ...base, status: "failed", reason: why, message: secret(run.fileErrors[0]?.file) ? why : detail };
    }
    return { ...base, status: "passed", reason: "", message: "", earned: m.points };
  });
}

export function summarise(outcomes: MilestoneOutcome[]): { passed: number; total: number; earned: number; max: number } {
  const counted = outcomes.filter((o) => o.status !== "not run");
  return {
    passed: counted.filter((o) => o.status === "passed").length,
    total: counted.length,
    earned: counted.reduce((a, o) => a + o.earned, 0),
    max: counted.reduce((a, o) => a + o.points, 0),
  };
}
