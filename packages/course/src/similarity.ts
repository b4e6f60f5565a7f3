// Code that has the shape of a solution, even when it is not a copy of it.
//
// The leak scan first looks for a region's code verbatim (its fingerprint).
// That misses a helper somewhere else that does what a TODO asks with other
// local names, another threshold or a line left out: the fault fixtures'
// wire() was stage 11's TODO 2 with `up` for `conn`. So code is also compared
// by shape, the way plagiarism detectors (MOSS) do it: as a token stream in
// which literals and the names a snippet declares itself are replaced by
// placeholders, cut into overlapping runs of K tokens. The share of a
// region's runs that a file also holds is how much of the region it repeats.
const K = 6;

/** Below this many runs a region is too short to be told from ordinary code. */
export const MIN_SHINGLES = 40;

/** A file that holds this share of a region's runs repeats the region. */
export const SHAPE_THRESHOLD = 0.4;

const TOKEN = /[A-Za-z_$][\w$]*|\d[\d_.]*|"(?:[^"\\\n]|\\.)*"|'(?:[^'\\\n]|\\.)*'|`(?:[^`\\]|\\.)*`|===|!==|=>|&&|\|\||[^\s\w]/g;

function tokens(code: string): string[] {
  const bare = code.replace(/\/\*[\s\S]*?\*\//g, " ").replace(/(^|[^:])\/\/[^\n]*/g, "$1 ");
  return bare.match(TOKEN) ?? [];
}

/** Literals become L, and the names the code declares (const, let, var) become V. */
function normalized(toks: string[]): string[] {
  const declared = new Set<string>();
  toks.forEach((t, i) => {
    if ((t === "const" || t === "let" || t === "var") && /^[A-Za-z_$]/.test(toks[i + 1] ?? "")) declared.add(toks[i + 1]!);
  });
  return toks.map((t) => (/^["'`\d]/.test(t) ? "L" : declared.has(t) ? "V" : t));
}

/** The runs of K normalized tokens in `code`. */
export function shingles(code: string): Set<string> {
  const toks = normalized(tokens(code));
  const out = new Set<string>();
  for (let i = 0; i + K <= toks.length; i++) out.add(toks.slice(i, i + K).join(" "));
  return out;
}

/** The share of `part`'s runs that `whole` holds too (0 to 1). */
export function overlap(part: Set<string>, whole: Set<string>): number {
  if (part.size === 0) return 0;
  let hit = 0;
  for (const s of part) if (whole.has(s)) hit++;
  return hit / part.size;
}
