// The printed table, the verdicts, and the SVG chart.
import type { Spread } from "./stats.ts";
import { TARGET_LABELS, peerOf, type TargetId } from "./targets.ts";
import { REFERENCE, pct, type BenchResults, type Row, type Verdict } from "./results.ts";

function num(v: number): string {
  const a = Math.abs(v);
  if (a >= 10_000) return Math.round(v).toLocaleString("en-US");
  if (a >= 100) return v.toFixed(0);
  if (a >= 10) return v.toFixed(1);
  return v.toFixed(2);
}

function med(s: Spread | null): string {
  return s ? num(s.median) : "-";
}

function range(s: Spread | null): string {
  return s ? (s.n > 1 ? `${num(s.min)}-${num(s.max)}` : "(1 run)") : "-";
}

function ratio(s: Spread | null): string {
  return s ? `${s.median.toFixed(2)}x` : "-";
}

function table(header: string[], body: string[][], rightAlign: boolean[]): string {
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((r) => (r[i] ?? "").length)));
  const fmt = (cells: string[]): string =>
    cells.map((c, i) => (rightAlign[i] ? c.padStart(widths[i]!) : c.padEnd(widths[i]!))).join("  ").trimEnd();
  return [fmt(header), widths.map((w) => "-".repeat(w)).join("  "), ...body.map(fmt)].join("\n");
}

/** Failed requests of a row, "0" or "12 (0.31%)"; its socket errors apart. */
function errorCells(r: Row): [string, string] {
  if (r.errors === null) return ["-", "-"];
  const { failed, total, resets } = r.errors;
  return [failed === 0 ? "0" : `${failed.toLocaleString("en-US")} (${pct(failed / Math.max(1, total))})`, resets.toLocaleString("en-US")];
}

export function formatTable(rows: Row[]): string {
  const header = ["workload", "target", "unit", "median", "min-max", "x direct", "x naive", "proxy CPU", "p50 ms", "p99 ms", "errors", "resets"];
  const body = rows.map((r) => [
    r.workload,
    TARGET_LABELS[r.target],
    r.unit,
    r.note?.startsWith("failed: ") ? "failed" : med(r.value),
    range(r.value),
    ratio(r.toDirect),
    r.target === peerOf(r.target) && r.toNaive ? "1.00x" : ratio(r.toNaive),
    r.cpu ? `${num(r.cpu.median)} ${r.cpuUnit}` : "-",
    med(r.p50),
    med(r.p99),
    ...errorCells(r),
  ]);
  const out = [table(header, body, [false, false, false, true, true, true, true, true, true, true, true, true])];
  const notes = rows.filter((r) => r.note);
  if (notes.length > 0) {
    out.push("");
    for (const r of notes) out.push(`  ${r.workload}, ${TARGET_LABELS[r.target]}: ${r.note}`);
  }
  return out.join("\n");
}

export function verdictWord(v: Verdict): string {
  if (v.info) return "reported";
  if (v.pass === null) return "n/a";
  const word = v.stretch ? (v.pass ? "PASS (stretch)" : "not yet (stretch)") : v.pass ? "PASS" : "FAIL";
  return v.provisional ? `${word}, provisional` : word;
}

export function formatVerdicts(verdicts: Verdict[]): string {
  const body = verdicts.map((v) => [v.text, v.measured, v.limit, verdictWord(v)]);
  const out = table(["target", "measured (median, min-max, repetitions)", "limit", "verdict"], body, [false, false, false, false]);
  return verdicts.some((v) => v.provisional)
    ? `${out}\nprovisional: judged on fewer than 7 repetitions (--quick or --reps); judge on a full run.`
    : out;
}

// ---------------------------------------------------------------- SVG

const COLOURS: Record<TargetId, string> = {
  direct: "#9e9e9e",
  xps: "#1565c0",
  learner: "#6a1b9a",
  naive: "#ef6c00",
  nginx: "#2e7d32",
  xps15: "#1565c0",
  learner15: "#6a1b9a",
  nodehttp: "#ef6c00",
  nginxhttp: "#2e7d32",
};

function esc(s: string): string {
  return s.replace(/&/g, "&amp;").replace(/</g, "&lt;").replace(/>/g, "&gt;");
}

interface Bar {
  target: TargetId;
  value: number;
  min: number;
  max: number;
  label: string;
}

interface Group {
  title: string;
  bars: Bar[];
  /** Horizontal lines: limits or reference ratios. */
  marks: { value: number; label: string; colour: string }[];
}

/** 1, 2 or 5 times a power of ten, at least `raw`. */
function niceStep(raw: number): number {
  const p = 10 ** Math.floor(Math.log10(raw));
  for (const m of [1, 2, 5, 10]) if (m * p >= raw) return m * p;
  return 10 * p;
}

