// What stage 17's tests share: the hostile file names, and the rows of a
// listing page read the way a browser reads them (entities decoded; a name
// that was not escaped breaks the row).

/** File names a listing must show as text and link to: markup, entities, quotes, spaces, %, non-ASCII. */
export const HOSTILE_NAMES: readonly string[] = [
  "<img src=x onerror=alert(1)>.txt",
  "R&D notes.txt",
  `say "hi" 'there'.txt`,
  "a b  c.txt",
  "100% #1?.txt",
  "café 日本語.txt",
  "&lt;not-an-entity&gt;.txt",
];

export interface Row {
  href: string;
  text: string;
}

const ENTITIES: Record<string, string> = { amp: "&", lt: "<", gt: ">", quot: '"', apos: "'", nbsp: "\u00a0" };

/** Character references decoded, as a browser does in text and in attribute values. */
export function decodeEntities(s: string): string {
  return s.replace(/&(#x[0-9a-f]+|#[0-9]+|[a-z]+);/gi, (all, ref: string) => {
    if (ref[0] === "#") return String.fromCodePoint(ref[1] === "x" || ref[1] === "X" ? parseInt(ref.slice(2), 16) : parseInt(ref.slice(1), 10));
    return ENTITIES[ref.toLowerCase()] ?? all;
  });
}

/**
 * The rows of a listing's table: for each <tr>, its first link's href and
 * text (markup in the text is left in, so an unescaped name shows as a
 * broken row). Rows without a link are left out.
 */
export function rowsOf(page: string): Row[] {
  const table = /<table\b[^>]*>([\s\S]*?)<\/table>/i.exec(page)?.[1] ?? "";
  const rows: Row[] = [];
  for (const tr of table.split(/<tr\b[^>]*>/i).slice(1)) {
    const a = /<td\b[^>]*>\s*<a\s+href\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))\s*>([\s\S]*?)<\/a>/i.exec(tr);
    if (a === null) continue;
    rows.push({ href: decodeEntities(a[1] ?? a[2] ?? a[3] ?? ""), text: decodeEntities(a[4]!) });
  }
  return rows;
}
