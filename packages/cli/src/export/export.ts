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
import { TODO_IMPORT, afterImports, fingerprint, parseRegions, skeletonFor, stageName, stubLines } from "@xps/course/skeleton";
import { listStages, markedFiles, moduleText } from "@xps/course/stages";
import { serverFiles, truncateAt, viewOf } from "@xps/course/views";
import { MIN_SHINGLES, SHAPE_THRESHOLD, overlap, shingles } from "@xps/course/similarity";
import { AUTHORS_ONLY_DOCS, ExcerptContext } from "../../../course/src/excerpts.ts";
import { expectedGuides } from "../../../course/src/guide-blocks.ts";
import type { StageMeta } from "../context.ts";

/** Files and folders at the root of the course that an export carries. */
const ROOT_FILES = ["package.json", "pnpm-workspace.yaml", "turbo.json", "tsconfig.json", ".gitignore", "README.md", "pnpm-lock.yaml", ".npmrc", ".markdownlintignore"];
const SKIP = new Set(["node_modules", ".xps", "test-artifacts", ".turbo", "bench-results", ".git"]);
/** Course tooling: its text talks about markers, it holds no solution. */
export const TOOLING = new Set(["course", "testkit", "cli"]);
/**
 * The course authors' own packages, never exported: the fault fixtures are
 * the reference server with one mistake each, so they hold its solutions.
 */
export const AUTHORS_ONLY_PACKAGES = new Set(["faults"]);
/** Pages for the course's authors and instructors, about commands that need every reference solution. */
export { AUTHORS_ONLY_DOCS };
/**
 * Markdown between these lines says what only the whole course can do (run a
 * stage's reference, pnpm demo, pnpm verify). An export drops such blocks
 * from the pages of the stages whose reference it withholds and from every
 * page outside the stages.
 */
export const COURSE_ONLY_BEGIN = "<!-- course-only -->";
export const COURSE_ONLY_END = "<!-- /course-only -->";
/** Commands that fail where a stage's reference is withheld; the export's pages must not offer them. */
const AUTHOR_COMMANDS = /XPS_VARIANT=solution|--solution\b|pnpm demo\b|pnpm verify\b|pnpm bench\b|pnpm mutate\b/;
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
    "the course's demo and its own test suite, which run the reference, are not part of this copy: they are the course authors' tools.",
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
  if (fs.existsSync(path.join(root, "docs"))) {
    files += copyTree(path.join(root, "docs"), path.join(out, "docs"), (rel) => AUTHORS_ONLY_DOCS.has(rel));
  }

  // packages/: every reference file with its regions of stage N and later stubbed.
  for (const pkg of fs.readdirSync(path.join(root, "packages"))) {
    const from = path.join(root, "packages", pkg);
    if (!fs.statSync(from).isDirectory() || AUTHORS_ONLY_PACKAGES.has(pkg)) continue;
    // The xps command's own tests grade and run the reference, and the generator's and the
    // website's tests quote the solutions they check: they are the course authors'.
    // The website's build output and cache are this copy's, not the export's.
    files += copyTree(from, path.join(out, "packages", pkg), (rel) => (["cli", "course", "site"].includes(pkg) && rel === "test") || (pkg === "site" && (rel === "dist" || rel === ".vitepress/cache")));
  }
  // The server's files as a course that ends at stage N has them: what only
  // later stages have is gone (a later stage's final form of a module would
  // otherwise hold stage N's solution in another shape), and the regions of
  // stage N are stubs. Every view up to N renders as it does in the course.
  for (const file of serverFiles(root)) {
    const text = fs.readFileSync(path.join(root, file), "utf8");
    fs.writeFileSync(path.join(out, file), exportText(truncateAt(text, file, through), file, through));
  }

  // stages/: up to N, each src/ its pristine skeleton, made from the exported packages.
  for (const s of released) {
    const rel = path.relative(root, s.dir);
    const taught = new Set(s.teaches.map((t) => `src/${path.basename(t)}`));
    // The mistakes catalogue is the course authors': its edits quote the solution.
    files += copyTree(s.dir, path.join(out, rel), (r) => taught.has(r) || r === "mistakes.ts");
    // A standalone stage's own reference solution: its regions of stage N and later are stubs.
    for (const m of markedFiles(root).filter((x) => x.file.startsWith(`${rel}/`))) {
      fs.writeFileSync(path.join(out, m.file), exportText(fs.readFileSync(path.join(root, m.file), "utf8"), m.file, through));
    }
    const exported = listStages(out).find((x) => x.name === s.name)!;
    const view = viewOf(out, s.stage);
    for (const t of s.teaches) {
      const text = moduleText(exported, t, out, view);
      fs.mkdirSync(path.join(out, rel, "src"), { recursive: true });
      fs.writeFileSync(path.join(out, rel, "src", path.basename(t)), skeletonFor(text, t, s.stage, s.name));
      files++;
    }
  }
  // The pages' code excerpts, cut again from the exported code: an excerpt of
  // a stage this copy does not have becomes a line saying so, and one of a
  // module as it stands at the end of the course shows it as it stands at N.
  for (const page of expectedGuides(out, new ExcerptContext(out), new Set(["excerpt"]))) fs.writeFileSync(page.file, page.text);
  // Pages say only what works here: the earlier stages keep their
  // course-only blocks (their references are released), the rest drop them.
  const keepsCourseOnly = new Set(released.filter((s) => s.stage < through).map((s) => path.relative(root, s.dir)));
  for (const rel of walkFiles(out).filter((f) => f.endsWith(".md"))) {
    if ([...keepsCourseOnly].some((d) => rel.startsWith(`${d}/`))) continue;
    const file = path.join(out, rel);
    fs.writeFileSync(file, dropCourseOnly(fs.readFileSync(file, "utf8")));
  }
  return { out, through: last, stages: released, files };
}

