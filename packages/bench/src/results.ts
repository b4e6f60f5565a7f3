// The raw figures of a run, their summary (medians, ranges, ratios) and the
// issue's targets judged on them.
import { ratioSpread, spread, type Spread } from "./stats.ts";
import { PROXY_IDS, TARGET_IDS, type TargetId } from "./targets.ts";
import type { MachineInfo } from "./proc.ts";
import type { LoadResult } from "./generators.ts";

export const WORKLOADS = ["keepalive", "newconn", "bigbody", "slowreader", "idle"] as const;
export type WorkloadId = (typeof WORKLOADS)[number];
export type ThroughputWorkload = "keepalive" | "newconn" | "bigbody";
export const THROUGHPUT_WORKLOADS: readonly ThroughputWorkload[] = ["keepalive", "newconn", "bigbody"];

export const MiB = 2 ** 20;
/** The pipe threshold of the reference core (DEFAULT_PIPE_BUFF_THRESH). */
export const PIPE_THRESHOLD = 1_000_000;
export const SLOW_GROWTH_LIMIT = 2 * PIPE_THRESHOLD + 16 * MiB;
/** "The growth does not change" from 64 to 256 MiB: it grows by at most this much more. */
export const SLOW_GROWTH_SAME = 4 * MiB;
export const IDLE_CPU_LIMIT_MS = 10;
export const IDLE_RSS_LIMIT = 80e6;

/** One measured run: what the generator reported (LoadResult), and what the bench read around it. */
export interface ThroughputRun extends LoadResult {
  rep: number;
  target: TargetId;
  error: string | null;
  /** CPU the proxy process used during the measured run (null for direct). */
  proxyCpuMs: number | null;
  upstreamCpuMs: number;
  proxyRssPeak: number | null;
  /** Share of all CPUs busy just before the run, while every target sat idle: other work on the machine. */
  busyBefore: number | null;
}

export interface SlowRun {
  rep: number;
  target: TargetId;
  bodyMiB: 64 | 256;
  error: string | null;
  bytesRead: number;
  seconds: number;
  rssBefore: number;
  rssPeak: number;
  rssAfter: number;
  growth: number;
  /** The proxy's RSS every 100 ms while the client read, in MiB. */
  rssSamplesMiB: number[];
  /** When the peak was sampled, in seconds from the start of the read. */
  peakAtS: number;
  /** The stage 11 server's peakPipeBuffered (SIGUSR2 stats), when it is the target. */
  peakPipeBuffered: number | null;
}

export interface IdleRun {
  rep: number;
  target: TargetId;
  connections: number;
  error: string | null;
  open: number;
  failures: number;
  /** CPU over the measurement window, scaled to 10 s (scheduler ns when available, else ticks). */
  cpuMsPer10s: number;
  /** The same from /proc/PID/stat ticks (10 ms resolution). */
  tickCpuMs: number;
  cpuSource: "schedstat" | "stat";
  windowS: number;
  rss: number;
  /** RSS of the same fresh process, settled, before any connection. */
  rssBaseline: number;
  /** CPU the fresh process used while it settled (its start-up, mostly V8's memory reducer). */
  settleCpuMs: number;
}

export interface Settings {
  quick: boolean;
  only: WorkloadId[];
  generator: "wrk" | "autocannon";
  reps: Record<WorkloadId, number>;
  durationS: Record<ThroughputWorkload, number>;
  warmupS: number;
  connections: Record<ThroughputWorkload, number>;
  slowReadSeconds: number;
  slowReadRate: number;
  idleSettleS: number;
  idleMeasureS: number;
  /** Fresh processes (slow reader, idle) wait at least this long after start, then until quiet. */
  settleMinS: number;
  idleCounts: number[];
  profile: boolean;
  /** How the two Node proxies run: esbuild bundles on plain node (default), or under --import tsx as `pnpm start` does. */
  nodeRunner: "bundle" | "tsx";
}

export interface BenchResults {
  meta: {
    startedAt: string;
    finishedAt: string;
    elapsedS: number;
    machine: MachineInfo;
    generator: string;
    nginx: string;
    openFiles: string;
    command: string;
    /** The commit measured, and uncommitted changes to the code under test (they are measured too). */
    git: { commit: string; dirty: string[] } | null;
    /** Share of all CPUs busy during the second before the run (other work on the machine adds noise). */
    busyBefore: number | null;
    /** 1-minute load average before and after the run. */
    loadAvg: { before: number; after: number };
    /** RSS of an idle Node process, plain and under --import tsx (how the proxies are started). */
    runtimeBaseline: { nodeRss: number; nodeTsxRss: number } | null;
  };
  settings: Settings;
  skipped: { target: TargetId | "*"; workload: WorkloadId | "*"; reason: string }[];
  throughput: Record<ThroughputWorkload, ThroughputRun[]>;
  slowreader: SlowRun[];
  idle: IdleRun[];
  summary: Row[];
  verdicts: Verdict[];
  profiles: {
    workload: string;
    target: TargetId;
    file: string;
    busyMs: number;
    top: { fn: string; where: string; ms: number; pct: number }[];
    areas: { area: string; ms: number; pct: number }[];
  }[];
  reference: typeof REFERENCE;
}

