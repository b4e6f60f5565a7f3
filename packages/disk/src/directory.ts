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
//   - It stays inside the served folder. The folder itself must lie in the
//     served folder, or be it (stage 12's boundary rules, on real paths),
//     and an entry that is a symbolic link is followed: it is listed only
//     when it leads to a regular file or a folder inside the served folder,
//     so the page never links out of it. (A file that others may not read
//     is still listed, as in C; asking for it gets the file module's 403.)
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
  // @solution stage-17 begin 1: Keep the folder inside the served folder
  //> Stage 12's boundary rules, for a folder, and asynchronous: resolve the
  //> served folder and then the folder to their real paths (fs.promises.realpath,
  //> which undoes ".." and follows links). The served folder failing: ERROR
  //> "realpath() failed", E_FAIL; the folder failing: ERROR and fileErrorCode.
  //> The folder may be the served folder itself, or lie inside it on a path
  //> boundary (isInside); otherwise WARNING "folder requested is outside of the
  //> served folder" with both real paths, E_PERMISSION. Then fs.promises.stat
  //> it (ERROR "stat() failed", fileErrorCode): not a folder is a WARNING and
  //> E_NOTFOUND. Return both real paths.
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
  // @solution end
}

/**
 * The entries of the folder `dir` (a real path inside the real path `root`,
 * or `root` itself) that a client may ask for, in listing order: folders
 * first, then files, each by name (sortEntries). Regular files and folders
 * are listed; a symbolic link is followed and listed as what it leads to,
 * when that is a regular file or a folder inside `root`. Anything else
 * (sockets, devices, broken links, links out of the folder, names that are
 * not UTF-8 and so could not be asked for) is left out. Throws when the
 * folder cannot be read.
 */
export async function directoryRead(dir: string, root: string): Promise<DirEntry[]> {
  // @solution stage-17 begin 2: Read the folder without blocking the loop
  //> Read the folder with fs.promises.readdir, its entries with their types
  //> (withFileTypes) and their names as bytes (encoding "buffer"): nothing
  //> synchronous, so the loop serves other clients while the disk answers.
  //> Node never gives "." and "..". For each entry: skip a name that utf8Name
  //> refuses; a regular file or a folder is listed as it is; a symbolic link
  //> is followed (its real path, which must be root or inside it, then a stat
  //> of that) and listed as the file or folder it leads to; anything else, or
  //> a link that fails, is left out. The entries can be looked at all at once
  //> (Promise.all). Return them in listing order (sortEntries).
  //> sortEntries: folders first, then files; within each, by name with < and
  //> > on the strings (not localeCompare, which depends on the machine).
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
  // @solution end
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
  // @solution stage-17 begin 2: Read the folder without blocking the loop
  return [...entries].sort((a, b) => (a.dir !== b.dir ? (a.dir ? -1 : 1) : a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  // @solution end
}

/** Text made safe to put into HTML, in an element or in a quoted attribute: & < > " ' become entities. */
export function htmlEscape(text: string): string {
  // @solution stage-17 begin 3: Escape what the page shows
  //> Five characters have a meaning in HTML, in text and in a quoted
  //> attribute: & < > " and '. Replace each by its character reference
  //> (&amp; &lt; &gt; &quot; &#39;), in one pass over the text, and leave
  //> every other character as it is (UTF-8 letters need nothing).
  const entities: Record<string, string> = { "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&#39;" };
  return text.replace(/[&<>"']/g, (c) => entities[c]!);
  // @solution end
}

/**
 * The request's (decoded) path as the listing shows it and builds on:
 * normalised as a browser would ("." and ".." resolved, empty segments
 * dropped), without a trailing slash. "/" and "//" give "", "/test/" gives
 * "/test".
 */
export function listingPath(pathname: string): string {
  // @solution stage-17 begin 4: Link each entry
  //> listingPath: the path normalised as a browser resolves a URL's path
  //> (path.posix has it: "." and ".." resolved, empty segments dropped),
  //> without its trailing slash, so the served folder is "" (not "/").
  //> entryHref: the segments of listingPath, then the entry's name, each
  //> percent-encoded on its own (encodeURIComponent: encodeURI leaves "#" and
  //> "?", which end a path) and each behind one "/". Never a trailing slash.
  const clean = path.posix.resolve("/", pathname);
  return clean === "/" ? "" : clean;
  // @solution end
}

/**
 * The link to the entry `name` of the folder the request's (decoded) path
 * `pathname` names: absolute, each segment percent-encoded, no empty
 * segment, and no trailing slash for a folder either. "/" and "cat.jpg" give
 * "/cat.jpg"; "/test/" and "a b#1.txt" give "/test/a%20b%231.txt".
 */
export function entryHref(pathname: string, name: string): string {
  // @solution stage-17 begin 4: Link each entry
  const segments = listingPath(pathname).split("/").slice(1);
  return [...segments, name].map((s) => `/${encodeURIComponent(s)}`).join("");
  // @solution end
}

/**
 * The listing page for the request's (decoded) path `pathname`: UTF-8, a
 * title "Directory: <path>", the heading eXpServer, "Index of <path>", and a
 * table with one row per entry, in the order given, each row a cell with
 * the entry's link; a folder's link text ends with "/" (its href does not).
 * Everything shown is escaped.
 */
export function directoryPage(pathname: string, entries: readonly DirEntry[]): string {
  // @solution stage-17 begin 5: Write the page
  //> The path shown is listingPath with one "/" after it, escaped. The head:
  //> <meta charset="utf-8"> first (the names are UTF-8), a viewport meta, the
  //> title "Directory: " and the path, and a little CSS if you like. The body:
  //> <h1>eXpServer</h1>, <h3>Index of&nbsp;PATH</h3>, <hr>, and a <table>
  //> with one row per entry, in the order given: <tr><td><a href="HREF">TEXT
  //> </a></td></tr>, where HREF is entryHref and TEXT the name, both escaped
  //> (htmlEscape), and a folder's TEXT ends with "/" (its HREF does not).
  //> No row for "." or "..".
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
  // @solution end
}