/** The commands a Markdown page offers: lines of fenced code blocks, and inline code that runs pnpm. */
export function offeredCommands(text: string): { line: number; text: string }[] {
  const out: { line: number; text: string }[] = [];
  let fenced = false;
  text.split("\n").forEach((line, i) => {
    if (/^\s*(```|~~~)/.test(line)) {
      fenced = !fenced;
      return;
    }
    if (fenced) out.push({ line: i + 1, text: line });
    else for (const m of line.matchAll(/`([^`]*\bpnpm\b[^`]*)`/g)) out.push({ line: i + 1, text: m[1]! });
  });
  return out;
}

/** Markdown without its course-only blocks (markers included). */
export function dropCourseOnly(text: string): string {
  const out: string[] = [];
  let inside = false;
  for (const line of text.split("\n")) {
    if (line.trim() === COURSE_ONLY_BEGIN) inside = true;
    else if (line.trim() === COURSE_ONLY_END) inside = false;
    else if (!inside) out.push(line);
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n");
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

/**
 * What a reader of a built website page sees: its HTML, or the page's
 * JavaScript chunk (VitePress keeps each page's HTML in one as a string, and
 * the search index holds every page's text), without tags, entities or string
 * escapes, so that a leaked excerpt reads as code again.
 */
export function siteText(text: string): string {
  return text
    .replace(/\\u([0-9a-fA-F]{4})/g, (_, h: string) => String.fromCharCode(parseInt(h, 16)))
    .replace(/\\n/g, "\n")
    .replace(/\\(["'`\\/])/g, "$1")
    .replace(/<\/span><span class="line">/g, "\n")
    .replace(/<[^>]*>/g, "")
    .replace(/&(lt|gt|amp|quot|#39|#x27|#(\d+)|#x([0-9a-fA-F]+));/g, (_, e: string, d?: string, x?: string) =>
      d ? String.fromCharCode(Number(d)) : x ? String.fromCharCode(parseInt(x, 16)) : ({ lt: "<", gt: ">", amp: "&", quot: '"', "#39": "'", "#x27": "'" } as Record<string, string>)[e]!,
    );
}

/** A built website's files (HTML, and JavaScript that holds HTML) are read as what they show. */
const SITE_FILE = /\.(?:html|js)$/;

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
  // What a withheld region shares with the released code of its own file
  // (its file as an export through the stage must hold it, with the region
  // stubbed) is public already: an earlier form of the same handler, say.
  // Only the rest of it can leak. The file is made again from the course, not
  // read from the export, where a region left in place would hide itself.
  const exported = new Map<string, { code: string; runs: Set<string> }>();
  const served = new Set(serverFiles(root));
  const ownFile = (file: string): { code: string; runs: Set<string> } => {
    let e = exported.get(file);
    if (e === undefined) {
      const source = fs.readFileSync(path.join(root, file), "utf8");
      const text = exportText(served.has(file) ? truncateAt(source, file, through) : source, file, through);
      e = { code: normalizeCode(text), runs: shingles(text) };
      exported.set(file, e);
    }
    return e;
  };
  const withheld = markedFiles(root)
    .flatMap((m) => m.regions.map((r) => ({ file: m.file, r })))
    .filter((x) => x.r.stage >= through);
  const prints = withheld
    .map((x) => ({ ...x, fp: fingerprint(x.r) }))
    .filter((x) => x.fp !== "" && !ownFile(x.file).code.includes(x.fp));
  // The same goes for what it shares with any code the export releases (made
  // again from the course, as above): stage 17's folder check repeats stage
  // 12's file check, a usage text and a page are both lines of strings.
  const released = new Set<string>();
  for (const file of new Set([...served, ...markedFiles(root).map((m) => m.file)])) for (const run of ownFile(file).runs) released.add(run);
  const shapes = withheld
    .map((x) => ({ ...x, runs: new Set([...shingles(x.r.body.join("\n"))].filter((run) => !released.has(run))) }))
    .filter((x) => x.runs.size >= MIN_SHINGLES);
  const secret = canaries.filter((c) => c.stage >= through);
  const marker = /\/\/ @solution stage-(\d+) begin/g;
  for (const rel of walkFiles(out)) {
    const raw = readText(path.join(out, rel));
    if (raw === null) continue;
    // A built website's page or asset: scanned as what it shows; its prose may name the markers.
    const built = SITE_FILE.test(rel) && (rel.endsWith(".html") || /(^|\/)assets\//.test(rel));
    const text = built ? `${raw}\n${siteText(raw)}` : raw;
    const code = normalizeCode(text);
    const found = new Set<string>();
    for (const p of prints) {
      if (code.includes(p.fp)) {
        found.add(`${p.r.stage}/${p.r.todo}`);
        leaks.push({ file: rel, what: `the code of ${stageName(p.r.stage)} TODO ${p.r.todo} (${p.r.title}) from ${p.file}` });
      }
    }
    // Code in the shape of a withheld region (a rewrite with other names).
    if (CODE.test(rel)) {
      const runs = shingles(text);
      const pkgOf = /^packages\/([^/]+)\//.exec(rel)?.[1];
      for (const x of shapes) {
        // The course's own tools (course, testkit, cli, bench) are written
        // apart from the server and are made of the same plain pieces as its
        // TODOs: socket calls like stage 2's, a config built of string lines
        // like stage 17's page. Shapes gave only false alarms there; exact
        // code (the fingerprints above) and the canaries still count.
        if (pkgOf !== undefined && (TOOLING.has(pkgOf) || pkgOf === "bench")) continue;
        const share = overlap(x.runs, runs);
        if (share >= SHAPE_THRESHOLD && !found.has(`${x.r.stage}/${x.r.todo}`)) {
          found.add(`${x.r.stage}/${x.r.todo}`);
          leaks.push({ file: rel, what: `code shaped like ${stageName(x.r.stage)} TODO ${x.r.todo} (${x.r.title}) from ${x.file}: ${Math.round(share * 100)}% of its token runs` });
        }
      }
    }
    for (const c of secret) if (text.includes(c.token)) leaks.push({ file: rel, what: `the canary of a ${stageName(c.stage)} region (${c.where})` });
    const pkg = /^packages\/([^/]+)\//.exec(rel)?.[1];
    if (CODE.test(rel) && !built && !(pkg && TOOLING.has(pkg))) {
      for (const m of text.matchAll(marker)) {
        if (Number(m[1]) >= through) leaks.push({ file: rel, what: `a "// @solution stage-${m[1]} begin" marker` });
      }
    }
  }
  // Pages outside the earlier stages offer no command that needs a withheld reference.
  const earlier = listStages(root).filter((s) => s.stage < through).map((s) => path.relative(root, s.dir));
  for (const rel of walkFiles(out).filter((f) => f.endsWith(".md") && !earlier.some((d) => f.startsWith(`${d}/`)))) {
    for (const c of offeredCommands(fs.readFileSync(path.join(out, rel), "utf8"))) {
      const m = AUTHOR_COMMANDS.exec(c.text);
      if (m) leaks.push({ file: `${rel}:${c.line}`, what: `offers "${m[0]}", which needs a reference this copy withholds (put it between ${COURSE_ONLY_BEGIN} and ${COURSE_ONLY_END})` });
    }
  }
  for (const p of AUTHORS_ONLY_PACKAGES) if (fs.existsSync(path.join(out, "packages", p))) leaks.push({ file: `packages/${p}`, what: "the course authors' package is in the export" });
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
 * The website built from an export through stage N (`pnpm docs:build` with
 * XPS_DOCS_ROOT at the export): no page of a later stage, and no link to one.
 * Its text is scanned with the rest of the export (scanExport reads built
 * HTML and JavaScript as what they show).
 */
export function scanSite(dist: string, through: number, root: string): Leak[] {
  const leaks: Leak[] = [];
  if (!fs.existsSync(path.join(dist, "index.html"))) return [{ file: dist, what: "the built website has no index.html" }];
  const later = listStages(root).filter((s) => s.stage > through).map((s) => path.relative(root, s.dir).split(path.sep).join("/"));
  const pages = walkFiles(dist).filter((f) => f.endsWith(".html"));
  for (const dir of later) {
    if (fs.existsSync(path.join(dist, dir))) leaks.push({ file: dir, what: `the website has a page of ${path.basename(dir)}, a stage after ${through}` });
    for (const f of pages) if (fs.readFileSync(path.join(dist, f), "utf8").includes(`/${dir}/"`)) leaks.push({ file: f, what: `links to the page of ${path.basename(dir)}, a stage after ${through}` });
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

/**
 * pnpm install, then pnpm test --filter <stage>, in an export, as a learner
 * would. The run's results (what xps status shows) go to `resultsDir`.
 */
export function installAndTest(out: string, stage: string, resultsDir: string, timeoutMs = 15 * 60_000): InstallCheck {
  const env = cleanEnv();
  const inst = spawnSync("pnpm", ["install", "--no-frozen-lockfile"], { cwd: out, env, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  const installOutput = `${inst.stdout ?? ""}${inst.stderr ?? ""}`;
  if (inst.status !== 0) return { installed: false, installOutput, testExit: null, testOutput: "" };
  // The check's run is not the learner's progress: its results go to a folder outside the copy.
  const t = spawnSync("pnpm", ["test", "--filter", stage], { cwd: out, env: { ...env, NO_COLOR: "1", XPS_RESULTS_DIR: resultsDir }, encoding: "utf8", timeout: timeoutMs, maxBuffer: 64 * 1024 * 1024 });
  return { installed: true, installOutput, testExit: t.status, testOutput: `${t.stdout ?? ""}${t.stderr ?? ""}` };
}
