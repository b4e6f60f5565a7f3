// Stage views: the server as it stands at stage S, made from one source.
//
// The reference server is the code in the server packages (those whose
// package.json says "xps": { "server": true }). It is written in its final
// form. Where an earlier stage had less, or something else, the reference
// says so with stage tags, which the views resolve and remove:
//
//   first lines of a file:
//     // @stages 6-9            the file belongs to the views of stages 6 to 9
//     // @stages 10-            ... of stage 10 and every later one
//     // @view-as packages/connection/src/connection.ts
//                               in those views it is that module (an earlier
//                               form of a module lives in a file of its own)
//   one line:   code  // @since 10    kept from stage 10 on
//               code  // @until 9     kept up to stage 9
//   a block:    // @since 13 begin ... // @since end
//               // @until 12 begin ... // @until end      (blocks nest)
//
// A file without @stages belongs to every view. For stage S, the view maps
// every module path to its stage-S text. It is written out in full under the
// stage's .xps/view/ (git-ignored), and at run time every import of a
// reference module loads its view file instead (hooks.mjs, and the vitest
// plugin in @xps/testkit/vitest), so a stage's server and tests run exactly
// the server of that stage. Learner files then replace the modules the stage
// teaches (overrides.mjs).
//
// Plain JavaScript on purpose: Node loads it before any TypeScript loader.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";

export class StageTagError extends Error {}

const STAGES = /^\s*\/\/ @stages (\d+)-(\d*)\s*$/;
const VIEW_AS = /^\s*\/\/ @view-as (\S+)\s*$/;
const BLOCK_BEGIN = /^\s*\/\/ @(since|until) (\d+) begin\s*$/;
const BLOCK_END = /^\s*\/\/ @(since|until) end\s*$/;
const LINE_TAG = /\s*\/\/ @(since|until) (\d+)\s*$/;
const ANY_TAG = /\/\/ @(stages|view-as|since|until)\b/;

/** The file's header: the stages whose views hold it, and the module it stands for. */
export function fileStages(text, file) {
  let from = 0;
  let to = Infinity;
  let as = file;
  for (const line of text.split("\n").slice(0, 12)) {
    const s = STAGES.exec(line);
    if (s) {
      from = Number(s[1]);
      to = s[2] === "" ? Infinity : Number(s[2]);
      if (to < from) throw new StageTagError(`${file}: "@stages ${s[1]}-${s[2]}" ends before it begins`);
    }
    const v = VIEW_AS.exec(line);
    if (v) as = v[1];
  }
  return { from, to, as };
}

function keep(kind, n, stage) {
  return kind === "since" ? stage >= n : stage <= n;
}

/**
 * The text of a reference file in the view of `stage`: blocks and lines of
 * other stages removed, every tag removed. Null when the file is not part of
 * that view.
 */
export function renderForStage(text, file, stage) {
  const { from, to } = fileStages(text, file);
  if (stage < from || stage > to) return null;
  const out = [];
  const open = [];
  text.split("\n").forEach((line, i) => {
    const where = `${file}:${i + 1}`;
    if (STAGES.test(line) || VIEW_AS.test(line)) return;
    const b = BLOCK_BEGIN.exec(line);
    if (b) {
      open.push({ kind: b[1], n: Number(b[2]), line: i + 1 });
      return;
    }
    const e = BLOCK_END.exec(line);
    if (e) {
      const top = open.pop();
      if (top === undefined) throw new StageTagError(`${where}: "@${e[1]} end" without a begin`);
      if (top.kind !== e[1]) throw new StageTagError(`${where}: "@${e[1]} end" closes the "@${top.kind} ${top.n} begin" of line ${top.line}`);
      return;
    }
    const shown = open.every((o) => keep(o.kind, o.n, stage));
    const t = LINE_TAG.exec(line);
    if (t) {
      if (shown && keep(t[1], Number(t[2]), stage)) out.push(line.slice(0, t.index));
      return;
    }
    if (ANY_TAG.test(line)) throw new StageTagError(`${where}: malformed stage tag; see the list at the top of packages/course/variant/views.mjs`);
    if (shown) out.push(line);
  });
  if (open.length > 0) throw new StageTagError(`${file}:${open.at(-1).line}: "@${open.at(-1).kind} ${open.at(-1).n} begin" never ends`);
  return out.join("\n");
}