function panel(x0: number, y0: number, w: number, h: number, title: string, yLabel: string, groups: Group[]): string {
  const parts: string[] = [];
  const top = y0 + 34;
  const bottom = y0 + h - 46;
  const left = x0 + 56;
  const right = x0 + w - 10;
  const all = groups.flatMap((g) => [...g.bars.map((b) => b.max), ...g.marks.map((m) => m.value)]);
  const step = niceStep(Math.max(1e-9, ...all) / 4);
  const ymax = Math.max(1e-9, ...all) * 1.12;
  const y = (v: number): number => bottom - ((bottom - top) * v) / ymax;
  parts.push(`<text x="${x0 + 8}" y="${y0 + 20}" font-size="15" font-weight="bold">${esc(title)}</text>`);
  parts.push(`<text x="${x0 + 14}" y="${(top + bottom) / 2}" font-size="11" transform="rotate(-90 ${x0 + 14} ${(top + bottom) / 2})" text-anchor="middle">${esc(yLabel)}</text>`);
  for (let v = 0; v <= ymax; v += step) {
    parts.push(`<line x1="${left}" x2="${right}" y1="${y(v).toFixed(1)}" y2="${y(v).toFixed(1)}" stroke="#e0e0e0"/>`);
    parts.push(`<text x="${left - 4}" y="${(y(v) + 4).toFixed(1)}" font-size="10" text-anchor="end">${esc(num(v))}</text>`);
  }
  parts.push(`<line x1="${left}" x2="${right}" y1="${bottom}" y2="${bottom}" stroke="#555"/>`);
  const gw = (right - left) / Math.max(1, groups.length);
  groups.forEach((g, gi) => {
    const gx = left + gi * gw;
    const bw = Math.min(34, (gw - 20) / Math.max(1, g.bars.length));
    const start = gx + (gw - bw * g.bars.length) / 2;
    g.bars.forEach((b, bi) => {
      const bx = start + bi * bw;
      parts.push(`<rect x="${(bx + 2).toFixed(1)}" y="${y(b.value).toFixed(1)}" width="${(bw - 4).toFixed(1)}" height="${(bottom - y(b.value)).toFixed(1)}" fill="${COLOURS[b.target]}"><title>${esc(`${TARGET_LABELS[b.target]}: ${b.label}`)}</title></rect>`);
      if (b.max > b.min) {
        const cx = bx + bw / 2;
        parts.push(`<line x1="${cx.toFixed(1)}" x2="${cx.toFixed(1)}" y1="${y(b.min).toFixed(1)}" y2="${y(b.max).toFixed(1)}" stroke="#212121"/>`);
        parts.push(`<line x1="${(cx - 4).toFixed(1)}" x2="${(cx + 4).toFixed(1)}" y1="${y(b.max).toFixed(1)}" y2="${y(b.max).toFixed(1)}" stroke="#212121"/>`);
        parts.push(`<line x1="${(cx - 4).toFixed(1)}" x2="${(cx + 4).toFixed(1)}" y1="${y(b.min).toFixed(1)}" y2="${y(b.min).toFixed(1)}" stroke="#212121"/>`);
      }
      parts.push(`<text x="${(bx + bw / 2).toFixed(1)}" y="${(y(b.max) - 4).toFixed(1)}" font-size="9" text-anchor="middle">${esc(b.label)}</text>`);
    });
    for (const m of g.marks) {
      parts.push(`<line x1="${(gx + 6).toFixed(1)}" x2="${(gx + gw - 6).toFixed(1)}" y1="${y(m.value).toFixed(1)}" y2="${y(m.value).toFixed(1)}" stroke="${m.colour}" stroke-dasharray="4 3"/>`);
      parts.push(`<text x="${(gx + gw - 6).toFixed(1)}" y="${(y(m.value) - 3).toFixed(1)}" font-size="9" text-anchor="end" fill="${m.colour}">${esc(m.label)}</text>`);
    }
    parts.push(`<text x="${(gx + gw / 2).toFixed(1)}" y="${bottom + 16}" font-size="12" text-anchor="middle">${esc(g.title)}</text>`);
  });
  return parts.join("\n");
}

function bars(rows: Row[], key: string, pick: (r: Row) => Spread | null, fmt: (v: number) => string): Bar[] {
  return rows
    .filter((r) => r.key === key)
    .map((r) => ({ r, s: pick(r) }))
    .filter((e): e is { r: Row; s: Spread } => e.s !== null)
    .map(({ r, s }) => ({ target: r.target, value: s.median, min: s.min, max: s.max, label: fmt(s.median) }));
}

