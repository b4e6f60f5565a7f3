// Terminal output: milestones one by one, and for a failure its transcript
// (the testkit's MilestoneFailure text: what was sent, what came back with
// control bytes visible and long data cut with a count, where the first
// difference is, the server's log, the hint and the replay command).
import pc from "picocolors";
import { describeDifference } from "@xps/testkit/report";
import type { RunEvent } from "@xps/testkit/runner";
import type { StageMeta } from "./context.ts";
import { cleanMessage, firstLine, type MilestoneOutcome } from "./milestones.ts";
import type { Variant } from "./runner.ts";

export function indent(text: string, by: string): string {
  return text
    .split("\n")
    .map((l) => (l === "" ? "" : by + l))
    .join("\n");
}

/** The xps command that replays one milestone. */
export function xpsReplay(stage: StageMeta, id: string, variant: Variant): string {
  return `pnpm xps test ${stage.name} -m ${id}${variant === "solution" ? " --solution" : ""}`;
}

/** A failed test's text, with what the testkit adds when the failure did not come through it. */
export function failureText(stage: StageMeta, o: MilestoneOutcome, test: MilestoneOutcome["tests"][number] | null, variant: Variant): string {
  let text = test ? cleanMessage(test.message || "failed") : o.message;
  if (/Test timed out in \d+ms/.test(text)) text = o.reason;
  if (test && test.expected !== undefined && test.actual !== undefined && !/first difference/.test(text)) {
    text += `\n  ${describeDifference(Buffer.from(test.expected), Buffer.from(test.actual))}`;
  }
  if (!o.hidden) {
    if (o.hint && !/^\s*hint:/m.test(text)) text += `\n  hint:   pnpm xps hint ${stage.name} ${o.hint}`;
    if (!/^\s*replay:/m.test(text)) text += `\n  replay: ${xpsReplay(stage, o.id, variant)}`;
  }
  return text;
}

const mark = { passed: pc.green("✓"), failed: pc.red("✗"), "not run": pc.dim("-") } as const;

/** One milestone: its line, then (when it failed) its checks and the first failure's transcript. */
export function showMilestone(stage: StageMeta, o: MilestoneOutcome, variant: Variant, opts: { width?: number } = {}): string {
  const label = `${o.id.toUpperCase()} ${o.title}`;
  const pts = o.status === "not run" ? pc.dim(`${o.points} points`) : `${o.earned}/${o.points} points`;
  const head = `  ${mark[o.status]} ${o.status === "failed" ? pc.bold(label) : label}${" ".repeat(Math.max(1, (opts.width ?? 72) - label.length))}${pts}`;
  if (o.status !== "failed") return head;
  const lines = [head];
  const failed = o.tests.filter((t) => t.status === "failed");
  if (o.tests.length > 1) {
    const prefix = `${o.id.toUpperCase()} ${o.title}: `;
    for (const t of o.tests) {
      const name = t.name.startsWith(prefix) ? t.name.slice(prefix.length) : t.name;
      const m = t.status === "passed" ? pc.green("✓") : t.status === "failed" ? pc.red("✗") : pc.dim("-");
      const why = t.status !== "failed" ? "" : t === failed[0] ? pc.dim("  (below)") : pc.dim(`  ${firstLine(cleanMessage(t.message))}`);
      lines.push(`      ${m} ${name}${why}`);
    }
  }
  const text = failureText(stage, o, failed[0] ?? null, variant);
  lines.push(indent(text, "      "));
  return lines.join("\n");
}

export function summaryLine(s: { passed: number; total: number; earned: number; max: number }): string {
  const text = `${s.passed} of ${s.total} milestones pass (${s.earned} of ${s.max} points)`;
  return s.passed === s.total && s.total > 0 ? pc.green(text) : text;
}

/** A one-line progress display on a terminal (nothing when not a terminal). */
export class Progress {
  private total = 0;
  private done = 0;
  private current = "";
  private readonly tty: boolean;
  private readonly out: NodeJS.WriteStream;

  constructor(out: NodeJS.WriteStream = process.stderr) {
    this.out = out;
    this.tty = Boolean(out.isTTY) && !process.env.CI;
  }

  event(e: RunEvent): void {
    if (e.type === "collected") this.total += e.tests.length;
    else if (e.type === "test-start") this.current = e.name;
    else if (e.type === "test-end") this.done++;
    this.draw();
  }

  private draw(): void {
    if (!this.tty) return;
    const width = (this.out.columns ?? 80) - 1;
    const text = `  ${pc.dim(`running ${this.done}/${this.total}`)} ${this.current}`;
    this.out.write(`\r\x1b[2K${text.slice(0, width + 20)}`);
  }

  clear(): void {
    if (this.tty) this.out.write("\r\x1b[2K");
  }
}
