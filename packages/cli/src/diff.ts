// A unified diff of two texts, `diff -u` style, made by jsdiff.
import { structuredPatch } from "diff";

/** `diff -u` style output (--- / +++ / @@ hunks); "" when the texts are equal. */
export function unifiedDiff(aName: string, bName: string, aText: string, bText: string, context = 3): string {
  if (aText === bText) return "";
  const patch = structuredPatch(aName, bName, aText, bText, "", "", { context });
  const out = [`--- ${aName}`, `+++ ${bName}`];
  for (const h of patch.hunks) {
    out.push(`@@ -${h.oldStart},${h.oldLines} +${h.newStart},${h.newLines} @@`);
    out.push(...h.lines.filter((l) => !l.startsWith("\\")));
  }
  return out.join("\n");
}
