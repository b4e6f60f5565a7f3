// xps export student OUT --through N: a learner distribution of the course
// with the stages up to N, the way a course releases one stage at a time.
//
// - Every reference file in packages/ has its regions of stage N and later
//   replaced by their stubs (so no solution of stage N or later is anywhere);
//   regions of earlier stages keep their code and their markers (a course
//   that releases stage N also releases stage N-1's answer, and the export's
//   own generator still makes the earlier stages' skeletons).
// - Stages after N are left out; every stage's src/ is its pristine
//   skeleton, generated from the exported packages (so `pnpm gen --check`
//   finds no drift in the export).
// - It is a workspace of its own: the root files, docs/, packages/ and the
//   stages, without node_modules, .xps or test artifacts. The lockfile is the
//   course's; `pnpm install` (not --frozen-lockfile) drops the importers of the
//   stages that are not there.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import path from "node:path";
import { findDrift } from "@xps/course/gen";
import { TODO_IMPORT, afterImports, fingerprint, parseRegions, skeletonFor, stubLines } from "@xps/course/skeleton";
import { listStages, markedFiles } from "@xps/course/stages";
import type { StageMeta } from "../context.ts";

/** Files and folders at the root of the course that an export carries. */
const ROOT_FILES = ["package.json", "pnpm-workspace.yaml", "turbo.json", "tsconfig.json", ".gitignore", "README.md", "pnpm-lock.yaml", ".npmrc", ".markdownlintignore"];
const SKIP = new Set(["node_modules", ".xps", "test-artifacts", ".turbo", "bench-results", ".git"]);
/** Course tooling: its text talks about markers, it holds no solution. */
export const TOOLING = new Set(["course", "testkit", "cli"]);
const CODE = /\.(?:[cm]?[jt]s|tsx|jsx)$/;

export function copyTree(from: string, to: string, skip: (rel: string, name: string) => boolean = () => false, rel = ""): number {
  let n = 0;
  fs.mkdirSync(to, { recursive: true });
  for (const e of fs.readdirSync(from, { withFileTypes: true })) {
    if (SKIP.has(e.name)) continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (skip(r, e.name)) continue;
    const src = path.join(from, e.name);
    const dst = path.join(to, e.name);
    if (e.isDirectory()) n += copyTree(src, dst, skip, r);
    else if (e.isFile()) {
      fs.copyFileSync(src, dst);
      n++;
    }
  }
  return n;
}

/**
 * A reference file as the export through stage N has it: regions of stage N
 * or later become their stubs, earlier regions stay as they are (markers
 * included), and the todo import is added when a stub needs it.
 */
export function exportText(text: string, file: string, through: number): string {
  const regions = parseRegions(text, file);
  const lines = text.split("\n");
  const out: string[] = [];
  let next = 0;
  let stubs = 0;
  for (const r of regions) {
    out.push(...lines.slice(next, r.begin));
    if (r.stage >= through) {
      out.push(...stubLines(r));
      stubs++;
    } else out.push(...lines.slice(r.begin, r.end + 1));
    next = r.end + 1;
  }
  out.push(...lines.slice(next));
  if (stubs > 0 && !/import\s*\{[^}]*\btodo\b[^}]*\}\s*from\s*"@xps\/utils(?:\/todo)?"/.test(text)) out.splice(afterImports(out), 0, TODO_IMPORT);
  return out.join("\n");
}

export function distributionNote(through: StageMeta, released: StageMeta[]): string {
  return [
    "",
    "## This distribution",
    "",
    `This copy of the course releases the stages up to stage ${through.stage} (${released.map((s) => `\`${s.name}\` ${s.title}`).join(", ")}).`,
    `The reference code in \`packages/\` has stage ${through.stage}'s solution (and every later one) replaced by TODO stubs, so`,
    "`pnpm demo` and `pnpm verify`, which run the reference, do not pass here: they are the course authors' tools.",
    "",
    "Set it up with:",
    "",
    "```bash",
    "npm install -g pnpm@12.21.0 && pnpm install",
    `pnpm xps status && pnpm test --filter ${through.name}`,
    "```",
    "",
    `Run the tests of a stage with \`pnpm test --filter stage-NN\` (or \`pnpm xps test stage-NN\`): a plain \`pnpm test\` also`,
    "runs the unit tests of the course's packages, and some of those need the solutions this copy leaves out.",
    "",
    "The lockfile comes from the whole course, which has stages this copy does not have yet, so the first",
    "`pnpm install` updates it: use `pnpm install`, not `pnpm install --frozen-lockfile` (in CI, where pnpm",
    "freezes the lockfile by default, `pnpm install --no-frozen-lockfile`).",
    "",
  ].join("\n");
}

