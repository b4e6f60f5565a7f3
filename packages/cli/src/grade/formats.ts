// The grade in five shapes: a terminal table, json (one record per
// submission/stage/milestone), Gradescope's results.json, JUnit XML, and CSV
// (one row per submission).
import pc from "picocolors";
import { table } from "../table.ts";
import type { SubmissionGrade } from "./grade.ts";

export interface GradeRecord {
  submission: string;
  stage: string;
  milestone: string;
  name: string;
  points: number;
  max_points: number;
  status: "passed" | "failed";
  message: string;
  hidden: boolean;
  /** Why this stage's run looks wrong ("" when it does not). */
  suspicious: string;
  /** The isolation its learner code ran in. */
  isolation: string;
}

export function toRecords(grades: SubmissionGrade[]): GradeRecord[] {
  return grades.flatMap((g) =>
    g.stages.flatMap((s) =>
      s.milestones.map((m) => ({
        submission: g.submission,
        stage: s.stage,
        milestone: m.id,
        name: m.name,
        points: m.points,
        max_points: m.maxPoints,
        status: m.status,
        message: m.message,
        hidden: m.hidden,
        suspicious: s.suspicious.join("; "),
        isolation: s.isolation,
      })),
    ),
  );
}

export function toJson(grades: SubmissionGrade[]): string {
  return `${JSON.stringify(toRecords(grades), null, 2)}\n`;
}

export type GradescopeVisibility = "visible" | "hidden" | "after_due_date" | "after_published";
export const GRADESCOPE_VISIBILITIES: GradescopeVisibility[] = ["visible", "hidden", "after_due_date", "after_published"];

export interface GradescopeTest {
  name: string;
  number: string;
  score: number;
  max_score: number;
  status: "passed" | "failed";
  output: string;
  visibility: GradescopeVisibility;
}

export interface GradescopeResults {
  score: number;
  execution_time: number;
  output: string;
  visibility: "visible";
  stdout_visibility: "hidden";
  tests: GradescopeTest[];
}

/**
 * Gradescope's autograder results (one submission):
 * https://gradescope-autograders.readthedocs.io/en/latest/specs/ . Hidden
 * milestones get `hiddenVisibility` (default after_published: shown once the
 * grades are published).
 */
export function toGradescope(g: SubmissionGrade, hiddenVisibility: GradescopeVisibility = "after_published"): GradescopeResults {
  const tests: GradescopeTest[] = g.stages.flatMap((s) =>
    s.milestones.map((m, i) => ({
      name: `${s.stage} ${m.name}${m.hidden ? " (hidden test)" : ""}`,
      number: `${s.stage.replace(/^stage-/, "")}.${i + 1}`,
      score: m.points,
      max_score: m.maxPoints,
      status: m.status,
      output: m.message,
      visibility: m.hidden ? hiddenVisibility : "visible",
    })),
  );
  const problems = g.stages.flatMap((s) => [...s.problems.map((p) => `${s.stage}: ${p}`), ...s.suspicious.map((p) => `${s.stage}: suspicious: ${p}`)]);
  const isolation = [...new Set(g.stages.map((s) => s.isolation).filter(Boolean))];
  return {
    score: g.score,
    execution_time: Math.round(g.stages.reduce((a, s) => a + s.durationMs, 0) / 1000),
    output: [`${g.score} of ${g.max} points`, ...g.stages.map((s) => `${s.stage} ${s.title}: ${s.score}/${s.max}`), ...problems, ...isolation.map((i) => `sandbox: ${i}`)].join("\n"),
    visibility: "visible",
    stdout_visibility: "hidden",
    tests,
  };
}

