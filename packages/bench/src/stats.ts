// Medians and ranges, and the per-repetition ratios the targets are judged on.

export interface Spread {
  median: number;
  min: number;
  max: number;
  n: number;
}

export function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 === 1 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
}

/** Median, min and max of the finite values, or null when there are none. */
export function spread(values: (number | null | undefined)[]): Spread | null {
  const xs = values.filter((v): v is number => typeof v === "number" && Number.isFinite(v));
  if (xs.length === 0) return null;
  return { median: median(xs), min: Math.min(...xs), max: Math.max(...xs), n: xs.length };
}

/**
 * The ratio a/b taken repetition by repetition (a[i] / b[i], only where both
 * exist), summarised. Repetitions alternate the targets, so a and b of the
 * same repetition ran moments apart on the same machine state.
 */
export function ratioSpread(a: (number | null)[], b: (number | null)[]): Spread | null {
  const rs: number[] = [];
  for (let i = 0; i < Math.min(a.length, b.length); i++) {
    const x = a[i];
    const y = b[i];
    if (x === null || y === null || x === undefined || y === undefined || y === 0) continue;
    rs.push(x / y);
  }
  return spread(rs);
}