export interface ExportResult {
  out: string;
  through: StageMeta;
  stages: StageMeta[];
  files: number;
}

/** Write the student distribution of `root` through stage `through` into `out` (which must be empty or missing). */
export function exportStudent(root: string, out: string, through: number): ExportResult {
  const all = listStages(root);
  const last = all.find((s) => s.stage === through);
  if (!last) throw new Error(`there is no stage ${through}`);
  const released = all.filter((s) => s.stage <= through);
  let files = 0;
  fs.mkdirSync(out, { recursive: true });

  for (const f of ROOT_FILES) {
    if (fs.existsSync(path.join(root, f))) {
      fs.copyFileSync(path.join(root, f), path.join(out, f));
      files++;
    }
  }
  for (const f of fs.readdirSync(root)) {
    if (f.startsWith(".markdownlint") && !ROOT_FILES.includes(f)) {
      fs.copyFileSync(path.join(root, f), path.join(out, f));
      files++;
    }
  }
  const readme = path.join(out, "README.md");
  if (fs.existsSync(readme)) fs.appendFileSync(readme, distributionNote(last, released));
  if (fs.existsSync(path.join(root, "docs"))) files += copyTree(path.join(root, "docs"), path.join(out, "docs"));

  // packages/: every reference file with its regions of stage N and later stubbed.
  for (const pkg of fs.readdirSync(path.join(root, "packages"))) {
    const from = path.join(root, "packages", pkg);
    if (!fs.statSync(from).isDirectory()) continue;
    // The xps command's own tests grade and run the reference: they are the course authors'.
    files += copyTree(from, path.join(out, "packages", pkg), (rel) => pkg === "cli" && rel === "test");
  }
  for (const m of markedFiles(root)) {
    const text = fs.readFileSync(path.join(root, m.file), "utf8");
    fs.writeFileSync(path.join(out, m.file), exportText(text, m.file, through));
  }

  // stages/: up to N, each src/ its pristine skeleton, made from the exported packages.
  for (const s of released) {
    const rel = path.relative(root, s.dir);
    const taught = new Set(s.teaches.map((t) => `src/${path.basename(t)}`));
    files += copyTree(s.dir, path.join(out, rel), (r) => taught.has(r));
    for (const t of s.teaches) {
      const text = fs.readFileSync(path.join(out, t), "utf8");
      fs.mkdirSync(path.join(out, rel, "src"), { recursive: true });
      fs.writeFileSync(path.join(out, rel, "src", path.basename(t)), skeletonFor(text, t, s.stage, s.name));
      files++;
    }
  }
  return { out, through: last, stages: released, files };
}

// ------------------------------------------------------------ leak check

export interface Leak {
  file: string;
  what: string;
}

/** Code as the fingerprints see it: trimmed lines, no blank or comment lines, one space between. */
export function normalizeCode(text: string): string {
  return text
    .split("\n")
    .map((l) => l.trim())
    .filter((l) => l !== "" && !l.startsWith("//"))
    .join(" ")
    .replace(/\s+/g, " ");
}

function walkFiles(dir: string, rel = ""): string[] {
  const out: string[] = [];
  for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
    if (e.name === "node_modules" || e.name === ".git") continue;
    const r = rel ? `${rel}/${e.name}` : e.name;
    if (e.isDirectory()) out.push(...walkFiles(path.join(dir, e.name), r));
    else if (e.isFile()) out.push(r);
  }
  return out;
}

function readText(file: string): string | null {
  const st = fs.statSync(file);
  if (st.size > 8 * 1024 * 1024) return null;
  const buf = fs.readFileSync(file);
  if (buf.subarray(0, 8192).includes(0)) return null;
  return buf.toString("utf8");
}

export interface Canary {
  stage: number;
  token: string;
  where: string;
}

/**
 * Look for solutions of stage N and later in an export: any region's code
 * (by fingerprint) anywhere, a canary string, and, in code outside the
 * course's tooling packages, a begin marker of such a stage. Also checks the
 * shape: no stage after N, and every stage's src/ is the pristine skeleton.
 */
