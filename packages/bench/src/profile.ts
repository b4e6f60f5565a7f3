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
  /** Self time by area: the course's packages, Node's internals by module, native code, GC. */
  areas: { area: string; ms: number; pct: number }[];
}

/** Which part of the process a function belongs to. */
function areaOf(fn: string, url: string): string {
  if (url === "") return fn.startsWith("(") ? fn : "native (no JavaScript frame)";
  const m = /\/packages\/([^/]+)\//.exec(url);
  if (m && !url.includes("node_modules")) return `xps ${m[1]}`;
  if (url.startsWith("node:")) {
    const mod = url.slice(5).replace(/^internal\//, "");
    const parts = mod.split("/");
    return `node ${parts.length > 1 ? parts.slice(0, 2).join("/") : parts[0]}`;
  }
  const nm = /node_modules\/(?:\.pnpm\/[^/]+\/node_modules\/)?((?:@[^/]+\/)?[^/]+)/.exec(url);
  return nm ? `npm ${nm[1]}` : url;
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

/** Self time per function, leaving out the first `skipMs` of the profile (the process's start-up). */
export function summariseProfile(file: string, topN = 15, skipMs = 0): ProfileSummary {
  const prof = JSON.parse(fs.readFileSync(file, "utf8")) as CpuProfile;
  const byId = new Map<number, ProfileNode>();
  for (const n of prof.nodes) byId.set(n.id, n);
  const self = new Map<string, { fn: string; where: string; us: number }>();
  const areas = new Map<string, number>();
  let totalUs = 0;
  let idleUs = 0;
  let clockUs = 0;
  for (let i = 0; i < prof.samples.length; i++) {
    const node = byId.get(prof.samples[i]!);
    // timeDeltas[i] is the time since the previous sample: charge it to this one.
    const dt = Math.max(0, prof.timeDeltas[i] ?? 0);
    clockUs += dt;
    if (clockUs < skipMs * 1000) continue;
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
    const area = areaOf(fn, cf.url);
    areas.set(area, (areas.get(area) ?? 0) + dt);
  }
  const busyUs = totalUs - idleUs;
  const top = [...self.values()]
    .sort((a, b) => b.us - a.us)
    .slice(0, topN)
    .map((e) => ({ fn: e.fn, where: e.where, ms: e.us / 1000, pct: busyUs > 0 ? (100 * e.us) / busyUs : 0 }));
  const areaList = [...areas.entries()]
    .sort((a, b) => b[1] - a[1])
    .map(([area, us]) => ({ area, ms: us / 1000, pct: busyUs > 0 ? (100 * us) / busyUs : 0 }));
  return { file, totalMs: totalUs / 1000, busyMs: busyUs / 1000, top, areas: areaList };
}

/**
 * The profile of the busiest thread in `dir` (node --cpu-prof writes one per
 * thread; under tsx the module loader has a thread of its own), or null.
 */
export function mainProfile(dir: string, topN = 15, skipMs = 0): ProfileSummary | null {
  let files: string[];
  try {
    files = fs.readdirSync(dir).filter((f) => f.endsWith(".cpuprofile")).map((f) => path.join(dir, f));
  } catch {
    return null;
  }
  let best: ProfileSummary | null = null;
  for (const f of files) {
    try {
      const sum = summariseProfile(f, topN, skipMs);
      if (best === null || sum.busyMs > best.busyMs) best = sum;
    } catch {
      // a profile cut short
    }
  }
  return best;
}

export function formatProfile(title: string, s: ProfileSummary): string {
  const lines = [`${title}: ${path.basename(s.file)}, ${Math.round(s.busyMs)} ms busy of ${Math.round(s.totalMs)} ms sampled after start-up; top self time:`];
  for (const t of s.top) {
    lines.push(`  ${t.pct.toFixed(1).padStart(5)}%  ${t.ms.toFixed(0).padStart(6)} ms  ${t.fn}${t.where ? `  (${t.where})` : ""}`);
  }
  lines.push("  by area: " + s.areas.slice(0, 10).map((a) => `${a.area} ${a.pct.toFixed(1)}%`).join(", "));
  return lines.join("\n");
}
