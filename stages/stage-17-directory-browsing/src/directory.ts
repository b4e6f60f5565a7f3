// stage-17: your copy of packages/disk/src/directory.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-17` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-17` restores this version.

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
import { todo } from "@xps/utils/todo";

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
  // TODO(stage-17 #1): Keep the folder inside the served folder
  // Stage 12's boundary rules, for a folder, and asynchronous: resolve the
  // served folder and then the folder to their real paths (fs.promises.realpath,
  // which undoes ".." and follows links). The served folder failing: ERROR
  // "realpath() failed", E_FAIL; the folder failing: ERROR and fileErrorCode.
  // The folder may be the served folder itself, or lie inside it on a path
  // boundary (isInside); otherwise WARNING "folder requested is outside of the
  // served folder" with both real paths, E_PERMISSION. Then fs.promises.stat
  // it (ERROR "stat() failed", fileErrorCode): not a folder is a WARNING and
  // E_NOTFOUND. Return both real paths.
  throw todo("stage-17", 1, "Keep the folder inside the served folder");
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
  // TODO(stage-17 #2): Read the folder without blocking the loop
  // Read the folder with fs.promises.readdir, its entries with their types
  // (withFileTypes) and their names as bytes (encoding "buffer"): nothing
  // synchronous, so the loop serves other clients while the disk answers.
  // Node never gives "." and "..". For each entry: skip a name that utf8Name
  // refuses; a regular file or a folder is listed as it is; a symbolic link
  // is followed (its real path, which must be root or inside it, then a stat
  // of that) and listed as the file or folder it leads to; anything else, or
  // a link that fails, is left out. The entries can be looked at all at once
  // (Promise.all). Return them in listing order (sortEntries).
  // sortEntries: folders first, then files; within each, by name with < and
  // > on the strings (not localeCompare, which depends on the machine).
  throw todo("stage-17", 2, "Read the folder without blocking the loop");
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
  // TODO(stage-17 #2): Read the folder without blocking the loop
  throw todo("stage-17", 2, "Read the folder without blocking the loop");
}

/** Text made safe to put into HTML, in an element or in a quoted attribute: & < > " ' become entities. */
export function htmlEscape(text: string): string {
  // TODO(stage-17 #3): Escape what the page shows
  // Five characters have a meaning in HTML, in text and in a quoted
  // attribute: & < > " and '. Replace each by its character reference
  // (&amp; &lt; &gt; &quot; &#39;), in one pass over the text, and leave
  // every other character as it is (UTF-8 letters need nothing).
  throw todo("stage-17", 3, "Escape what the page shows");
}

/**
 * The request's (decoded) path as the listing shows it and builds on:
 * normalised as a browser would ("." and ".." resolved, empty segments
 * dropped), without a trailing slash. "/" and "//" give "", "/test/" gives
 * "/test".
 */
export function listingPath(pathname: string): string {
  // TODO(stage-17 #4): Link each entry
  // listingPath: the path normalised as a browser resolves a URL's path
  // (path.posix has it: "." and ".." resolved, empty segments dropped),
  // without its trailing slash, so the served folder is "" (not "/").
  // entryHref: the segments of listingPath, then the entry's name, each
  // percent-encoded on its own (encodeURIComponent: encodeURI leaves "#" and
  // "?", which end a path) and each behind one "/". Never a trailing slash.
  throw todo("stage-17", 4, "Link each entry");
}

/**
 * The link to the entry `name` of the folder the request's (decoded) path
 * `pathname` names: absolute, each segment percent-encoded, no empty
 * segment, and no trailing slash for a folder either. "/" and "cat.jpg" give
 * "/cat.jpg"; "/test/" and "a b#1.txt" give "/test/a%20b%231.txt".
 */
export function entryHref(pathname: string, name: string): string {
  // TODO(stage-17 #4): Link each entry
  throw todo("stage-17", 4, "Link each entry");
}

/**
 * The listing page for the request's (decoded) path `pathname`: UTF-8, a
 * title "Directory: <path>", the heading eXpServer, "Index of <path>", and a
 * table with one row per entry, in the order given, each row a cell with
 * the entry's link; a folder's link text ends with "/" (its href does not).
 * Everything shown is escaped.
 */
export function directoryPage(pathname: string, entries: readonly DirEntry[]): string {
  // TODO(stage-17 #5): Write the page
  // The path shown is listingPath with one "/" after it, escaped. The head:
  // <meta charset="utf-8"> first (the names are UTF-8), a viewport meta, the
  // title "Directory: " and the path, and a little CSS if you like. The body:
  // <h1>eXpServer</h1>, <h3>Index of&nbsp;PATH</h3>, <hr>, and a <table>
  // with one row per entry, in the order given: <tr><td><a href="HREF">TEXT
  // </a></td></tr>, where HREF is entryHref and TEXT the name, both escaped
  // (htmlEscape), and a folder's TEXT ends with "/" (its HREF does not).
  // No row for "." or "..".
  throw todo("stage-17", 5, "Write the page");
}