export function scanExport(out: string, through: number, root: string, canaries: Canary[] = []): Leak[] {
  const leaks: Leak[] = [];
  const prints = markedFiles(root)
    .flatMap((m) => m.regions.map((r) => ({ file: m.file, r })))
    .filter((x) => x.r.stage >= through)
    .map((x) => ({ ...x, fp: fingerprint(x.r) }))
    .filter((x) => x.fp !== "");
  const secret = canaries.filter((c) => c.stage >= through);
  const marker = /\/\/ @solution stage-(\d+) begin/g;
  for (const rel of walkFiles(out)) {
    const text = readText(path.join(out, rel));
    if (text === null) continue;
    const code = normalizeCode(text);
    for (const p of prints) {
      if (code.includes(p.fp)) leaks.push({ file: rel, what: `the code of stage-${p.r.stage} TODO ${p.r.todo} (${p.r.title}) from ${p.file}` });
    }
    for (const c of secret) if (text.includes(c.token)) leaks.push({ file: rel, what: `the canary of a stage-${c.stage} region (${c.where})` });
    const pkg = /^packages\/([^/]+)\//.exec(rel)?.[1];
    if (CODE.test(rel) && !(pkg && TOOLING.has(pkg))) {
      for (const m of text.matchAll(marker)) {
        if (Number(m[1]) >= through) leaks.push({ file: rel, what: `a "// @solution stage-${m[1]} begin" marker` });
      }
    }
  }
  for (const s of listStages(root)) {
    const rel = path.relative(root, s.dir);
    if (s.stage > through && fs.existsSync(path.join(out, rel))) leaks.push({ file: rel, what: `${s.name}, a stage after ${through}, is in the export` });
  }
  for (const d of fs.existsSync(path.join(out, "stages")) ? findDrift(out) : []) {
    leaks.push({ file: path.relative(out, d.file), what: d.problem === "missing" ? "a skeleton file is missing" : "is not the pristine skeleton" });
  }
  return leaks;
}

/**
 * A scratch copy of the course's sources (no node_modules) with a canary
 * comment inside every solution region, for checking that an export drops
 * the regions it must. Returns the canaries.
 */
export function canaryCopy(root: string, dest: string, nonce: string): Canary[] {
  for (const f of [...ROOT_FILES, ...fs.readdirSync(root).filter((f) => f.startsWith(".markdownlint"))]) {
    if (fs.existsSync(path.join(root, f))) fs.copyFileSync(path.join(root, f), path.join(dest, f));
  }
  for (const d of ["docs", "packages", "stages"]) if (fs.existsSync(path.join(root, d))) copyTree(path.join(root, d), path.join(dest, d));
  const canaries: Canary[] = [];
  for (const m of markedFiles(dest)) {
    const file = path.join(dest, m.file);
    const lines = fs.readFileSync(file, "utf8").split("\n");
    // From the last region up, so the earlier line numbers stay right.
    for (const r of [...m.regions].reverse()) {
      const token = `xps-canary-${nonce}-stage-${r.stage}-${canaries.length}`;
      lines.splice(r.end, 0, `${r.indent}// ${token}`);
      canaries.push({ stage: r.stage, token, where: `${m.file}, TODO ${r.todo}` });
    }
    fs.writeFileSync(file, lines.join("\n"));
  }
  return canaries;
}

/** Canaries of stages before N must be in the export: else the scan could not see a leak either. */
export function missingCanaries(out: string, through: number, canaries: Canary[]): Canary[] {
  const texts = walkFiles(out)
    .filter((f) => CODE.test(f))
    .map((f) => fs.readFileSync(path.join(out, f), "utf8"))
    .join("\n");
  return canaries.filter((c) => c.stage < through && !texts.includes(c.token));
}

// ------------------------------------------------------------ install and run

export interface InstallCheck {
  installed: boolean;
  installOutput: string;
  testExit: number | null;
  testOutput: string;
}

/** The environment of a fresh shell: none of the course's XPS_* switches, no surrounding vitest. */
export function cleanEnv(base: NodeJS.ProcessEnv = process.env): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [k, v] of Object.entries(base)) {
    if (k.startsWith("XPS_") || k.startsWith("VITEST") || k === "NODE_ENV" || k === "INIT_CWD" || k.startsWith("npm_") || k.startsWith("PNPM_SCRIPT")) continue;
    env[k] = v;
  }
  return env;
}

/** pnpm install, then pnpm test --filter <stage>, in an export, as a learner would. */
export function installAndTest(out: string, stage: string, timeoutMs = 15 * 60_000): InstallCheck {
  const env = cleanEnv();
  const inst = spawnSync("pnpm", ["install", "--no-frozen-lockfile"], { cwd: out, env, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const installOutput = `${inst.stdout ?? ""}${inst.stderr ?? ""}`;
  if (inst.status !== 0) return { installed: false, installOutput, testExit: null, testOutput: "" };
  const t = spawnSync("pnpm", ["test", "--filter", stage], { cwd: out, env: { ...env, NO_COLOR: "1" }, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { installed: true, installOutput, testExit: t.status, testOutput: `${t.stdout ?? ""}${t.stderr ?? ""}` };
}