/** The server packages' folders (package.json "xps": { "server": true }). */
export function serverPackages(root) {
  const dir = path.join(root, "packages");
  if (!fs.existsSync(dir)) return [];
  return fs
    .readdirSync(dir)
    .filter((p) => {
      const pkg = path.join(dir, p, "package.json");
      return fs.existsSync(pkg) && JSON.parse(fs.readFileSync(pkg, "utf8")).xps?.server === true;
    })
    .sort();
}

/** Every source file of the server packages, repo-relative ("packages/core/src/loop.ts"). */
export function serverFiles(root) {
  const out = [];
  const walk = (dir) => {
    for (const e of fs.readdirSync(dir, { withFileTypes: true })) {
      if (e.name === "node_modules") continue;
      const p = path.join(dir, e.name);
      if (e.isDirectory()) walk(p);
      else if (/\.(?:ts|mts|mjs|js|json)$/.test(e.name)) out.push(path.relative(root, p).split(path.sep).join("/"));
    }
  };
  for (const pkg of serverPackages(root)) {
    const src = path.join(root, "packages", pkg, "src");
    if (fs.existsSync(src)) walk(src);
  }
  return out.sort();
}

/**
 * The view of `stage`: module path -> { source, text }. Throws when two files
 * claim one module in the same view, or a tag is malformed.
 */
export function viewOf(root, stage) {
  const view = new Map();
  for (const source of serverFiles(root)) {
    const text = fs.readFileSync(path.join(root, source), "utf8");
    const { as } = fileStages(text, source);
    const rendered = renderForStage(text, source, stage);
    if (rendered === null) continue;
    const taken = view.get(as);
    if (taken !== undefined) throw new StageTagError(`${source} and ${taken.source} both stand for ${as} in the view of stage ${stage}`);
    view.set(as, { source, text: rendered });
  }
  return view;
}

/** Where a stage's view is written. */
export function viewDir(stageDir) {
  return path.join(stageDir, ".xps", "view");
}

function writeIfChanged(file, text) {
  if (fs.existsSync(file) && fs.readFileSync(file, "utf8") === text) return;
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const tmp = `${file}.${process.pid}.${crypto.randomBytes(4).toString("hex")}.tmp`;
  fs.writeFileSync(tmp, text);
  fs.renameSync(tmp, file);
}

function linkIfMissing(link, target) {
  try {
    if (fs.readlinkSync(link) === target) return;
    fs.rmSync(link, { force: true });
  } catch {
    // not there yet
  }
  fs.mkdirSync(path.dirname(link), { recursive: true });
  try {
    fs.symlinkSync(target, link, "dir");
  } catch (err) {
    if (err.code !== "EEXIST") throw err;
  }
}

/**
 * Write the view of `stage` under `dir` (the stage's .xps/view/): every
 * module at its stage-`stage` text, and, for each server package, its
 * package.json and a link to its node_modules, so the view's imports resolve
 * as the package's do. Returns `map`: reference file -> view file (both
 * absolute) for every module the view holds, and -> null for the modules it
 * does not hold; and the `view` itself.
 */
export function writeView(root, stage, dir, view = viewOf(root, stage)) {
  for (const [module, { text }] of view) writeIfChanged(path.join(dir, module), text);
  // Files of a previous version of the view that this one no longer holds.
  const wanted = new Set([...view.keys()].map((m) => path.join(dir, m)));
  const stale = [];
  const walk = (d) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.name === "node_modules") continue;
      if (e.isDirectory()) walk(p);
      else if (!wanted.has(p)) stale.push(p);
    }
  };
  walk(path.join(dir, "packages"));
  for (const f of stale) fs.rmSync(f, { force: true });
  for (const pkg of serverPackages(root)) {
    const modules = path.join(root, "packages", pkg, "node_modules");
    if (fs.existsSync(modules)) linkIfMissing(path.join(dir, "packages", pkg, "node_modules"), modules);
    const manifest = path.join(root, "packages", pkg, "package.json");
    writeIfChanged(path.join(dir, "packages", pkg, "package.json"), fs.readFileSync(manifest, "utf8"));
  }
  const map = new Map();
  for (const source of serverFiles(root)) {
    const text = fs.readFileSync(path.join(root, source), "utf8");
    const { as } = fileStages(text, source);
    if (as !== source) continue; // an earlier form is never imported by its own name
    map.set(path.join(root, source), view.has(source) ? path.join(dir, source) : null);
  }
  for (const module of view.keys()) map.set(path.join(root, module), path.join(dir, module));
  return { map, view };
}
