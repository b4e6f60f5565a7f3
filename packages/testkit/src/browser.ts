// The one place that knows how to get a Chromium for the tests that need a
// real browser (stage 11's M10, and later stages).
//
// Order (findChromium):
//   1. XPS_CHROMIUM=/path: that browser, or an error naming it;
//   2. a system Chromium or Chrome: chromium, chromium-browser, google-chrome,
//      google-chrome-stable on PATH, then the same names in /usr/bin (and the
//      usual app bundles on macOS). A candidate that does not answer
//      `--version` (Ubuntu's snap shim, a broken install) is skipped;
//   3. the Chromium that `pnpm install` brings: the npm package
//      @sparticuz/chromium ships a brotli-compressed Linux x64 build, its
//      NSS libraries and a font. It is unpacked once into
//      $TMPDIR/xps-chromium-<version>-<uid>/ (about 200 MB) and reused.
// XPS_HIDE_SYSTEM_BROWSERS=1 skips 1 and 2, so the bundled path can be
// proven on a machine that has a browser installed.
//
// Why not @sparticuz/chromium's own executablePath(): it is written for AWS
// Lambda. It unpacks to $TMPDIR/chromium, a name it shares with every other
// version of the package, and trusts whatever is there (a copy cut short by
// Ctrl+C, or another project's version); two test processes unpacking at once
// can run a half-written file; and it unpacks the NSS libraries and sets
// LD_LIBRARY_PATH and FONTCONFIG_PATH only on Amazon Linux, so on a Debian
// without libnss3 the binary does not start. Here the package's files are
// unpacked into a private folder that is renamed into place only when
// complete, and the bundled browser always runs with its own libraries and
// fonts, so it behaves the same on every machine.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import { createRequire } from "node:module";
import os from "node:os";
import path from "node:path";
import { pipeline } from "node:stream/promises";
import { promisify } from "node:util";
import zlib from "node:zlib";
import type { Browser, LaunchOptions } from "playwright-core";

/** A browser the finder chose. */
export interface FoundChromium {
  /** The binary to run. */
  executablePath: string;
  /** Where it came from. */
  source: "XPS_CHROMIUM" | "system" | "bundled";
  /** For failure messages: "system /usr/bin/chromium (Chromium 120.0.6099.224)", "bundled @sparticuz/chromium 143.0.4 (...)". */
  used: string;
  /** Extra environment the browser needs (the bundled one: its libraries and fonts). */
  env: Record<string, string>;
  /** Bundled only: true when this call unpacked it (the first launch on this machine). */
  unpacked?: boolean;
  /** System candidates skipped because they did not answer --version, with why. */
  skipped: string[];
}

/** No browser can be had; the message says what to do. */
export class ChromiumUnavailableError extends Error {
  override name = "ChromiumUnavailableError";
}

/** The names looked for on PATH and in /usr/bin, in this order. */
export const SYSTEM_BROWSER_NAMES = ["chromium", "chromium-browser", "google-chrome", "google-chrome-stable"] as const;

const MAC_APPS = [
  "/Applications/Chromium.app/Contents/MacOS/Chromium",
  "/Applications/Google Chrome.app/Contents/MacOS/Google Chrome",
];

/** The flags every launch uses: headless, as root, offline, nothing phoning home. */
export const CHROMIUM_ARGS = [
  "--no-sandbox", // the tests run as root in CI, where the sandbox cannot start
  "--disable-gpu",
  "--disable-quic",
  "--no-first-run",
  "--disable-background-networking",
  "--disable-component-update",
  "--disable-sync",
] as const;

function flag(value: string | undefined): boolean {
  return value !== undefined && !["", "0", "false", "no"].includes(value.trim().toLowerCase());
}

/** Why `file` cannot be run, or null when it can. */
function notExecutable(file: string): string | null {
  let st: fs.Stats;
  try {
    st = fs.statSync(file);
  } catch {
    return "does not exist";
  }
  if (!st.isFile()) return "is not a file";
  try {
    fs.accessSync(file, fs.constants.X_OK);
  } catch {
    return "is not executable";
  }
  return null;
}

