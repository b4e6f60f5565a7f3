// In-process checks (milestones flagged "inProcess": true) call a learner's
// module directly. The module is never loaded where results are made: each
// check runs in a probe, a child process of its own (sandboxed like a
// server when grading), and reports what it observed, one value per t.same()
// or t.ensure(), on a channel of its own (fd 3). The test, in the test
// runner, compares those observations with the reference's, recorded in the
// stage's test/observations/<file>.json, and decides. Code in the probe can
// refuse to answer or answer wrongly; it cannot make the test runner pass
// anything, because the verdict and the expected values never leave it.
//
//   XPS_OBSERVE=record XPS_VARIANT=solution pnpm test --filter stage-NN
//
// records the reference's observations after a check changes.
import crypto from "node:crypto";
import fs from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

// Captured before any learner module loads (probe-child.ts imports this
// file first), so that a module that replaces globals cannot change what
// the probe records.
const mapGet = Map.prototype.get;
const mapSet = Map.prototype.set;
const stringify = JSON.stringify;
const writeSync = fs.writeSync;
const isBuffer = Buffer.isBuffer;
const hash = (b: Uint8Array): string => crypto.createHash("sha256").update(b).digest("hex").slice(0, 16);

export const PROBE_CHILD = fileURLToPath(new URL("./probe-child.ts", import.meta.url));

/** One observation: [what, the value described]. */
export type Observation = [string, string];

export interface ProbeEnd {
  status: "passed" | "failed";
  message: string;
  /** The failure came from a TODO's stub: "stage-10 TODO 3". */
  todo?: string;
  /** The hint the failure names (a stage's "h3"). */
  hint?: string;
}

/** Values as text, objects by identity (the first one seen is #1, ...). */
export class Describer {
  private ids = new Map<object, number>();

  id(v: object): number {
    let n = mapGet.call(this.ids, v) as number | undefined;
    if (n === undefined) {
      n = this.ids.size + 1;
      mapSet.call(this.ids, v, n);
    }
    return n;
  }

  describe(v: unknown): string {
    if (v === null) return "null";
    if (v === undefined) return "undefined";
    const type = typeof v;
    if (type === "string") {
      const s = v as string;
      return s.length <= 200 ? stringify(s) : `string(${s.length}):${hash(Buffer.from(s))}`;
    }
    if (type === "number" || type === "boolean" || type === "bigint") return String(v);
    if (isBuffer(v) || v instanceof Uint8Array) return `bytes(${(v as Uint8Array).length}):${hash(v as Uint8Array)}`;
    if (type === "function") return `function #${this.id(v as object)}`;
    if (type === "object") return `object #${this.id(v as object)}`;
    return type;
  }
}

/** The check a probe child runs: registered by stage.check/stage.milestone while the test file loads. */
export interface ProbeTarget {
  file: string;
  name: string;
  fn: ((t: never) => Promise<void> | void) | null;
}

/** Set in a probe child (XPS_PROBE_FILE, XPS_PROBE_CHECK); null in the test runner. */
export const probeTarget: ProbeTarget | null = process.env.XPS_PROBE_FILE ? { file: process.env.XPS_PROBE_FILE, name: process.env.XPS_PROBE_CHECK ?? "", fn: null } : null;

/** The probe's end of the channel: one line per observation, then the end, each after the parent's nonce. */
export class ProbeChannel {
  constructor(private readonly nonce: string) {}

  private line(kind: string, body: unknown): void {
    try {
      writeSync(3, `${this.nonce} ${kind} ${stringify(body)}\n`);
    } catch {
      // the parent is gone
    }
  }

  observe(o: Observation): void {
    this.line("observe", o);
  }

  end(e: ProbeEnd): void {
    this.line("end", e);
  }
}

/** What a probe child said: its observations and how it ended (null: it never said). */
export function readChannel(text: string, nonce: string): { observations: Observation[]; end: ProbeEnd | null } {
  const observations: Observation[] = [];
  let end: ProbeEnd | null = null;
  for (const line of text.split("\n")) {
    if (!line.startsWith(`${nonce} `) || end !== null) continue;
    const rest = line.slice(nonce.length + 1);
    const space = rest.indexOf(" ");
    try {
      const body = JSON.parse(rest.slice(space + 1)) as unknown;
      if (rest.slice(0, space) === "observe" && Array.isArray(body) && body.length === 2) observations.push([String(body[0]), String(body[1])]);
      else if (rest.slice(0, space) === "end" && typeof body === "object" && body !== null) {
        const e = body as ProbeEnd;
        const text = (v: unknown): string | undefined => (v === undefined || v === null ? undefined : String(v));
        end = { status: e.status === "passed" ? "passed" : "failed", message: String(e.message ?? ""), todo: text(e.todo), hint: text(e.hint) };
      }
    } catch {
      // not a line of ours
    }
  }
  return { observations, end };
}

/** The recorded observations of a test file: test/observations/<name>.json beside it. */
export function observationsFile(testFile: string): string {
  return path.join(path.dirname(testFile), "observations", `${path.basename(testFile).replace(/\.test\.ts$/, "")}.json`);
}

export function readObservations(testFile: string): Record<string, Observation[]> {
  try {
    return JSON.parse(fs.readFileSync(observationsFile(testFile), "utf8")) as Record<string, Observation[]>;
  } catch {
    return {};
  }
}

export function recordObservations(testFile: string, check: string, observations: Observation[]): void {
  const all = readObservations(testFile);
  all[check] = observations;
  const sorted = Object.fromEntries(Object.keys(all).sort().map((k) => [k, all[k]!]));
  fs.mkdirSync(path.dirname(observationsFile(testFile)), { recursive: true });
  fs.writeFileSync(observationsFile(testFile), `${JSON.stringify(sorted, null, 1)}\n`);
}

export interface Verdict {
  ok: boolean;
  /** Why not, in the course's words (no text from the probe). */
  reason: string;
  /** The step where the probe's observations first differ (-1: none). */
  at: number;
}

/** The probe's observations against the recorded ones. */
export function judge(expected: Observation[], got: Observation[], end: ProbeEnd | null): Verdict {
  const n = Math.min(expected.length, got.length);
  for (let i = 0; i < n; i++) {
    const [what, want] = expected[i]!;
    const [gotWhat, value] = got[i]!;
    if (gotWhat !== what) return { ok: false, reason: `step ${i + 1} should observe "${what}"; the probe observed "${gotWhat.slice(0, 120)}" instead`, at: i };
    if (value !== want) return { ok: false, reason: `${what}: the reference gives ${want}, this code ${value.slice(0, 200)}`, at: i };
  }
  if (got.length < expected.length) {
    const next = expected[got.length]![0];
    const why = end === null ? "the probe stopped without finishing" : end.status === "failed" ? "the check failed" : "the probe said it had finished";
    return { ok: false, reason: `${why} before step ${got.length + 1} of ${expected.length} ("${next}")`, at: got.length };
  }
  if (got.length > expected.length) return { ok: false, reason: `the probe observed ${got.length} things; the reference ${expected.length}`, at: expected.length };
  if (end === null) return { ok: false, reason: "the probe stopped without saying how the check ended", at: -1 };
  if (end.status !== "passed") return { ok: false, reason: "the check failed", at: -1 };
  return { ok: true, reason: "", at: -1 };
}

/** A random nonce for one probe run. */
export function nonce(): string {
  return crypto.randomBytes(16).toString("hex");
}
