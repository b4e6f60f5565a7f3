// stage-12: your copy of packages/disk/src/mime.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-12` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-12` restores this version.

// The MIME lookup (xps_mime.c, stage 12): which media type a file is, by
// its extension, so that the HTTP stages can say it in Content-Type. The
// table itself is built from mime-db (mime-table.ts).
import { MIME_TYPES } from "@xps/disk/mime-table";
import { todo } from "@xps/utils/todo";

/**
 * get_file_ext (xps_utils.c): the extension of a path, with its dot, or null.
 * The extension starts at the last "." of the path, and only counts when
 * that dot comes after the last "/": "a/b.tar.gz" gives ".gz", "a.d/README"
 * gives null, and a dot file such as "public/.txt" gives ".txt" (as in C).
 */
export function getFileExt(filePath: string): string | null {
  // TODO(stage-12 #6): Look up a MIME type
  // getFileExt: find the last "." and the last "/" of the path. Without a
  // dot, or with the dot before the last slash, there is no extension
  // (null); otherwise it is everything from the dot on, dot included. (Not
  // path.extname, which says a dot file has no extension.)
  // getMime: take the path's extension and return the value of the first
  // row of MIME_TYPES whose key is exactly that extension (the keys have
  // their dot, and the match is exact, capitals included, as in C); null
  // when there is no extension or no row has it.
  throw todo("stage-12", 6, "Look up a MIME type");
}

/** xps_get_mime: the media type of a file by its extension, or null when the table does not know it. */
export function getMime(filePath: string): string | null {
  // TODO(stage-12 #6): Look up a MIME type
  throw todo("stage-12", 6, "Look up a MIME type");
}