/** Ratios to direct measured the same way on this class of machine (the figures). */
export const REFERENCE = {
  note: "ratios to direct from the issue, measured the same way on a 2-core machine",
  nginx: { keepalive: 0.74, newconn: 0.52, bigbody: 0.33 },
  naive: { keepalive: 0.44, newconn: 0.23, bigbody: 0.2 },
  cExpServer: { keepalive: 0.41, newconn: 0.12, bigbody: 0.26 },
};

export interface Row {
  /** keepalive, newconn, bigbody, slowreader-64, slowreader-256, idle-100, idle-1000 */
  key: string;
  workload: string;
  target: TargetId;
  unit: string;
  value: Spread | null;
  toDirect: Spread | null;
  toNaive: Spread | null;
  cpu: Spread | null;
  cpuUnit: string;
  p50: Spread | null;
  p99: Spread | null;
  note: string | null;
}

export interface Verdict {
  text: string;
  measured: string;
  limit: string;
  /** null: could not be judged (workload not run, target missing). */
  pass: boolean | null;
  stretch: boolean;
}

export const WORKLOAD_LABELS: Record<string, string> = {
  keepalive: "keep-alive, 100 B",
  newconn: "new conn per request",
  bigbody: "64 MiB body",
  "slowreader-64": "slow reader, 64 MiB",
  "slowreader-256": "slow reader, 256 MiB",
  "idle-100": "100 idle conns",
  "idle-1000": "1,000 idle conns",
};

function byRep<T extends { rep: number; target: TargetId }>(runs: T[], target: TargetId, reps: number, pick: (r: T) => number | null): (number | null)[] {
  const out: (number | null)[] = [];
  for (let rep = 1; rep <= reps; rep++) {
    const r = runs.find((x) => x.rep === rep && x.target === target);
    out.push(r === undefined ? null : pick(r));
  }
  return out;
}

function cpuPerUnit(w: ThroughputWorkload, r: ThroughputRun): number | null {
  if (r.error !== null || r.proxyCpuMs === null) return null;
  if (w === "bigbody") return r.bytes > 0 ? (r.proxyCpuMs / r.bytes) * 1e9 : null; // ms per GB
  return r.requests > 0 ? (r.proxyCpuMs / r.requests) * 1000 : null; // ms per 1k requests
}