export function renderSvg(res: BenchResults, limits: { slowGrowthMiB: number; idleRssMB: number }): string {
  const rows = res.summary;
  const W = 1000;
  const parts: string[] = [];
  let y = 60;
  const ratioGroups: Group[] = (["keepalive", "newconn", "bigbody", "bigbody8"] as const)
    .map((k) => ({
      title: rows.find((r) => r.key === k)?.workload ?? k,
      bars: bars(rows, k, (r) => r.toDirect, (v) => v.toFixed(2)),
      marks:
        k === "bigbody8"
          ? []
          : [
              { value: REFERENCE.nginx[k], label: `issue: nginx ${REFERENCE.nginx[k]}`, colour: COLOURS.nginx },
              { value: REFERENCE.naive[k], label: `issue: naive ${REFERENCE.naive[k]}`, colour: COLOURS.naive },
            ],
    }))
    .filter((g) => g.bars.length > 0);
  const panels: string[] = [];
  if (ratioGroups.length > 0) {
    panels.push(panel(20, y, W - 40, 300, "Throughput, ratio to direct (median of repetitions; whiskers: min-max)", "x direct", ratioGroups));
    y += 310;
  }
  const memGroups: Group[] = ["slowreader-64", "slowreader-256"]
    .map((k) => ({
      title: rows.find((r) => r.key === k)?.workload ?? k,
      bars: bars(rows, k, (r) => r.value, (v) => v.toFixed(1)),
      marks: [{ value: limits.slowGrowthMiB, label: `limit ${limits.slowGrowthMiB.toFixed(1)}`, colour: "#c62828" }],
    }))
    .filter((g) => g.bars.length > 0);
  const idleGroups: Group[] = res.settings.idleCounts
    .map((n) => ({
      title: rows.find((r) => r.key === `idle-${n}`)?.workload ?? `${n}`,
      bars: bars(rows, `idle-${n}`, (r) => r.value, (v) => v.toFixed(0)),
      marks: n === 1000 ? [{ value: limits.idleRssMB, label: `limit ${limits.idleRssMB}`, colour: "#c62828" }] : [],
    }))
    .filter((g) => g.bars.length > 0);
  if (memGroups.length > 0 || idleGroups.length > 0) {
    const half = (W - 60) / 2;
    if (memGroups.length > 0) panels.push(panel(20, y, half, 280, "Slow reader: proxy RSS growth", "MiB", memGroups));
    if (idleGroups.length > 0) panels.push(panel(40 + half, y, half, 280, "Idle connections: proxy RSS", "MB", idleGroups));
    y += 290;
  }
  const scaleGroups: Group[] = (res.settings.idleScaleCounts ?? [])
    .map((n) => ({
      title: rows.find((r) => r.key === `idlescale-${n}`)?.workload ?? `${n}`,
      bars: bars(rows, `idlescale-${n}`, (r) => r.value, (v) => num(v)),
      marks: [],
    }))
    .filter((g) => g.bars.length > 0);
  const httpGroups: Group[] = (["http1k", "http1m"] as const)
    .map((k) => ({
      title: rows.find((r) => r.key === k)?.workload ?? k,
      bars: bars(rows, k, (r) => r.toNaive, (v) => v.toFixed(2)),
      marks: [{ value: 1, label: "target 1.00", colour: "#c62828" }],
    }))
    .filter((g) => g.bars.length > 0);
  if (scaleGroups.length > 0 || httpGroups.length > 0) {
    const half = (W - 60) / 2;
    if (scaleGroups.length > 0) panels.push(panel(20, y, half, 280, "Idle scaling: one client's keep-alive req/s", "req/s", scaleGroups));
    if (httpGroups.length > 0) panels.push(panel(40 + half, y, half, 280, "HTTP files: req/s, ratio to naive http", "x naive http", httpGroups));
    y += 290;
  }
  // The targets that ran; the HTTP servers share the colours of the proxies in the same roles.
  const legend = (Object.keys(COLOURS) as TargetId[])
    .filter((t) => rows.some((r) => r.target === t))
    .map((t, i) => `<rect x="${20 + i * 130}" y="${y + 4}" width="12" height="12" fill="${COLOURS[t]}"/><text x="${38 + i * 130}" y="${y + 15}" font-size="12">${esc(TARGET_LABELS[t])}</text>`)
    .join("\n");
  y += 30;
  const m = res.meta;
  const sub = `${m.startedAt} - ${m.machine.cpuModel}, ${m.machine.nproc} CPUs - ${m.generator} - ${res.settings.quick ? "quick mode" : "full run"}; absolute numbers vary between machines, compare ratios from one run`;
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${y}" viewBox="0 0 ${W} ${y}" font-family="sans-serif">`);
  parts.push(`<rect width="100%" height="100%" fill="white"/>`);
  parts.push(`<text x="20" y="28" font-size="18" font-weight="bold">pnpm bench: the stage 11 proxy against direct, a naive Node proxy and nginx stream; stage 15 against naive and nginx http</text>`);
  parts.push(`<text x="20" y="48" font-size="11" fill="#555">${esc(sub)}</text>`);
  parts.push(...panels, legend, "</svg>", "");
  return parts.join("\n");
}
