// Stage views: the server as it stands at stage S, made from one source.
//
// The reference server is the code in the server packages (those whose
// package.json says "xps": { "server": true }). It is written in its final
// form, and as it stands it is the final server: valid TypeScript that
// type-checks and runs. Where an earlier stage had less, or something else,
// stage tags say so, and the views resolve and remove them:
//
//   first lines of a file:
//     // @stages 6-9            the file belongs to the views of stages 6 to 9
//     // @stages 10-            ... of stage 10 and every later one
//     // @view-as packages/connection/src/connection.ts
//                               in those views it is that module: an earlier
//                               form of a module lives in a file of its own
//                               (in an early/ folder, which the final server
//                               never imports)
//   code that arrives with a stage (live in the final file):
//     code  // @since 10                  one line, kept from stage 10 on
//     // @since 13 begin ... // @since end    a block
//   code of earlier stages only (in a file that reaches the final server,
//   written as comments, so that file stays the final server and the view
//   uncomments it; in a file of an earlier form, as live code):
//     // @until 9: code                   one line, kept up to stage 9
//     // @only 8: code                    one line, kept in stage 8 alone
//     // @until 9 begin                   a block whose lines are written
//     //   code                           as "// code" (a comment inside
//     // @until end                       is "// // text"); also @only N
//   (in a file of an earlier form, "code // @until 9" and live code in the
//   blocks do the same)
//
// Blocks nest.
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
const BLOCK_BEGIN = /^\s*\/\/ @(since|until|only) (\d+) begin\s*$/;
const BLOCK_END = /^\s*\/\/ @(since|until|only) end\s*$/;
const SUFFIX_TAG = /\s*\/\/ @(since|until|only) (\d+)\s*$/;
const EARLY_LINE = /^(\s*)\/\/ @(until|only) (\d+): (.*)$/;
const COMMENTED = /^(\s*)\/\/ ?(.*)$/;
const ANY_TAG = /\/\/ @(stages|view-as|since|until|only)\b/;

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
  return kind === "since" ? stage >= n : kind === "until" ? stage <= n : stage === n;
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
    const suffix = SUFFIX_TAG.exec(line);
    if (suffix) {
      if (suffix[1] !== "since" && to === Infinity) {
        throw new StageTagError(`${where}: code of earlier stages only is written "// @${suffix[1]} ${suffix[2]}: code" in a file that reaches the final server, so that file stays the final server`);
      }
      if (shown && keep(suffix[1], Number(suffix[2]), stage)) out.push(line.slice(0, suffix.index));
      return;
    }
    const early = EARLY_LINE.exec(line);
    if (early) {
      if (shown && keep(early[2], Number(early[3]), stage)) out.push(early[1] + early[4]);
      return;
    }
    if (ANY_TAG.test(line)) throw new StageTagError(`${where}: malformed stage tag; see the list at the top of packages/course/variant/views.mjs`);
    // Inside an @until or @only block of a file that reaches the final
    // server, the code is written as comments. A file of an earlier form
    // (its @stages range ends) is never part of the final server, so its
    // blocks hold live code.
    const commented = to === Infinity && open.some((o) => o.kind !== "since");
    if (commented && line.trim() !== "") {
      const c = COMMENTED.exec(line);
      if (c === null) throw new StageTagError(`${where}: inside an "@${open.findLast((o) => o.kind !== "since").kind}" block every line is written as a comment ("// code"), so the final file stays the final server`);
      if (/@solution\b/.test(c[2])) throw new StageTagError(`${where}: a solution region in code of earlier stages only; put that earlier form in a file of its own (@stages, @view-as) so its regions are live code`);
      if (shown) out.push(c[1] + c[2]);
      return;
    }
    if (shown) out.push(line);
  });
  if (open.length > 0) throw new StageTagError(`${file}:${open.at(-1).line}: "@${open.at(-1).kind} ${open.at(-1).n} begin" never ends`);
  // What a removed block leaves between two blank lines is one blank line.
  return out.join("\n").replace(/\n{3,}/g, "\n\n");
}

/**
 * A reference file as a copy of the course that ends at stage `last` holds
 * it (a student export): everything that only stages after `last` have is
 * removed, and every other tag is kept, so each view up to `last` renders as
 * it does from the whole reference. A file that only later stages have keeps
 * just its header, so the module path still exists.
 */
export function truncateAt(text, file, last) {
  const { from } = fileStages(text, file);
  if (from > last) {
    return text
      .split("\n")
      .filter((l) => STAGES.test(l) || VIEW_AS.test(l))
      .concat(["// This module comes with a later stage.", ""])
      .join("\n");
  }
  const out = [];
  const open = [];
  const later = (kind, n) => (kind === "since" || kind === "only") && n > last;
  for (const line of text.split("\n")) {
    const b = BLOCK_BEGIN.exec(line);
    if (b) {
      open.push({ kind: b[1], n: Number(b[2]) });
      if (!open.some((o) => later(o.kind, o.n))) out.push(line);
      continue;
    }
    const e = BLOCK_END.exec(line);
    if (e) {
      const top = open.pop();
      if (top !== undefined && !later(top.kind, top.n) && !open.some((o) => later(o.kind, o.n))) out.push(line);
      continue;
    }
    if (open.some((o) => later(o.kind, o.n))) continue;
    const suffix = SUFFIX_TAG.exec(line);
    if (suffix && later(suffix[1], Number(suffix[2]))) continue;
    const early = EARLY_LINE.exec(line);
    if (early && later(early[2], Number(early[3]))) continue;
    out.push(line);
  }
  return out.join("\n").replace(/\n{3,}/g, "\n\n");
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
  for (const pkg of serverPackages(root)) wanted.add(path.join(dir, "packages", pkg, "package.json"));
  const stale = [];
  const walk = (d) => {
    if (!fs.existsSync(d)) return;
    for (const e of fs.readdirSync(d, { withFileTypes: true })) {
      const p = path.join(d, e.name);
      if (e.name === "node_modules") continue;
      if (e.isDirectory()) walk(p);
      // Another process writing the same view: its file in flight is not stale.
      else if (e.name.endsWith(".tmp")) continue;
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