export function summarise(res: BenchResults): Row[] {
  const rows: Row[] = [];
  const s = res.settings;
  for (const w of THROUGHPUT_WORKLOADS) {
    const runs = res.throughput[w];
    if (runs.length === 0) continue;
    const reps = s.reps[w];
    const primary = (r: ThroughputRun): number | null => (r.error !== null ? null : w === "bigbody" ? r.mbps : r.rps);
    const direct = byRep(runs, "direct", reps, primary);
    const naive = byRep(runs, "naive", reps, primary);
    for (const t of TARGET_IDS) {
      if (!runs.some((r) => r.target === t)) continue;
      const mine = byRep(runs, t, reps, primary);
      const errs = runs.filter((r) => r.target === t && r.error !== null);
      const genErrors = runs.filter((r) => r.target === t).reduce((a, r) => a + r.errors, 0);
      const reqs = runs.filter((r) => r.target === t).reduce((a, r) => a + r.requests, 0);
      const notes: string[] = [];
      if (errs.length > 0) notes.push(`${errs.length} run(s) failed: ${errs[0]!.error}`);
      if (genErrors > 0) notes.push(`${genErrors} generator errors in ${reqs} requests`);
      const noisy = runs.filter((r) => r.target === t && r.busyBefore !== null && r.busyBefore > 0.2).length;
      if (noisy > 0) notes.push(`${noisy} run(s) started while other work kept the machine busy`);
      rows.push({
        key: w,
        workload: WORKLOAD_LABELS[w]!,
        target: t,
        unit: w === "bigbody" ? "MB/s" : w === "newconn" ? "conn/s" : "req/s",
        value: spread(mine),
        toDirect: ratioSpread(mine, direct),
        toNaive: ratioSpread(mine, naive),
        cpu: spread(byRep(runs, t, reps, (r) => cpuPerUnit(w, r))),
        cpuUnit: w === "bigbody" ? "ms/GB" : "ms/1k",
        p50: w === "keepalive" ? spread(byRep(runs, t, reps, (r) => (r.error ? null : r.p50Ms))) : null,
        p99: w === "keepalive" ? spread(byRep(runs, t, reps, (r) => (r.error ? null : r.p99Ms))) : null,
        note: notes.length > 0 ? notes.join("; ") : null,
      });
    }
  }
  for (const size of [64, 256] as const) {
    const runs = res.slowreader.filter((r) => r.bodyMiB === size);
    if (runs.length === 0) continue;
    const reps = s.reps.slowreader;
    const growth = (r: SlowRun): number | null => (r.error !== null ? null : r.growth);
    const naive = byRep(runs, "naive", reps, growth);
    for (const t of PROXY_IDS) {
      if (!runs.some((r) => r.target === t)) continue;
      const mine = byRep(runs, t, reps, growth);
      const errs = runs.filter((r) => r.target === t && r.error !== null);
      const rate = spread(byRep(runs, t, reps, (r) => r.bytesRead / r.seconds / MiB));
      const peakPipe = spread(byRep(runs, t, reps, (r) => r.peakPipeBuffered));
      const notes: string[] = [];
      if (rate) notes.push(`read ${rate.median.toFixed(2)} MiB/s`);
      if (peakPipe) notes.push(`peak pipe ${(peakPipe.max / 1e6).toFixed(2)} MB`);
      notes.push(`peak RSS ${(spread(byRep(runs, t, reps, (r) => r.rssPeak))!.median / MiB).toFixed(1)} MiB`);
      if (errs.length > 0) notes.push(`${errs.length} run(s) failed: ${errs[0]!.error}`);
      rows.push({
        key: `slowreader-${size}`,
        workload: WORKLOAD_LABELS[`slowreader-${size}`]!,
        target: t,
        unit: "MiB RSS growth",
        value: spread(mine.map((v) => (v === null ? null : v / MiB))),
        toDirect: null,
        toNaive: t === "naive" ? null : ratioSpread(mine, naive),
        cpu: null,
        cpuUnit: "",
        p50: null,
        p99: null,
        note: notes.join("; "),
      });
    }
  }
  for (const n of s.idleCounts) {
    const runs = res.idle.filter((r) => r.connections === n);
    if (runs.length === 0) continue;
    const reps = s.reps.idle;
    const rss = (r: IdleRun): number | null => (r.error !== null ? null : r.rss);
    const naive = byRep(runs, "naive", reps, rss);
    for (const t of PROXY_IDS) {
      if (!runs.some((r) => r.target === t)) continue;
      const mine = byRep(runs, t, reps, rss);
      const errs = runs.filter((r) => r.target === t && r.error !== null);
      const open = spread(byRep(runs, t, reps, (r) => r.open));
      const base = spread(byRep(runs, t, reps, (r) => (r.error ? null : r.rssBaseline)));
      const perConn = spread(byRep(runs, t, reps, (r) => (r.error ? null : (r.rss - r.rssBaseline) / n)));
      const notes: string[] = [];
      const settleCpu = spread(byRep(runs, t, reps, (r) => r.settleCpuMs));
      if (base && perConn) notes.push(`settled fresh process ${(base.median / 1e6).toFixed(1)} MB, then ${(perConn.median / 1e3).toFixed(1)} kB per connection`);
      if (settleCpu && n === s.idleCounts[0]) notes.push(`${settleCpu.median.toFixed(0)} ms CPU while settling after start-up`);
      if (open && open.min < n) notes.push(`only ${open.min} of ${n} stayed open`);
      if (errs.length > 0) notes.push(`${errs.length} run(s) failed: ${errs[0]!.error}`);
      rows.push({
        key: `idle-${n}`,
        workload: `${n.toLocaleString("en-US")} idle conns`,
        target: t,
        unit: "MB RSS",
        value: spread(mine.map((v) => (v === null ? null : v / 1e6))),
        toDirect: null,
        toNaive: t === "naive" ? null : ratioSpread(mine, naive),
        cpu: spread(byRep(runs, t, reps, (r) => (r.error ? null : r.cpuMsPer10s))),
        cpuUnit: "ms/10s",
        p50: null,
        p99: null,
        note: notes.length > 0 ? notes.join("; ") : null,
      });
    }
  }
  return rows;
}

// Three decimals: a median of 1.004x must not read as the limit it misses.
const x = (v: number): string => `${v.toFixed(3)}x`;

function row(rows: Row[], key: string, target: TargetId): Row | undefined {
  return rows.find((r) => r.key === key && r.target === target);
}