export function xmlEscape(s: string): string {
  return s
    .replace(/[\x00-\x08\x0b\x0c\x0e-\x1f\ufffe\uffff]/g, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`)
    .replace(/&/g, "&amp;")
    .replace(/</g, "&lt;")
    .replace(/>/g, "&gt;")
    .replace(/"/g, "&quot;")
    .replace(/'/g, "&apos;");
}

/** JUnit XML: one testsuite per submission and stage, one testcase per milestone. */
export function toJunit(grades: SubmissionGrade[]): string {
  const all = grades.flatMap((g) => g.stages.flatMap((s) => s.milestones));
  const lines = [
    '<?xml version="1.0" encoding="UTF-8"?>',
    `<testsuites name="xps grade" tests="${all.length}" failures="${all.filter((m) => m.status === "failed").length}" time="${(grades.reduce((a, g) => a + g.stages.reduce((b, s) => b + s.durationMs, 0), 0) / 1000).toFixed(3)}">`,
  ];
  for (const g of grades) {
    for (const s of g.stages) {
      const failures = s.milestones.filter((m) => m.status === "failed").length;
      lines.push(
        `  <testsuite name="${xmlEscape(`${g.submission} ${s.stage}`)}" tests="${s.milestones.length}" failures="${failures}" errors="0" skipped="0" time="${(s.durationMs / 1000).toFixed(3)}">`,
      );
      lines.push("    <properties>");
      lines.push(`      <property name="score" value="${s.score}"/>`);
      lines.push(`      <property name="max_score" value="${s.max}"/>`);
      for (const p of s.problems) lines.push(`      <property name="problem" value="${xmlEscape(p)}"/>`);
      for (const p of s.suspicious) lines.push(`      <property name="suspicious" value="${xmlEscape(p)}"/>`);
      if (s.isolation) lines.push(`      <property name="isolation" value="${xmlEscape(s.isolation)}"/>`);
      lines.push("    </properties>");
      for (const m of s.milestones) {
        const attrs = `classname="${xmlEscape(`${g.submission}.${s.stage}`)}" name="${xmlEscape(`${m.name} (${m.maxPoints} points${m.hidden ? ", hidden" : ""})`)}" time="${(m.durationMs / 1000).toFixed(3)}"`;
        if (m.status === "passed") lines.push(`    <testcase ${attrs}/>`);
        else {
          const first = m.message.split("\n").find((l) => l.trim() !== "")?.trim() ?? "failed";
          lines.push(`    <testcase ${attrs}>`);
          lines.push(`      <failure message="${xmlEscape(first)}" type="milestone">${xmlEscape(m.message)}</failure>`);
          lines.push("    </testcase>");
        }
      }
      lines.push("  </testsuite>");
    }
  }
  lines.push("</testsuites>");
  return `${lines.join("\n")}\n`;
}

export function csvCell(v: string | number): string {
  const s = String(v);
  return /[",\n\r]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

/** CSV: a header, then one row per submission: its score per stage, its total, the maximum, and problems. */
export function toCsv(grades: SubmissionGrade[], stageNames: string[]): string {
  const header = ["submission", ...stageNames, "total", "max", "problems", "suspicious"];
  const rows = grades.map((g) => [
    g.submission,
    ...stageNames.map((n) => g.stages.find((s) => s.stage === n)?.score ?? ""),
    g.score,
    g.max,
    g.stages.flatMap((s) => s.problems.map((p) => `${s.stage}: ${p}`)).join("; "),
    g.stages.flatMap((s) => s.suspicious.map((p) => `${s.stage}: ${p}`)).join("; "),
  ]);
  return `${[header, ...rows].map((r) => r.map(csvCell).join(",")).join("\n")}\n`;
}

export function toTable(grades: SubmissionGrade[], stageNames: string[]): string {
  const maxOf = (n: string): number => grades.find((g) => g.stages.some((s) => s.stage === n))?.stages.find((s) => s.stage === n)?.max ?? 0;
  const header = ["submission", ...stageNames.map((n) => `${n} (/${maxOf(n)})`), "total"];
  const rows = grades.map((g) => [
    g.submission,
    ...stageNames.map((n) => {
      const s = g.stages.find((x) => x.stage === n);
      if (!s) return "";
      const t = String(s.score);
      return s.score === s.max ? pc.green(t) : s.score === 0 ? pc.red(t) : t;
    }),
    `${g.score}/${g.max}`,
  ]);
  const lines = [table(header, rows)];
  const problems = grades.flatMap((g) => g.stages.flatMap((s) => s.problems.map((p) => `  ${g.submission} ${s.stage}: ${p}`)));
  if (problems.length > 0) lines.push("", "problems:", ...problems);
  const suspicious = grades.flatMap((g) => g.stages.flatMap((s) => s.suspicious.map((p) => `  ${g.submission} ${s.stage}: ${p}`)));
  if (suspicious.length > 0) lines.push("", "suspicious (worth a look):", ...suspicious);
  const isolation = [...new Set(grades.flatMap((g) => g.stages.map((s) => s.isolation)).filter(Boolean))];
  if (isolation.length > 0) lines.push("", `sandbox: ${isolation.join("; ")}`);
  return lines.join("\n");
}
