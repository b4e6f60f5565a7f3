// A unified diff of two texts (a longest-common-subsequence line diff: the
// files a stage teaches are a few hundred lines).
export type Op = { kind: "same" | "del" | "add"; line: string };

export function lineDiff(a: string[], b: string[]): Op[] {
  const n = a.length;
  const m = b.length;
  // lcs[i][j]: the LCS length of a[i..] and b[j..], row-major in one array.
  const w = m + 1;
  const lcs = new Uint32Array((n + 1) * w);
  for (let i = n - 1; i >= 0; i--) {
    for (let j = m - 1; j >= 0; j--) {
      lcs[i * w + j] = a[i] === b[j] ? lcs[(i + 1) * w + j + 1]! + 1 : Math.max(lcs[(i + 1) * w + j]!, lcs[i * w + j + 1]!);
    }
  }
  const ops: Op[] = [];
  let i = 0;
  let j = 0;
  while (i < n && j < m) {
    if (a[i] === b[j]) {
      ops.push({ kind: "same", line: a[i]! });
      i++;
      j++;
    } else if (lcs[(i + 1) * w + j]! >= lcs[i * w + j + 1]!) ops.push({ kind: "del", line: a[i++]! });
    else ops.push({ kind: "add", line: b[j++]! });
  }
  while (i < n) ops.push({ kind: "del", line: a[i++]! });
  while (j < m) ops.push({ kind: "add", line: b[j++]! });
  return ops;
}

/** `diff -u` style output; "" when the texts are equal. */
export function unifiedDiff(aName: string, bName: string, aText: string, bText: string, context = 3): string {
  if (aText === bText) return "";
  const a = aText.split("\n");
  const b = bText.split("\n");
  const ops = lineDiff(a, b);
  const out = [`--- ${aName}`, `+++ ${bName}`];
  // Positions (in ops) of changes, grouped into hunks with `context` lines around.
  const changed = ops.map((o, k) => (o.kind === "same" ? -1 : k)).filter((k) => k >= 0);
  let h = 0;
  while (h < changed.length) {
    const start = Math.max(0, changed[h]! - context);
    let end = Math.min(ops.length, changed[h]! + context + 1);
    while (h + 1 < changed.length && changed[h + 1]! - context <= end) {
      h++;
      end = Math.min(ops.length, changed[h]! + context + 1);
    }
    h++;
    let aLine = 1;
    let bLine = 1;
    for (let k = 0; k < start; k++) {
      if (ops[k]!.kind !== "add") aLine++;
      if (ops[k]!.kind !== "del") bLine++;
    }
    const hunk = ops.slice(start, end);
    const aCount = hunk.filter((o) => o.kind !== "add").length;
    const bCount = hunk.filter((o) => o.kind !== "del").length;
    out.push(`@@ -${aCount === 0 ? aLine - 1 : aLine},${aCount} +${bCount === 0 ? bLine - 1 : bLine},${bCount} @@`);
    for (const o of hunk) out.push(`${o.kind === "same" ? " " : o.kind === "del" ? "-" : "+"}${o.line}`);
  }
  return out.join("\n");
}
