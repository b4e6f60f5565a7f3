// @stages 17-
// Directory browsing (xps_directory.c, stage 17): the HTML page that lists a
// folder which has no index file, so that a browser can walk the public
// folder link by link.
//
// Three things a listing must get right that the C course's sprintf into a
// buffer does not:
//
//   - What it shows is escaped. A file name is text chosen by whoever can
//     write into the folder: "<img src=x onerror=alert(1)>.txt" must show
//     as those characters, not run (htmlEscape).
//   - Its links work for any name. Each segment of an href is
//     percent-encoded (a space, "#", "?", "%", quotes and non-ASCII letters
//     would otherwise break the URL or change its meaning), the session
//     decodes the request's path before it resolves it, and the link is
//     absolute, built from the request's path with its empty segments
//     dropped: "/" and "//" both give "/cat.jpg", "/test" and "/test/" give
//     "/test/cat.jpg" (entryHref).
//   - It lists only what the server would serve. The folder itself must lie
//     in the served folder, or be it (stage 12's boundary rules, on real
//     paths), and an entry that is a symbolic link is followed: it is listed
//     only when it leads to a regular file or a folder inside the served
//     folder, so the page never links to what the server would refuse.
//
// Reading is where Node differs from C. C's opendir()/readdir() and the
// fstat() of every entry block the thread; here every file system call goes
// through libuv's thread pool (fs.promises: readdir with withFileTypes, so
// that an entry's type comes with its name and only symbolic links need a
// realpath() and a stat()), and the listing is a promise. The loop keeps
// serving other clients while the disk answers; the session sends the page
// once the promise settles. Building the page itself is plain string work
// on the loop's thread, proportional to the number of entries, as nginx's
// autoindex builds its page in one go.
import fs from "node:fs";
import path from "node:path";
import { E_FAIL, E_NOTFOUND, E_PERMISSION, OK, logger } from "@xps/utils";
import { fileErrorCode, fsReason, isInside } from "@xps/disk/file";

/** One entry of a listing: its name, and whether it is a folder (otherwise a regular file). */
export interface DirEntry {
  name: string;
  dir: boolean;
}

/** What directoryBrowsing gives: the page and OK, or null and why (E_PERMISSION, E_NOTFOUND, E_FAIL). */
export type ListingResult = { page: Buffer; error: typeof OK } | { page: null; error: number };

/**
 * xps_directory_browsing: the HTML listing of the folder `dirPath`, for the
 * request whose (percent-decoded) path is `pathname`, if the folder lies in
 * the served folder `root` (or is it). Each refusal logs one line that says
 * why, as fileCreate's do.
 */
export async function directoryBrowsing(dirPath: string, pathname: string, root: string): Promise<ListingResult> {
  const resolved = await directoryResolve(dirPath, root);
  if (typeof resolved === "number") return { page: null, error: resolved };
  let entries: DirEntry[];
  try {
    entries = await directoryRead(resolved.dir, resolved.root);
  } catch (err) {
    logger("ERROR", "directoryBrowsing()", `readdir() failed for ${resolved.dir}: ${fsReason(err)}`);
    return { page: null, error: fileErrorCode(err) };
  }
  return { page: Buffer.from(directoryPage(pathname, entries), "utf8"), error: OK };
}

/**
 * The real paths of the folder and of the served folder, when the folder
 * is the served one or lies inside it on a path boundary; otherwise the code
 * that says why not, after a log line.
 */
export async function directoryResolve(dirPath: string, root: string): Promise<{ dir: string; root: string } | number> {
  let realRoot: string;
  try {
    realRoot = await fs.promises.realpath(root);
  } catch (err) {
    logger("ERROR", "directoryBrowsing()", `realpath() failed for the served folder ${root}: ${fsReason(err)}`);
    return E_FAIL;
  }
  let real: string;
  try {
    real = await fs.promises.realpath(dirPath);
  } catch (err) {
    logger("ERROR", "directoryBrowsing()", `realpath() failed for ${dirPath}: ${fsReason(err)}`);
    return fileErrorCode(err);
  }
  if (real !== realRoot && !isInside(real, realRoot)) {
    logger("WARNING", "directoryBrowsing()", `folder requested is outside of the served folder: ${dirPath} is ${real}, which is not inside ${realRoot}`);
    return E_PERMISSION;
  }
  let stat: fs.Stats;
  try {
    stat = await fs.promises.stat(real);
  } catch (err) {
    logger("ERROR", "directoryBrowsing()", `stat() failed for ${real}: ${fsReason(err)}`);
    return fileErrorCode(err);
  }
  if (!stat.isDirectory()) {
    logger("WARNING", "directoryBrowsing()", `${real} is not a folder`);
    return E_NOTFOUND;
  }
  return { dir: real, root: realRoot };
}