/** The browser's answer to --version, or why it gave none. */
function probeVersion(file: string, env: NodeJS.ProcessEnv): { version: string } | { error: string } {
  const r = spawnSync(file, ["--version"], { env, encoding: "utf8", timeout: 15_000 });
  if (r.error) return { error: r.error.message };
  const out = `${r.stdout ?? ""}${r.stderr ?? ""}`.trim();
  if (r.status !== 0) return { error: `\`${file} --version\` exited ${r.status ?? r.signal}${out ? `: ${out.split("\n")[0]}` : ""}` };
  const line = out.split("\n").find((l) => /\d+\.\d+/.test(l));
  return line ? { version: line.trim() } : { error: `\`${file} --version\` printed no version${out ? ` (${out.split("\n")[0]})` : ""}` };
}

export interface FinderOptions {
  /** Folders searched for the same names after PATH (default /usr/bin). */
  fallbackDirs?: string[];
}

/** The system candidates in the finder's order (existing executables only, no duplicates). */
export function systemCandidates(env: NodeJS.ProcessEnv = process.env, opts: FinderOptions = {}): string[] {
  const dirs = (env.PATH ?? "").split(path.delimiter).filter((d) => d !== "");
  const found: string[] = [];
  const add = (file: string): void => {
    if (notExecutable(file) === null && !found.includes(file)) found.push(file);
  };
  for (const name of SYSTEM_BROWSER_NAMES) {
    for (const dir of dirs) {
      const file = path.join(dir, name);
      if (notExecutable(file) === null) {
        add(file);
        break;
      }
    }
  }
  for (const dir of opts.fallbackDirs ?? ["/usr/bin"]) for (const name of SYSTEM_BROWSER_NAMES) add(path.join(dir, name));
  if (process.platform === "darwin") for (const app of MAC_APPS) add(app);
  return found;
}

interface SystemSearch {
  found: FoundChromium | null;
  /** Candidates that did not answer --version, with why. */
  skipped: string[];
}

function searchSystem(env: NodeJS.ProcessEnv, opts: FinderOptions): SystemSearch {
  if (flag(env.XPS_HIDE_SYSTEM_BROWSERS)) return { found: null, skipped: [] };
  const chosen = env.XPS_CHROMIUM;
  if (chosen !== undefined && chosen !== "") {
    const why = notExecutable(chosen);
    if (why !== null) {
      throw new ChromiumUnavailableError(`XPS_CHROMIUM=${chosen} ${why}: point it at a Chromium or Chrome binary, or unset it to use a system or the bundled Chromium`);
    }
    const v = probeVersion(chosen, env);
    if ("error" in v) throw new ChromiumUnavailableError(`XPS_CHROMIUM=${chosen} does not run: ${v.error}`);
    return { found: { executablePath: chosen, source: "XPS_CHROMIUM", used: `XPS_CHROMIUM=${chosen} (${v.version})`, env: {}, skipped: [] }, skipped: [] };
  }
  const skipped: string[] = [];
  for (const file of systemCandidates(env, opts)) {
    const v = probeVersion(file, env);
    if ("error" in v) {
      skipped.push(`${file}: ${v.error}`);
      continue;
    }
    return { found: { executablePath: file, source: "system", used: `system ${file} (${v.version})`, env: {}, skipped }, skipped };
  }
  return { found: null, skipped };
}

/**
 * XPS_CHROMIUM, else the first system browser that answers --version, else
 * null. Throws when XPS_CHROMIUM is set but cannot be used (an explicit
 * choice is never passed over). Null straight away under
 * XPS_HIDE_SYSTEM_BROWSERS, which hides XPS_CHROMIUM too.
 */
export function findSystemChromium(env: NodeJS.ProcessEnv = process.env, opts: FinderOptions = {}): FoundChromium | null {
  return searchSystem(env, opts).found;
}

// ------------------------------------------------------------ the bundled Chromium

const PACKAGE = "@sparticuz/chromium";

interface Bundle {
  version: string;
  bin: string;
}