/** The targets for the reference core, judged on this run. */
export function judge(rows: Row[], res: BenchResults): Verdict[] {
  const v: Verdict[] = [];
  const add = (text: string, limit: string, measured: Spread | null | undefined, ok: (m: number) => boolean, fmt: (m: number) => string, stretch = false): void => {
    if (!measured) {
      v.push({ text, limit, measured: "n/a", pass: null, stretch });
      return;
    }
    const range = measured.n > 1 ? ` (${fmt(measured.min)}-${fmt(measured.max)})` : "";
    v.push({ text, limit, measured: `${fmt(measured.median)}${range}`, pass: ok(measured.median), stretch });
  };
  const ka = row(rows, "keepalive", "xps");
  const kaRaw = res.throughput.keepalive;
  const reps = res.settings.reps.keepalive;
  const p99Ratio = ratioSpread(
    byRep(kaRaw, "xps", reps, (r) => r.p99Ms),
    byRep(kaRaw, "naive", reps, (r) => r.p99Ms),
  );
  const cpuRatio = (w: ThroughputWorkload): Spread | null =>
    ratioSpread(
      byRep(res.throughput[w], "xps", res.settings.reps[w], (r) => cpuPerUnit(w, r)),
      byRep(res.throughput[w], "naive", res.settings.reps[w], (r) => cpuPerUnit(w, r)),
    );
  add("keep-alive: req/s, xps / naive", ">= 1.00x", ka?.toNaive, (m) => m >= 1.0, x);
  add("keep-alive: p99 latency, xps / naive", "<= 1.00x", kaRaw.length ? p99Ratio : null, (m) => m <= 1.0, x);
  add("keep-alive: CPU per request, xps / naive", "<= 1.00x", kaRaw.length ? cpuRatio("keepalive") : null, (m) => m <= 1.0, x);
  add("keep-alive: CPU per request, xps / naive (stretch)", "<= 0.80x", kaRaw.length ? cpuRatio("keepalive") : null, (m) => m <= 0.8, x, true);
  add("new connection: conn/s, xps / naive", ">= 1.00x", row(rows, "newconn", "xps")?.toNaive, (m) => m >= 1.0, x);
  add("new connection: CPU per connection, xps / naive", "<= 1.00x", res.throughput.newconn.length ? cpuRatio("newconn") : null, (m) => m <= 1.0, x);
  add("64 MiB body: MB/s, xps / naive", ">= 1.20x", row(rows, "bigbody", "xps")?.toNaive, (m) => m >= 1.2, x);
  const bbNginx = ratioSpread(
    byRep(res.throughput.bigbody, "xps", res.settings.reps.bigbody, (r) => (r.error ? null : r.mbps)),
    byRep(res.throughput.bigbody, "nginx", res.settings.reps.bigbody, (r) => (r.error ? null : r.mbps)),
  );
  add("64 MiB body: MB/s, xps / nginx stream (aim)", ">= 1.00x", res.throughput.bigbody.length ? bbNginx : null, (m) => m >= 1.0, x, true);
  const mib = (m: number): string => `${m.toFixed(1)} MiB`;
  const limitMiB = SLOW_GROWTH_LIMIT / MiB;
  const g64 = row(rows, "slowreader-64", "xps")?.value;
  const g256 = row(rows, "slowreader-256", "xps")?.value;
  add("slow reader, 64 MiB body: xps RSS growth", `<= ${limitMiB.toFixed(1)} MiB`, g64, (m) => m <= limitMiB, mib);
  add("slow reader, 256 MiB body: xps RSS growth", `<= ${limitMiB.toFixed(1)} MiB`, g256, (m) => m <= limitMiB, mib);
  if (g64 && g256) {
    const d = g256.median - g64.median;
    v.push({
      text: "slow reader: growth 256 MiB minus growth 64 MiB (xps)",
      limit: `<= +${SLOW_GROWTH_SAME / MiB} MiB`,
      measured: `${d >= 0 ? "+" : ""}${d.toFixed(1)} MiB`,
      // One-sided: memory held for the body would add up to 192 MiB; a drop
      // is only a garbage collection that came at a different moment.
      pass: d <= SLOW_GROWTH_SAME / MiB,
      stretch: false,
    });
  } else {
    v.push({ text: "slow reader: growth 256 MiB minus growth 64 MiB (xps)", limit: `<= +${SLOW_GROWTH_SAME / MiB} MiB`, measured: "n/a", pass: null, stretch: false });
  }
  const ms = (m: number): string => `${m.toFixed(1)} ms`;
  for (const n of res.settings.idleCounts) {
    add(`${n.toLocaleString("en-US")} idle connections: xps CPU per 10 s`, `<= ${IDLE_CPU_LIMIT_MS} ms`, row(rows, `idle-${n}`, "xps")?.cpu, (m) => m <= IDLE_CPU_LIMIT_MS, ms);
  }
  if (res.settings.idleCounts.includes(1000)) {
    add("1,000 idle connections: xps RSS", `<= ${IDLE_RSS_LIMIT / 1e6} MB`, row(rows, "idle-1000", "xps")?.value, (m) => m <= IDLE_RSS_LIMIT / 1e6, (m) => `${m.toFixed(1)} MB`);
  }
  return v;
}