/**
 * The entries of the folder `dir` (a real path inside the real path `root`,
 * or `root` itself) that the server would serve, in listing order: folders
 * first, then files, each by name (sortEntries). Regular files and folders
 * are listed; a symbolic link is followed and listed as what it leads to,
 * when that is a regular file or a folder inside `root`. Anything else
 * (sockets, devices, broken links, links out of the folder, names that are
 * not UTF-8 and so could not be asked for) is left out. Throws when the
 * folder cannot be read.
 */
export async function directoryRead(dir: string, root: string): Promise<DirEntry[]> {
  const dirents = await fs.promises.readdir(dir, { withFileTypes: true, encoding: "buffer" });
  const entries = await Promise.all(
    dirents.map(async (d): Promise<DirEntry | null> => {
      const name = utf8Name(d.name);
      if (name === null) return null;
      if (d.isFile()) return { name, dir: false };
      if (d.isDirectory()) return { name, dir: true };
      if (!d.isSymbolicLink()) return null;
      try {
        const real = await fs.promises.realpath(path.join(dir, name));
        if (real !== root && !isInside(real, root)) return null;
        const stat = await fs.promises.stat(real);
        return stat.isFile() ? { name, dir: false } : stat.isDirectory() ? { name, dir: true } : null;
      } catch {
        return null;
      }
    }),
  );
  return sortEntries(entries.filter((e) => e !== null));
}

/** The name as a string when its bytes are UTF-8 (a request's path decodes as UTF-8, so only those can be asked for), else null. */
function utf8Name(bytes: Buffer): string | null {
  const name = bytes.toString("utf8");
  return Buffer.byteLength(name, "utf8") === bytes.length && Buffer.from(name, "utf8").equals(bytes) ? name : null;
}

/**
 * Listing order: folders first, then files, each by name compared code
 * unit by code unit (as JavaScript's < compares strings), which is the same
 * on every machine whatever its locale. Sorts a copy.
 */
export function sortEntries(entries: readonly DirEntry[]): DirEntry[] {
  return [...entries].sort((a, b) => (a.dir !== b.dir ? (a.dir ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

const HTML_ESCAPES: Readonly<Record<string, string>> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };

/** Text made safe to put into HTML, in an element or in a quoted attribute: & < > " ' become entities. */
export function htmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => HTML_ESCAPES[c]!);
}

/**
 * The request's (decoded) path as the listing shows it and builds on:
 * normalised as a browser would ("." and ".." resolved, empty segments
 * dropped), without a trailing slash. "/" and "//" give "", "/test/" gives
 * "/test".
 */
export function listingPath(pathname: string): string {
  const clean = path.posix.resolve("/", pathname);
  return clean === "/" ? "" : clean;
}

/**
 * The link to the entry `name` of the folder the request's (decoded) path
 * `pathname` names: absolute, each segment percent-encoded, no empty
 * segment, and no trailing slash for a folder either. "/" and "cat.jpg" give
 * "/cat.jpg"; "/test/" and "a b#1.txt" give "/test/a%20b%231.txt".
 */
export function entryHref(pathname: string, name: string): string {
  const segments = listingPath(pathname).split("/").slice(1);
  return [...segments, name].map((s) => `/${encodeURIComponent(s)}`).join("");
}

/**
 * The listing page for the request's (decoded) path `pathname`: UTF-8, a
 * title "Directory: <path>", the heading eXpServer, "Index of <path>", and a
 * table with one row per entry, in the order given, each row a cell with
 * the entry's link; a folder's link text ends with "/" (its href does not).
 * Everything shown is escaped.
 */
export function directoryPage(pathname: string, entries: readonly DirEntry[]): string {
  const shown = htmlEscape(`${listingPath(pathname)}/`);
  const rows = entries.map((e) => `<tr><td><a href="${htmlEscape(entryHref(pathname, e.name))}">${htmlEscape(e.name)}${e.dir ? "/" : ""}</a></td></tr>\n`);
  return [
    "<!DOCTYPE html>\n",
    '<html lang="en">\n<head>\n<meta charset="utf-8">\n',
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
    `<title>Directory: ${shown}</title>\n`,
    "<style>\n",
    "body { font-family: monospace; font-size: 15px; margin: 1em 2em; }\n",
    "h1, h3 { font-family: serif; }\n",
    "h3 { background: #e8e8e8; padding: 0.3em 0.5em; font-weight: normal; }\n",
    "td { padding: 0.15em 1em 0.15em 0; }\n",
    "</style>\n</head>\n<body>\n",
    "<h1>eXpServer</h1>\n",
    `<h3>Index of&nbsp;${shown}</h3>\n`,
    "<hr>\n<table>\n",
    ...rows,
    "</table>\n</body>\n</html>\n",
  ].join("");
}
