// A plain text table whose cells may carry colours.
const ANSI = /\x1b\[[0-9;]*m/g;

export function visibleLength(s: string): number {
  return s.replace(ANSI, "").length;
}

export function table(header: string[], rows: string[][], gap = "  "): string {
  const widths = header.map((h, i) => Math.max(visibleLength(h), ...rows.map((r) => visibleLength(r[i] ?? ""))));
  const line = (cells: string[]): string =>
    cells
      .map((c, i) => (i === cells.length - 1 ? c : c + " ".repeat(widths[i]! - visibleLength(c))))
      .join(gap)
      .trimEnd();
  return [line(header), widths.map((w) => "-".repeat(w)).join(gap), ...rows.map(line)].join("\n");
}
