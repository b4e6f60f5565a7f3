// Failure messages in the CodeCrafters manner: what the test sent, what came
// back (control bytes visible, long data cut with a count), where the first
// difference is, what the server logged, and what to try next.

/** Bytes as a quoted string with control and non-ASCII bytes escaped, cut after `max`. */
export function showBytes(bytes: Buffer, max = 48): string {
  const shown = bytes.subarray(0, max);
  let out = "";
  for (const b of shown) {
    if (b === 0x0a) out += "\\n";
    else if (b === 0x0d) out += "\\r";
    else if (b === 0x09) out += "\\t";
    else if (b === 0x22) out += '\\"';
    else if (b === 0x5c) out += "\\\\";
    else if (b >= 0x20 && b < 0x7f) out += String.fromCharCode(b);
    else out += `\\x${b.toString(16).padStart(2, "0")}`;
  }
  const rest = bytes.length - shown.length;
  return rest > 0 ? `"${out}"… (+${rest.toLocaleString("en-US")} more bytes)` : `"${out}"`;
}

export function countBytes(n: number): string {
  return `${n.toLocaleString("en-US")} byte${n === 1 ? "" : "s"}`;
}

/** Index of the first byte where the two differ (a missing byte counts), or -1 when equal. */
export function firstDifference(expected: Buffer, actual: Buffer): number {
  const n = Math.min(expected.length, actual.length);
  for (let i = 0; i < n; i++) if (expected[i] !== actual[i]) return i;
  return expected.length === actual.length ? -1 : n;
}

function byteName(b: number | undefined): string {
  if (b === undefined) return "nothing";
  const ch = b >= 0x20 && b < 0x7f ? ` '${String.fromCharCode(b)}'` : "";
  return `0x${b.toString(16).padStart(2, "0")}${ch}`;
}

/** "first difference at byte 12: expected 0x61 'a', got 0x62 'b'" with a little context. */
export function describeDifference(expected: Buffer, actual: Buffer): string {
  const at = firstDifference(expected, actual);
  if (at < 0) return "the bytes are identical";
  const head = `first difference at byte ${at.toLocaleString("en-US")}: expected ${byteName(expected[at])}, got ${byteName(actual[at])}`;
  if (at === 0 || actual.length === 0) return head;
  const from = Math.max(0, at - 8);
  return (
    `${head}\n` +
    `    expected from byte ${from.toLocaleString("en-US")}: ${showBytes(expected.subarray(from), 32)}\n` +
    `    got from byte ${from.toLocaleString("en-US")}:      ${showBytes(actual.subarray(from), 32)}`
  );
}

/**
 * A test failure whose message is the whole report. Its stack is the message
 * alone: the test's own source lines would only hide what matters.
 */
export class MilestoneFailure extends Error {
  /** The hint this failure points to, when it is not the milestone's own (a diagnosis of the cause). */
  readonly hint: string | undefined;
  constructor(message: string, hint?: string) {
    super(message);
    this.name = "MilestoneFailure";
    this.stack = `${this.name}: ${message}`;
    this.hint = hint;
  }
}

export interface Transcript {
  /** One line: what went wrong. */
  problem: string;
  sent?: Buffer;
  expected?: Buffer;
  got?: Buffer;
  /** How the exchange ended: "the server closed the connection", "no reply within 5 s"... */
  ending?: string;
  /** More lines, shown as they are. */
  notes?: string[];
  /** The hint to read, when the cause this failure found has its own (default: the milestone's). */
  hint?: string;
}

export function formatTranscript(t: Transcript): string {
  const lines = [t.problem];
  if (t.sent !== undefined) lines.push(`  sent:     ${showBytes(t.sent)} (${countBytes(t.sent.length)})`);
  if (t.expected !== undefined) {
    const same = t.sent !== undefined && t.sent.equals(t.expected);
    lines.push(same ? "  expected: the same bytes back" : `  expected: ${showBytes(t.expected)} (${countBytes(t.expected.length)})`);
  }
  if (t.got !== undefined) {
    lines.push(`  got:      ${showBytes(t.got)} (${countBytes(t.got.length)})${t.ending ? `, then ${t.ending}` : ""}`);
  } else if (t.ending) {
    lines.push(`  then:     ${t.ending}`);
  }
  if (t.expected !== undefined && t.got !== undefined) {
    lines.push(`  ${describeDifference(t.expected, t.got)}`);
  }
  for (const n of t.notes ?? []) lines.push(`  ${n}`);
  return lines.join("\n");
}
