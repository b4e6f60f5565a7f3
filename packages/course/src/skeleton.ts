// The single-source generator. Reference code marks what a stage teaches:
//
//   // @solution stage-10 begin 5: Readable and writable
//   //> Notes for the learner, shown in the skeleton and kept in the solution.
//   ...the solution...
//   // @solution end
//
// For stage N's skeleton, each region of stage N (or a later one) becomes a
// stub that keeps the surrounding signature, so it type-checks, and throws a
// TodoError naming the stage and the TODO. Regions of earlier stages stay as
// solution code: stage N builds on them. The markers themselves never reach a
// generated file.
import path from "node:path";

export interface Region {
  stage: number;
  todo: number;
  title: string;
  notes: string[];
  /** 0-based line of the begin marker. */
  begin: number;
  /** 0-based line of the end marker. */
  end: number;
  indent: string;
  /** The solution lines between the notes and the end marker. */
  body: string[];
}

const BEGIN = /^(\s*)\/\/ @solution stage-(\d+) begin (\d+): (.+?)\s*$/;
const END = /^\s*\/\/ @solution end\s*$/;
const NOTE = /^\s*\/\/>(?: (.*))?$/;
const ANY_MARKER = /@solution\b/;

export class MarkerError extends Error {}

export function parseRegions(text: string, file: string): Region[] {
  const lines = text.split("\n");
  const regions: Region[] = [];
  let open: Region | null = null;
  let inNotes = false;
  lines.forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    const b = BEGIN.exec(line);
    if (b) {
      if (open) throw new MarkerError(`${where}: a region begins inside the region opened at line ${open.begin + 1}`);
      open = { stage: Number(b[2]), todo: Number(b[3]), title: b[4]!, notes: [], begin: i, end: -1, indent: b[1]!, body: [] };
      inNotes = true;
      return;
    }
    if (END.test(line)) {
      if (!open) throw new MarkerError(`${where}: "@solution end" without a begin`);
      open.end = i;
      regions.push(open);
      open = null;
      return;
    }
    if (ANY_MARKER.test(line) && /\/\/ @solution/.test(line)) {
      throw new MarkerError(`${where}: malformed marker; write "// @solution stage-NN begin K: title" or "// @solution end"`);
    }
    if (open) {
      const note = NOTE.exec(line);
      if (inNotes && note) {
        open.notes.push(note[1] ?? "");
        return;
      }
      inNotes = false;
      open.body.push(line);
    }
  });
  if (open) throw new MarkerError(`${file}:${(open as Region).begin + 1}: region never ends`);
  return regions;
}

export type RegionFate = "keep" | "stub";

/** A stage's package name: stage 7 is "stage-07". */
export function stageName(n: number): string {
  return `stage-${String(n).padStart(2, "0")}`;
}

/** The stub a region becomes. */
export function stubLines(r: Region): string[] {
  const out = [`${r.indent}// TODO(${stageName(r.stage)} #${r.todo}): ${r.title}`];
  for (const n of r.notes) out.push(n ? `${r.indent}// ${n}` : `${r.indent}//`);
  out.push(`${r.indent}throw todo("${stageName(r.stage)}", ${r.todo}, ${JSON.stringify(r.title)});`);
  return out;
}

function keptLines(r: Region): string[] {
  return [...r.notes.map((n) => (n ? `${r.indent}// ${n}` : `${r.indent}//`)), ...r.body];
}

export const TODO_IMPORT = 'import { todo } from "@xps/utils/todo";';

/** Index of the line after the last top-level import statement (0 if none). */
export function afterImports(lines: string[]): number {
  let after = 0;
  let inImport = false;
  lines.forEach((raw, i) => {
    // A trailing comment (a stage tag, say) does not end the statement.
    const line = raw.replace(/;\s*\/\/.*$/, ";");
    if (!inImport && /^import\s/.test(line)) inImport = true;
    if (inImport && /(?:from\s+["'][^"']+["']|^import\s+["'][^"']+["']);?\s*$/.test(line)) {
      inImport = false;
      after = i + 1;
    }
  });
  return after;
}

/** Where a region ended up in a rendered file: output lines [from, to), 0-based. */
export interface Placed {
  region: Region;
  from: number;
  to: number;
}

/** Render a reference file with each region kept or stubbed. */
export function render(text: string, file: string, fate: (r: Region) => RegionFate): { text: string; stubs: Region[]; placed: Placed[] } {
  const regions = parseRegions(text, file);
  const lines = text.split("\n");
  const out: string[] = [];
  const stubs: Region[] = [];
  const placed: Placed[] = [];
  let next = 0;
  for (const r of regions) {
    out.push(...lines.slice(next, r.begin));
    const from = out.length;
    if (fate(r) === "stub") {
      stubs.push(r);
      out.push(...stubLines(r));
    } else {
      out.push(...keptLines(r));
    }
    placed.push({ region: r, from, to: out.length });
    next = r.end + 1;
  }
  out.push(...lines.slice(next));
  if (stubs.length > 0 && !/import\s*\{[^}]*\btodo\b[^}]*\}\s*from\s*"@xps\/utils(?:\/todo)?"/.test(text)) {
    const at = afterImports(out);
    out.splice(at, 0, TODO_IMPORT);
    for (const p of placed) if (p.from >= at) (p.from++, p.to++);
  }
  return { text: out.join("\n"), stubs, placed };
}

export function skeletonHeader(stageName: string, reference: string): string {
  return [
    `// ${stageName}: your copy of ${reference}`,
    `// Fill in the TODOs in the order the stage guide gives; \`pnpm test --filter ${stageName}\` checks them.`,
    `// Generated from the reference by \`pnpm gen\`; \`pnpm xps reset ${stageName}\` restores this version.`,
    "",
    "",
  ].join("\n");
}

/** Stage N's skeleton of a reference file: regions of stage N and later become stubs. */
export function skeletonFor(text: string, reference: string, stage: number, stageName: string): string {
  const { text: body } = render(text, reference, (r) => (r.stage >= stage ? "stub" : "keep"));
  return skeletonHeader(stageName, reference) + body;
}

/** What the file looks like once stage N is solved: regions after N stay stubs (and, with `stubTodo`, that TODO of stage N). */
export function solvedFor(text: string, reference: string, stage: number, stubTodo?: number): string {
  return render(text, reference, (r) => (r.stage > stage || (r.stage === stage && r.todo === stubTodo) ? "stub" : "keep")).text;
}

/** A normalised fingerprint of a region's solution, for leak checks (blank for trivial bodies). */
export function fingerprint(r: Region): string {
  const body = r.body.map((l) => l.trim()).filter((l) => l !== "" && !l.startsWith("//")).join(" ");
  return body.length >= 24 ? body.replace(/\s+/g, " ") : "";
}

export function relativeTo(root: string, file: string): string {
  return path.relative(root, file).split(path.sep).join("/");
}