/** Where pnpm install put @sparticuz/chromium, or an error saying it did not. */
function locateBundle(): Bundle {
  let entry: string;
  try {
    entry = createRequire(import.meta.url).resolve(PACKAGE);
  } catch {
    throw new ChromiumUnavailableError(
      `no system Chromium, and ${PACKAGE} is not installed: run \`pnpm install\` at the repository's root (it brings the browser as an npm package), or set XPS_CHROMIUM=/path/to/chromium`,
    );
  }
  let dir = path.dirname(entry);
  while (!fs.existsSync(path.join(dir, "package.json")) || JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")).name !== PACKAGE) {
    const up = path.dirname(dir);
    if (up === dir) throw new ChromiumUnavailableError(`found ${entry} but not the package.json of ${PACKAGE} above it: reinstall with \`pnpm install\``);
    dir = up;
  }
  const version = (JSON.parse(fs.readFileSync(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
  const bin = path.join(dir, "bin");
  for (const f of ["chromium.br", "fonts.tar.br", "swiftshader.tar.br", "al2023.tar.br"]) {
    if (!fs.existsSync(path.join(bin, f))) {
      throw new ChromiumUnavailableError(`${PACKAGE} ${version} is installed but ${path.join(bin, f)} is missing: reinstall it (\`rm -rf node_modules && pnpm install\`), or set XPS_CHROMIUM=/path/to/chromium`);
    }
  }
  return { version, bin };
}

const brotli = promisify(zlib.brotliDecompress);

/** Unpack a brotli-compressed tar of plain files and folders (what the package ships) into `dest`. */
async function untarBrotli(file: string, dest: string): Promise<void> {
  const tar = await brotli(await fs.promises.readFile(file));
  const text = (b: Buffer): string => b.toString("utf8").replace(/\0.*$/s, "");
  for (let at = 0; at + 512 <= tar.length; ) {
    const header = tar.subarray(at, at + 512);
    if (header.every((b) => b === 0)) break;
    // POSIX ustar keeps a name prefix at 345; GNU tar (magic "ustar ") keeps times there.
    const prefix = text(header.subarray(257, 263)) === "ustar" ? text(header.subarray(345, 500)) : "";
    const name = (prefix ? `${prefix}/` : "") + text(header.subarray(0, 100));
    const size = parseInt(text(header.subarray(124, 136)).trim() || "0", 8);
    const mode = parseInt(text(header.subarray(100, 108)).trim() || "644", 8) & 0o777;
    const type = String.fromCharCode(header[156] ?? 0);
    const target = path.resolve(dest, name);
    if (path.isAbsolute(name) || !target.startsWith(path.resolve(dest) + path.sep)) throw new Error(`${file}: entry ${JSON.stringify(name)} points outside the folder`);
    if (type === "5") {
      fs.mkdirSync(target, { recursive: true });
    } else if (type === "0" || type === "\0") {
      fs.mkdirSync(path.dirname(target), { recursive: true });
      fs.writeFileSync(target, tar.subarray(at + 512, at + 512 + size), { mode: mode | 0o600 });
    } else {
      throw new Error(`${file}: tar entry ${JSON.stringify(name)} has type ${JSON.stringify(type)}, which this unpacker does not handle`);
    }
    at += 512 + Math.ceil(size / 512) * 512;
  }
}

const MANIFEST = "xps-unpacked.json";

/** The unpacked folder is whole: the manifest is there and the binary has the size it records. */
function complete(dir: string): boolean {
  try {
    const m = JSON.parse(fs.readFileSync(path.join(dir, MANIFEST), "utf8")) as { chromiumBytes: number };
    return fs.statSync(path.join(dir, "chromium")).size === m.chromiumBytes;
  } catch {
    return false;
  }
}

function explainFsError(err: unknown, where: string): string {
  const e = err as NodeJS.ErrnoException;
  const base = `could not unpack the bundled Chromium into ${where}: ${e.message}`;
  if (e.code === "ENOSPC") return `${base} (it needs about 200 MB free; free some space or set TMPDIR to a folder with room)`;
  if (e.code === "EACCES" || e.code === "EPERM" || e.code === "EROFS") return `${base} (set TMPDIR to a writable folder)`;
  return base;
}

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Staging folders (200 MB each) of unpacks whose process is gone: killed, or Ctrl+C. */
function removeAbandoned(dir: string): void {
  const parent = path.dirname(dir);
  const stem = `${path.basename(dir)}.`;
  let names: string[];
  try {
    names = fs.readdirSync(parent).filter((n) => n.startsWith(stem) && /\.(partial|broken)-/.test(n));
  } catch {
    return;
  }
  for (const n of names) {
    const pid = Number(/\.(?:partial|broken)-(\d+)-/.exec(n)?.[1]);
    try {
      if (pid > 0 && !alive(pid)) fs.rmSync(path.join(parent, n), { recursive: true, force: true });
    } catch {
      // gone already
    }
  }
}

/** Unpacks under way or done in this process, by folder. */
const unpacking = new Map<string, Promise<{ dir: string; unpacked: boolean }>>();

/** Unpack `bundle` into `dir` (once per machine) and return the folder. */
async function unpackBundle(bundle: Bundle, dir: string): Promise<{ dir: string; unpacked: boolean }> {
  const st = fs.lstatSync(dir, { throwIfNoEntry: false });
  if (st !== undefined && (st.uid !== (process.getuid?.() ?? 0) || !st.isDirectory() || (st.mode & 0o022) !== 0)) {
    throw new ChromiumUnavailableError(`${dir} is not a folder of yours that only you can write: remove it, set TMPDIR to another folder, or set XPS_CHROMIUM=/path/to/chromium`);
  }
  removeAbandoned(dir);
  if (complete(dir)) return { dir, unpacked: false };
  let staging: string;
  try {
    staging = fs.mkdtempSync(`${dir}.partial-${process.pid}-`);
  } catch (err) {
    throw new ChromiumUnavailableError(`${explainFsError(err, path.dirname(dir))}; or set XPS_CHROMIUM=/path/to/chromium`);
  }
  try {
    await Promise.all([
      pipeline(fs.createReadStream(path.join(bundle.bin, "chromium.br")), zlib.createBrotliDecompress(), fs.createWriteStream(path.join(staging, "chromium"), { mode: 0o755 })),
      untarBrotli(path.join(bundle.bin, "swiftshader.tar.br"), staging),
      untarBrotli(path.join(bundle.bin, "fonts.tar.br"), path.join(staging, "fonts")),
      untarBrotli(path.join(bundle.bin, "al2023.tar.br"), staging), // lib/: libnss3, libnspr4, libexpat, ...
    ]);
    fs.chmodSync(path.join(staging, "chromium"), 0o755);
    // The package's fonts.conf names /tmp/fonts; this one names the folder it is in.
    const fonts = path.join(dir, "fonts");
    fs.writeFileSync(
      path.join(staging, "fonts", "fonts.conf"),
      [
        '<?xml version="1.0"?>',
        '<!DOCTYPE fontconfig SYSTEM "fonts.dtd">',
        "<fontconfig>",
        `  <dir>${fonts}/fonts</dir>`,
        '  <include ignore_missing="yes">/etc/fonts/fonts.conf</include>',
        `  <cachedir>${fonts}/cache</cachedir>`,
        "</fontconfig>",
        "",
      ].join("\n"),
    );
    const chromiumBytes = fs.statSync(path.join(staging, "chromium")).size;
    fs.writeFileSync(path.join(staging, MANIFEST), `${JSON.stringify({ package: `${PACKAGE}@${bundle.version}`, chromiumBytes })}\n`);
  } catch (err) {
    fs.rmSync(staging, { recursive: true, force: true });
    throw new ChromiumUnavailableError(`${explainFsError(err, staging)}; or set XPS_CHROMIUM=/path/to/chromium`);
  }
  // A broken earlier copy (cut short before this scheme, or emptied by a cleaner) goes aside first.
  if (fs.existsSync(dir) && !complete(dir)) {
    const aside = `${dir}.broken-${process.pid}-${Date.now()}`;
    try {
      fs.renameSync(dir, aside);
      fs.rmSync(aside, { recursive: true, force: true });
    } catch {
      // another process is doing the same
    }
  }
  try {
    fs.renameSync(staging, dir);
  } catch (err) {
    // Another process finished first: use its copy.
    fs.rmSync(staging, { recursive: true, force: true });
    if (!complete(dir)) throw new ChromiumUnavailableError(`${explainFsError(err, dir)}; or set XPS_CHROMIUM=/path/to/chromium`);
    return { dir, unpacked: false };
  }
  return { dir, unpacked: true };
}

/** The bundled Chromium, unpacked if need be. */
export async function bundledChromium(env: NodeJS.ProcessEnv = process.env): Promise<FoundChromium> {
  if (process.platform !== "linux" || process.arch !== "x64") {
    throw new ChromiumUnavailableError(
      `no system Chromium was found, and the bundled one (${PACKAGE}) is a Linux x64 build, which cannot run on ${process.platform}/${process.arch}: install Chromium or Chrome, or set XPS_CHROMIUM=/path/to/it`,
    );
  }
  const bundle = locateBundle();
  // One folder per user: a binary in a shared /tmp is trusted only if it is ours.
  const tmp = env.TMPDIR ? path.resolve(env.TMPDIR) : os.tmpdir();
  const target = path.join(tmp, `xps-chromium-${bundle.version}-${process.getuid?.() ?? 0}`);
  let job = unpacking.get(target);
  const first = job === undefined;
  if (job === undefined) {
    job = unpackBundle(bundle, target);
    unpacking.set(target, job);
    job.catch(() => unpacking.delete(target));
  }
  const { dir, unpacked } = await job;
  const lib = path.join(dir, "lib");
  const ld = env.LD_LIBRARY_PATH;
  return {
    executablePath: path.join(dir, "chromium"),
    source: "bundled",
    used: `bundled ${PACKAGE} ${bundle.version} (unpacked in ${dir})`,
    env: { LD_LIBRARY_PATH: ld ? `${lib}:${ld}` : lib, FONTCONFIG_PATH: path.join(dir, "fonts") },
    unpacked: unpacked && first,
    skipped: [],
  };
}

/** XPS_CHROMIUM, a system browser, or the bundled one (see the top of this file). */
export async function findChromium(env: NodeJS.ProcessEnv = process.env, opts: FinderOptions = {}): Promise<FoundChromium> {
  const system = searchSystem(env, opts);
  if (system.found !== null) return system.found;
  try {
    return { ...(await bundledChromium(env)), skipped: system.skipped };
  } catch (err) {
    if (err instanceof ChromiumUnavailableError && system.skipped.length > 0) {
      err.message += ` (system browsers skipped: ${system.skipped.join("; ")})`;
    }
    throw err;
  }
}

// ------------------------------------------------------------ launching

/** A running headless Chromium. */
export interface LaunchedChromium {
  browser: Browser;
  /** Which browser this is, for failure messages (FoundChromium.used). */
  used: string;
  found: FoundChromium;
  /** Closes the browser; Playwright removes its temporary profile (--user-data-dir). */
  close(): Promise<void>;
}

export interface LaunchChromiumOptions extends FinderOptions {
  /** Flags after CHROMIUM_ARGS. */
  args?: string[];
  /** Milliseconds to wait for the browser to start (default 30 s). */
  timeout?: number;
  /** Where to look (default process.env). */
  env?: NodeJS.ProcessEnv;
}

/**
 * Find a Chromium and start it headless with CHROMIUM_ARGS, through
 * playwright-core (which never downloads a browser). Playwright gives it a
 * fresh temporary profile in $TMPDIR and removes it when the browser closes.
 */
export async function launchChromium(opts: LaunchChromiumOptions = {}): Promise<LaunchedChromium> {
  const env = opts.env ?? process.env;
  const found = await findChromium(env, opts);
  const { chromium } = await import("playwright-core");
  const launch: LaunchOptions = {
    executablePath: found.executablePath,
    headless: true,
    args: [...CHROMIUM_ARGS, ...(opts.args ?? [])],
    env: { ...env, ...found.env } as Record<string, string>,
    timeout: opts.timeout ?? 30_000,
  };
  let browser: Browser;
  try {
    browser = await chromium.launch(launch);
  } catch (err) {
    const msg = (err as Error).message.split("\n").filter((l) => l.trim() !== "").slice(0, 6).join("\n  ");
    const noexec = /EACCES|permission denied/i.test(msg) && found.source === "bundled" ? ` (is ${path.dirname(path.dirname(found.executablePath))} mounted noexec? set TMPDIR to another folder)` : "";
    throw new ChromiumUnavailableError(`${found.used} did not start${noexec}: ${msg}`);
  }
  return { browser, used: found.used, found, close: () => browser.close() };
}
