// Summarise a V8 .cpuprofile (node --cpu-prof): self time per function.
import fs from "node:fs";
import path from "node:path";

interface ProfileNode {
  id: number;
  callFrame: { functionName: string; url: string; lineNumber: number; columnNumber: number };
}

interface CpuProfile {
  nodes: ProfileNode[];
  samples: number[];
  timeDeltas: number[];
}

export interface SelfTime {
  fn: string;
  where: string;
  ms: number;
  /** Share of the time the process was not idle. */
  pct: number;
}

export interface ProfileSummary {
  file: string;
  totalMs: number;
  busyMs: number;
  top: SelfTime[];
}

function shortUrl(url: string): string {
  if (url === "") return "";
  let u = url.replace(/^file:\/\//, "");
  const nm = u.lastIndexOf("node_modules/");
  if (nm >= 0) {
    u = u.slice(nm + "node_modules/".length).replace(/^\.pnpm\/[^/]+\/node_modules\//, "");
  } else {
    const pk = u.indexOf("/packages/");
    if (pk >= 0) u = u.slice(pk + 1);
  }
  return u;
}

export function summariseProfile(file: string, topN = 15): ProfileSummary {
  const prof = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of prof.nodes) byId.set(n.id, n);
  const self = new Map<string, { fn: string; where: string; us: number }>();
  let totalUs = 0;
  let idleUs = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]!);
    // timeDeltas[i] is the time since the previous sample: charge it to this one.
    const dt = Math.max(0, prof.timeDeltas[i] ?? 0);
    totalUs += dt;
    if (node === undefined) continue;
    const cf = node.callFrame;
    const fn = cf.functionName || "(anonymous)";
    if (fn === "(idle)") {
      idleUs += dt;
      continue;
    }
    const where = cf.url ? `${shortUrl(cf.url)}:${cf.lineNumber + 1}` : "";
    const key = `${fn}\u0000${where}`;
    const e = self.get(key) ?? { fn, where, us: 0 };
    e.us += dt;
    self.set(key, e);
  }
  const busyUs = totalUs - idleUs;
  const top = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({ fn: e.fn, where: e.where, ms: e.us / 1000, pct: busyUs > 0 ? (100 * e.us) / busyUs : 0 }));
  return { file, totalMs: totalUs / 1000, busyMs: busyUs / 1000, top };
}

/** The newest .cpuprofile in `dir`, or null. */
export function newestProfile(dir: string): string | null {
  try {
    const files = fs
      .readdirSync(dir)
      .filter((f) => f.endsWith(".cpuprofile"))
      .map((f) => path.join(dir, f))
      .sort((a, b) => fs.statSync(b).mtimeMs - fs.statSync(a).mtimeMs);
    return files[0] ?? null;
  } catch {
    return null;
  }
}

export function formatProfile(title: string, s: ProfileSummary): string {
  const lines = [`${title}: ${path.basename(s.file)}, ${Math.round(s.busyMs)} ms busy of ${Math.round(s.totalMs)} ms sampled; top self time:`];
  for (const t of s.top) {
    lines.push(`  ${t.pct.toFixed(1).padStart(5)}%  ${t.ms.toFixed(0).padStart(6)} ms  ${t.fn}${t.where ? `  (${t.where})` : ""}`);
  }
  return lines.join("\n");
}
