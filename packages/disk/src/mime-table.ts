// @stages 12-
// The MIME table (the C course's `mime_types[]` in xps_mime.c, stage 12):
// one row per file extension, with its dot, and the media type it stands for.
//
// The C course copies a long list by hand. This table is built from mime-db
// (the data package behind the npm `mime-types` module and many servers),
// so it says what that well-kept database says, and `pnpm update mime-db`
// brings it up to date. Like the C list it may hold an extension more than
// once; a lookup takes the first row that matches (getMime in mime.ts).
// Rows are ordered so that the first one is the best claim:
//   1. the source of the claim: IANA's registry first, then mime-db's own
//      entries, then Apache's list, then nginx's;
//   2. among claims of one source, a specific kind of media (text, image,
//      audio, video, ...) before the generic "application";
//   3. otherwise mime-db's own order.
// So .mp4 gives video/mp4 (not application/mp4), .js gives text/javascript
// (IANA) rather than Apache's application/javascript, and the types the HTTP
// stages' tests need hold: .jpg/.jpeg image/jpeg, .json application/json,
// .pdf application/pdf, .html/.htm text/html, .txt text/plain.
import db from "mime-db";

/** xps_keyval_t: a key and its value (here: ".txt" and "text/plain"). */
export interface KeyVal {
  key: string;
  val: string;
}

const SOURCE_RANK: Record<string, number> = { iana: 0, none: 1, apache: 2, nginx: 3 };

function buildTable(): KeyVal[] {
  const rows: { row: KeyVal; rank: number; generic: number; order: number }[] = [];
  let order = 0;
  for (const [type, entry] of Object.entries(db)) {
    const rank = SOURCE_RANK[entry.source ?? "none"] ?? SOURCE_RANK.none!;
    const generic = type.startsWith("application/") ? 1 : 0;
    for (const ext of entry.extensions ?? []) rows.push({ row: { key: `.${ext}`, val: type }, rank, generic, order: order++ });
  }
  rows.sort((a, b) => a.rank - b.rank || a.generic - b.generic || a.order - b.order);
  return rows.map((r) => r.row);
}

/** Every known extension (with its dot) and its media type, best claim first. */
export const MIME_TYPES: readonly KeyVal[] = Object.freeze(buildTable());
