// The raw figures of a run, their summary (medians, ranges, ratios) and the
// issue's targets judged on them.
import { HELD_PER_FLOW } from "@xps/connection/socket";
import { ratioSpread, spread, type Spread } from "./stats.ts";
import { HTTP_FILES, PROXY_IDS, TARGET_IDS, TARGET_LABELS, peerOf, type TargetId } from "./targets.ts";
import type { MachineInfo } from "./proc.ts";
import type { LoadResult } from "./generators.ts";

export const WORKLOADS = ["keepalive", "newconn", "bigbody", "bigbody8", "slowreader", "idle", "idlescale", "http1k", "http1m"] as const;
export type WorkloadId = (typeof WORKLOADS)[number];
export type ThroughputWorkload = "keepalive" | "newconn" | "bigbody" | "bigbody8" | "http1k" | "http1m";
export const THROUGHPUT_WORKLOADS: readonly ThroughputWorkload[] = ["keepalive", "newconn", "bigbody", "bigbody8", "http1k", "http1m"];
/** The HTTP workloads: servers of files (HTTP_IDS), one request per connection, no upstream and no direct. */
export const HTTP_WORKLOADS: readonly ThroughputWorkload[] = ["http1k", "http1m"];
/** The workloads whose targets are ratios: judged on the median of at least this many repetitions. */
export const RATIO_WORKLOADS: readonly WorkloadId[] = ["keepalive", "newconn", "bigbody", "bigbody8", "idlescale", "http1k", "http1m"];
export const RATIO_REPS = 7;
/** More failed requests than this share, and a target cannot pass, whatever its rate. */
export const MAX_FAILED_SHARE = 0.001;
/** What one flow of one connection may hold (receive queue, read-ahead, pipe, write buffer): the stage 10 guide's bound. */
export const FLOW_BOUND = HELD_PER_FLOW;

export const MiB = 2 ** 20;
/** The pipe threshold of the reference core (DEFAULT_PIPE_BUFF_THRESH). */
export const PIPE_THRESHOLD = 1_000_000;
export const SLOW_GROWTH_LIMIT = 2 * PIPE_THRESHOLD + 16 * MiB;
/** "The growth does not change" from 64 to 256 MiB: it grows by at most this much more. */
export const SLOW_GROWTH_SAME = 4 * MiB;
export const IDLE_CPU_LIMIT_MS = 10;
export const IDLE_RSS_LIMIT = 80e6;
/**
 * What a Node server's RSS may grow by under load besides what it holds for
 * its connections: V8 frees a Buffer's memory (outside its heap) only at a
 * garbage collection, and starts one for that reason once about 64 MiB of it
 * was allocated since the last (its external-memory soft limit); and its
 * young generation grows to two 16 MiB semi-spaces under allocation pressure.
 */
export const V8_SLACK = 96 * MiB;

/**
 * The HTTP workloads' bound on a stage 15 server's peak RSS growth (peak
 * during the measured runs minus its RSS when it first answered): for each
 * connection in flight, what one flow may hold (FLOW_BOUND), or the whole
 * file when it is smaller, plus V8_SLACK. A server that kept what it served
 * (a leak) grows by gigabytes over the repetitions.
 */
export function httpRssGrowthLimit(w: ThroughputWorkload, s: Settings): number {
  const size = w === "http1m" ? HTTP_FILES.http1m.size : HTTP_FILES.http1k.size;
  return s.connections[w] * Math.min(size, FLOW_BOUND) + V8_SLACK;
}

export function isHttp(w: string): boolean {
  return (HTTP_WORKLOADS as readonly string[]).includes(w);
}

/** One measured run: what the generator reported (LoadResult), and what the bench read around it. */
export interface ThroughputRun extends LoadResult {
  rep: number;
  target: TargetId;
  error: string | null;
  /** CPU the proxy process used during the measured run (null for direct). */
  proxyCpuMs: number | null;
  upstreamCpuMs: number;
  proxyRssPeak: number | null;
  /** The process's RSS when it had answered its first request, before the warm-up (the HTTP workloads judge the growth from it). */
  proxyRssStart?: number | null;
  /** Share of all CPUs busy just before the run, while every target sat idle: other work on the machine. */
  busyBefore: number | null;
}

/** The new-connection workload's eager clients (clients.ts eagerClose) through one target. */
export interface ResetRun {
  rep: number;
  target: TargetId;
  error: string | null;
  /** Connections that got their whole answer, and how they ended. */
  connections: number;
  clean: number;
  resets: number;
  /** Connections that ended before their whole answer. */
  truncated: number;
}

/** One client's keep-alive rate through a target while `idle` other connections sit open on it. */
export interface IdleScaleRun {
  rep: number;
  target: TargetId;
  /** Idle connections asked for, and how many were open when the run ended. */
  idle: number;
  open: number;
  error: string | null;
  rps: number;
  requests: number;
  errors: number;
  resets: number;
  p99Ms: number | null;
}

export interface SlowRun {
  rep: number;
  target: TargetId;
  bodyMiB: 64 | 256;
  /** Slow clients through the proxy at once, each reading its own body. */
  clients: number;
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
  /** What a stage 11 server said it held just before the clients let go: its pipes, receive queues and write buffers. */
  held: { buffered: number; received: number; unsent: number } | null;
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
  /** Idle connections held open while one client measures its keep-alive rate (the first is 0). */
  idleScaleCounts: number[];
  idleScaleS: number;
  /** Seconds of eager clients per target and repetition of the new-connection workload. */
  eagerS: number;
  /** The many-readers case of the slow reader: this many clients, each at this rate. */
  slowClients: number;
  slowClientRate: number;
  /** Also run the learner's own stage 11 server (src/, or XPS_LEARNER_DIR). */
  learner: boolean;
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
    loadAvg: { before: number; after: number; samples?: number[] };
    /** RSS of an idle Node process, plain and under --import tsx (how the proxies are started). */
    runtimeBaseline: { nodeRss: number; nodeTsxRss: number } | null;
  };
  settings: Settings;
  skipped: { target: TargetId | "*"; workload: WorkloadId | "*"; reason: string }[];
  throughput: Record<ThroughputWorkload, ThroughputRun[]>;
  resets: ResetRun[];
  slowreader: SlowRun[];
  idle: IdleRun[];
  idlescale: IdleScaleRun[];
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

/** Ratios to direct measured the same way on this class of machine (the issue's figures). */
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
  /** Failed requests (generator errors) out of all the target's requests in the workload, and the socket errors among them. */
  errors: { failed: number; total: number; resets: number } | null;
  note: string | null;
}

export interface Verdict {
  text: string;
  measured: string;
  limit: string;
  /** null: could not be judged (workload not run, target missing), or a figure only reported. */
  pass: boolean | null;
  stretch: boolean;
  /** A figure reported beside a target, not judged. */
  info?: boolean;
  /** Judged on fewer than RATIO_REPS repetitions (--quick, --reps): the verdict may change on a full run. */
  provisional?: boolean;
}

export const WORKLOAD_LABELS: Record<string, string> = {
  keepalive: "keep-alive, 100 B",
  newconn: "new conn per request",
  bigbody: "64 MiB body",
  bigbody8: "64 MiB body, 8 conns",
  http1k: "HTTP 1 KiB, close",
  http1m: "HTTP 1 MiB, close",
  "newconn-resets": "new conn, eager clients",
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
  if (isBigBody(w)) return r.bytes > 0 ? (r.proxyCpuMs / r.bytes) * 1e9 : null; // ms per GB
  return r.requests > 0 ? (r.proxyCpuMs / r.requests) * 1000 : null; // ms per 1k requests
}

/** A run's peak RSS minus the process's RSS when it first answered; null when either is unknown. */
function rssGrowth(r: ThroughputRun): number | null {
  return r.error !== null || r.proxyRssPeak === null || r.proxyRssStart == null ? null : r.proxyRssPeak - r.proxyRssStart;
}

function isBigBody(w: ThroughputWorkload): boolean {
  return w === "bigbody" || w === "bigbody8";
}

function sum<T>(xs: T[], f: (x: T) => number): number {
  return xs.reduce((a, x) => a + f(x), 0);
}

/** A failed share as a short text: "0.25%". */
export function pct(share: number): string {
  return `${(share * 100).toFixed(share < 0.001 ? 3 : 2)}%`;
}

/** The failed requests of a target's runs, and its runs that failed outright. */
interface Countable {
  target: TargetId;
  error: string | null;
  requests: number;
  errors: number;
  resets: number;
}

function failures<T extends Countable>(runs: T[], t: TargetId): { runs: T[]; failedRuns: T[]; failed: number; total: number; resets: number } {
  const mine = runs.filter((r) => r.target === t);
  const failed = sum(mine, (r) => r.errors);
  return { runs: mine, failedRuns: mine.filter((r) => r.error !== null), failed, total: failed + sum(mine, (r) => r.requests), resets: sum(mine, (r) => r.resets) };
}

/** When a target's runs, all of them failing, had one reason: that reason, for its rows. */
function oneReason(failedRuns: { error: string | null }[], all: number): string | null {
  if (failedRuns.length === 0 || failedRuns.length < all) return null;
  const first = failedRuns[0]!.error!;
  return failedRuns.every((r) => r.error === first) ? first : null;
}

export function summarise(res: BenchResults): Row[] {
  const rows: Row[] = [];
  const s = res.settings;
  const blank = { toDirect: null, toNaive: null, cpu: null, cpuUnit: "", p50: null, p99: null, errors: null };
  for (const w of THROUGHPUT_WORKLOADS) {
    const runs = res.throughput[w] ?? [];
    if (runs.length === 0) continue;
    const reps = s.reps[w];
    const primary = (r: ThroughputRun): number | null => (r.error !== null ? null : isBigBody(w) ? r.mbps : r.rps);
    const direct = byRep(runs, "direct", reps, primary);
    const naive = byRep(runs, isHttp(w) ? "nodehttp" : "naive", reps, primary);
    const latency = w === "keepalive" || isHttp(w);
    for (const t of TARGET_IDS) {
      if (!runs.some((r) => r.target === t)) continue;
      const mine = byRep(runs, t, reps, primary);
      const f = failures(runs, t);
      const notes: string[] = [];
      const reason = oneReason(f.failedRuns, f.runs.length);
      if (reason !== null) notes.push(`failed: ${reason}`);
      else if (f.failedRuns.length > 0) notes.push(`${f.failedRuns.length} run(s) failed: ${f.failedRuns[0]!.error}`);
      if (f.failed > 0) notes.push(`${f.failed} failed requests of ${f.total} (${pct(f.failed / f.total)}), ${f.resets} of them socket errors`);
      const noisy = f.runs.filter((r) => r.busyBefore !== null && r.busyBefore > 0.2).length;
      if (noisy > 0) notes.push(`${noisy} run(s) started while other work kept the machine busy`);
      const rss = spread(byRep(runs, t, reps, (r) => (r.error !== null ? null : r.proxyRssPeak)));
      const growth = spread(byRep(runs, t, reps, rssGrowth));
      if (isHttp(w) && reason === null && rss) {
        notes.push(`peak RSS ${(rss.median / 1e6).toFixed(1)} MB (${(rss.min / 1e6).toFixed(1)}-${(rss.max / 1e6).toFixed(1)})${growth ? `, +${(growth.median / 1e6).toFixed(1)} MB over its RSS at start` : ""}`);
      }
      rows.push({
        key: w,
        workload: WORKLOAD_LABELS[w]!,
        target: t,
        unit: isBigBody(w) ? "MB/s" : w === "newconn" ? "conn/s" : "req/s",
        value: spread(mine),
        toDirect: ratioSpread(mine, direct),
        toNaive: ratioSpread(mine, naive),
        cpu: spread(byRep(runs, t, reps, (r) => cpuPerUnit(w, r))),
        cpuUnit: isBigBody(w) ? "ms/GB" : "ms/1k",
        p50: latency ? spread(byRep(runs, t, reps, (r) => (r.error ? null : r.p50Ms))) : null,
        p99: latency ? spread(byRep(runs, t, reps, (r) => (r.error ? null : r.p99Ms))) : null,
        errors: reason === null ? { failed: f.failed, total: f.total, resets: f.resets } : null,
        note: notes.length > 0 ? notes.join("; ") : null,
      });
    }
  }
  const resetRuns = res.resets ?? [];
  for (const t of PROXY_IDS) {
    const runs = resetRuns.filter((r) => r.target === t);
    if (runs.length === 0) continue;
    const share = (r: ResetRun): number | null => (r.error !== null || r.connections + r.truncated === 0 ? null : (r.resets + r.truncated) / (r.connections + r.truncated));
    const failedRuns = runs.filter((r) => r.error !== null);
    const reason = oneReason(failedRuns, runs.length);
    const attempts = sum(runs, (r) => r.connections + r.truncated);
    const resets = sum(runs, (r) => r.resets);
    const truncated = sum(runs, (r) => r.truncated);
    const notes = [
      reason !== null ? `failed: ${reason}` : `${resets} of ${attempts} connections reset after their whole answer, ${truncated} cut short (${attempts > 0 ? pct((resets + truncated) / attempts) : "-"} in all)`,
    ];
    if (reason === null && failedRuns.length > 0) notes.push(`${failedRuns.length} run(s) failed: ${failedRuns[0]!.error}`);
    rows.push({
      ...blank,
      key: "newconn-resets",
      workload: WORKLOAD_LABELS["newconn-resets"]!,
      target: t,
      unit: "% reset",
      value: spread(byRep(runs, t, s.reps.newconn, (r) => {
        const v = share(r);
        return v === null ? null : v * 100;
      })),
      errors: reason === null ? { failed: resets + truncated, total: attempts, resets } : null,
      note: notes.join("; "),
    });
  }
  for (const key of ["slowreader-64", "slowreader-256", "slowreader-many"] as const) {
    const runs = res.slowreader.filter((r) => (key === "slowreader-many" ? r.clients > 1 : r.clients === 1 && `slowreader-${r.bodyMiB}` === key));
    if (runs.length === 0) continue;
    const reps = s.reps.slowreader;
    const n = runs[0]!.clients;
    // One client: growth in MiB. Many: growth per client in MB (the bound is in bytes).
    const scale = n === 1 ? MiB : n * 1e6;
    const growth = (r: SlowRun): number | null => (r.error !== null ? null : r.growth / scale);
    const naive = byRep(runs, "naive", reps, growth);
    for (const t of PROXY_IDS) {
      if (!runs.some((r) => r.target === t)) continue;
      const mine = byRep(runs, t, reps, growth);
      const failedRuns = runs.filter((r) => r.target === t && r.error !== null);
      const reason = oneReason(failedRuns, runs.filter((r) => r.target === t).length);
      const rate = spread(byRep(runs, t, reps, (r) => r.bytesRead / r.seconds / MiB / r.clients));
      const peakPipe = spread(byRep(runs, t, reps, (r) => r.peakPipeBuffered));
      const held = spread(byRep(runs, t, reps, (r) => (r.held === null ? null : (r.held.buffered + r.held.received + r.held.unsent) / r.clients)));
      const notes: string[] = [];
      if (reason !== null) notes.push(`failed: ${reason}`);
      else {
        if (rate) notes.push(`read ${rate.median.toFixed(2)} MiB/s${n > 1 ? " each" : ""}`);
        if (peakPipe) notes.push(`peak pipe ${(peakPipe.max / 1e6).toFixed(2)} MB`);
        if (held && n > 1) notes.push(`held per client (stats) ${(held.median / 1e6).toFixed(2)} MB`);
        const v = spread(mine);
        if (v && n > 1) notes.push(`RSS per client ${(v.median / (FLOW_BOUND / 1e6)).toFixed(2)}x the bound of ${(FLOW_BOUND / 1e6).toFixed(2)} MB`);
        notes.push(`peak RSS ${(spread(byRep(runs, t, reps, (r) => r.rssPeak))!.median / MiB).toFixed(1)} MiB`);
        if (failedRuns.length > 0) notes.push(`${failedRuns.length} run(s) failed: ${failedRuns[0]!.error}`);
      }
      rows.push({
        ...blank,
        key,
        workload: n === 1 ? WORKLOAD_LABELS[key]! : `${n} slow readers, 64 MiB`,
        target: t,
        unit: n === 1 ? "MiB RSS growth" : "MB RSS per client",
        value: spread(mine),
        toNaive: t === "naive" ? null : ratioSpread(mine, naive),
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
      const reason = oneReason(errs, runs.filter((r) => r.target === t).length);
      const open = spread(byRep(runs, t, reps, (r) => r.open));
      const base = spread(byRep(runs, t, reps, (r) => (r.error ? null : r.rssBaseline)));
      const perConn = spread(byRep(runs, t, reps, (r) => (r.error ? null : (r.rss - r.rssBaseline) / n)));
      const notes: string[] = [];
      const settleCpu = spread(byRep(runs, t, reps, (r) => r.settleCpuMs));
      if (reason !== null) notes.push(`failed: ${reason}`);
      else {
        if (base && perConn) notes.push(`settled fresh process ${(base.median / 1e6).toFixed(1)} MB, then ${(perConn.median / 1e3).toFixed(1)} kB per connection`);
        if (settleCpu && n === s.idleCounts[0]) notes.push(`${settleCpu.median.toFixed(0)} ms CPU while settling after start-up`);
        if (open && open.min < n) notes.push(`only ${open.min} of ${n} stayed open`);
        if (errs.length > 0) notes.push(`${errs.length} run(s) failed: ${errs[0]!.error}`);
      }
      rows.push({
        ...blank,
        key: `idle-${n}`,
        workload: `${n.toLocaleString("en-US")} idle conns`,
        target: t,
        unit: "MB RSS",
        value: spread(mine.map((v) => (v === null ? null : v / 1e6))),
        toNaive: t === "naive" ? null : ratioSpread(mine, naive),
        cpu: spread(byRep(runs, t, reps, (r) => (r.error ? null : r.cpuMsPer10s))),
        cpuUnit: "ms/10s",
        note: notes.length > 0 ? notes.join("; ") : null,
      });
    }
  }
  const scale = res.idlescale ?? [];
  for (const n of s.idleScaleCounts ?? []) {
    const runs = scale.filter((r) => r.idle === n);
    if (runs.length === 0) continue;
    const reps = s.reps.idlescale;
    const rate = (r: IdleScaleRun): number | null => (r.error !== null ? null : r.rps);
    const naive = byRep(runs, "naive", reps, rate);
    for (const t of PROXY_IDS) {
      if (!runs.some((r) => r.target === t)) continue;
      const mine = byRep(runs, t, reps, rate);
      const base = byRep(scale.filter((r) => r.idle === s.idleScaleCounts[0]), t, reps, rate);
      const f = failures(runs, t);
      const reason = oneReason(f.failedRuns, f.runs.length);
      const toBase = ratioSpread(mine, base);
      const notes: string[] = [];
      if (reason !== null) notes.push(`failed: ${reason}`);
      else {
        if (n > 0 && toBase) notes.push(`${toBase.median.toFixed(3)}x its rate with 0 idle (${toBase.min.toFixed(3)}-${toBase.max.toFixed(3)})`);
        const open = spread(byRep(runs, t, reps, (r) => r.open));
        if (open && open.min < n) notes.push(`only ${open.min} of ${n} idle connections stayed open`);
        if (f.failedRuns.length > 0) notes.push(`${f.failedRuns.length} run(s) failed: ${f.failedRuns[0]!.error}`);
      }
      rows.push({
        ...blank,
        key: `idlescale-${n}`,
        workload: `1 conn, ${n.toLocaleString("en-US")} idle`,
        target: t,
        unit: "req/s",
        value: spread(mine),
        toNaive: ratioSpread(mine, naive),
        p99: spread(byRep(runs, t, reps, (r) => (r.error ? null : r.p99Ms))),
        errors: reason === null ? { failed: f.failed, total: f.total, resets: f.resets } : null,
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

/**
 * The issue's targets, judged on this run for the reference core (xps) and,
 * with --learner, for the learner's server. A target whose runs had more
 * than MAX_FAILED_SHARE failed requests, or a run that failed outright,
 * cannot pass whatever its rate.
 */
export function judge(rows: Row[], res: BenchResults): Verdict[] {
  const subjects = (["xps", "learner", "xps15", "learner15"] as const).filter((t) => t === "xps" || t === "xps15" || res.settings.learner);
  return subjects.flatMap((t) => {
    // A server that failed on every workload gets one line, with the reason, instead of a line per target.
    const mine = rows.filter((r) => r.target === t);
    const reasons = [...new Set(mine.map((r) => (r.note?.startsWith("failed: ") ? r.note.slice(8) : null)))];
    if (mine.length > 0 && reasons.length === 1 && reasons[0] !== null) {
      return [{ text: `${TARGET_LABELS[t]}: every target`, measured: `the server failed: ${reasons[0]}`, limit: "-", pass: false, stretch: false }];
    }
    return t === "xps" || t === "learner" ? judgeTarget(rows, res, t) : judgeHttp(rows, res, t);
  });
}

/** Why `me` cannot pass a target of the workload of `runs`, whatever its figure: null when nothing stands in the way. */
function gateOf(runs: Countable[], me: TargetId): string | null {
  const f = failures(runs, me);
  if (f.failedRuns.length > 0) return `${f.failedRuns.length} run(s) failed`;
  if (f.total > 0 && f.failed / f.total > MAX_FAILED_SHARE) return `${pct(f.failed / f.total)} of requests failed`;
  return null;
}

function judgeTarget(rows: Row[], res: BenchResults, me: "xps" | "learner"): Verdict[] {
  const v: Verdict[] = [];
  const s = res.settings;
  const who = me === "xps" ? "xps" : "yours";
  const gate = (runs: Countable[]): string | null => gateOf(runs, me);
  const { add, ratioTo, cpu, blockedIf } = verdictTools(res, me, v);
  const rate = (r: ThroughputRun): number | null => (r.error !== null ? null : r.mbps);

  const ka = blockedIf("keepalive");
  add("keepalive", `keep-alive: req/s, ${who} / naive`, ">= 1.00x", row(rows, "keepalive", me)?.toNaive, (m) => m >= 1.0, x, { blocked: ka });
  add("keepalive", `keep-alive: p99 latency, ${who} / naive`, "<= 1.00x", ratioTo("keepalive", "naive", (r) => (r.error ? null : r.p99Ms)), (m) => m <= 1.0, x, { blocked: ka });
  add("keepalive", `keep-alive: CPU per request, ${who} / naive`, "<= 1.00x", cpu("keepalive"), (m) => m <= 1.0, x, { blocked: ka });
  add("keepalive", `keep-alive: CPU per request, ${who} / naive (stretch)`, "<= 0.80x", cpu("keepalive"), (m) => m <= 0.8, x, { blocked: ka, stretch: true });
  const nc = blockedIf("newconn");
  add("newconn", `new connection: conn/s, ${who} / naive`, ">= 1.00x", row(rows, "newconn", me)?.toNaive, (m) => m >= 1.0, x, { blocked: nc });
  add("newconn", `new connection: CPU per connection, ${who} / naive`, "<= 1.00x", cpu("newconn"), (m) => m <= 1.0, x, { blocked: nc });

  // Reset rate of the eager clients: pooled over the repetitions (resets are rare events), against nginx's and absolute.
  const resetRuns = (res.resets ?? []).filter((r) => r.error === null);
  const pooled = (t: TargetId): { share: number; n: number } | null => {
    const mine = resetRuns.filter((r) => r.target === t);
    const attempts = sum(mine, (r) => r.connections + r.truncated);
    return attempts === 0 ? null : { share: sum(mine, (r) => r.resets + r.truncated) / attempts, n: attempts };
  };
  const myResets = pooled(me);
  const nginxResets = pooled("nginx");
  const resetsFailed = (res.resets ?? []).filter((r) => r.target === me && r.error !== null).length;
  const asSpread = (p: { share: number } | null): Spread | null => (p === null ? null : { median: p.share, min: p.share, max: p.share, n: 1 });
  const resetBlock = resetsFailed > 0 ? `${resetsFailed} run(s) failed` : null;
  if (s.only.includes("newconn") && (nginxResets !== null || resetBlock !== null)) {
    add("newconn", `new connection, eager clients: reset rate, ${who}`, `<= nginx's${nginxResets ? ` (${pct(nginxResets.share)})` : ""}`, asSpread(myResets), (m) => m <= nginxResets!.share, pct, { blocked: resetBlock });
  } else if (s.only.includes("newconn") && myResets !== null) {
    v.push({ text: `new connection, eager clients: reset rate, ${who}`, limit: "<= nginx's (no nginx in this run)", measured: pct(myResets.share), pass: null, stretch: false });
  }
  add("newconn", `new connection, eager clients: reset rate, ${who}`, `< ${pct(MAX_FAILED_SHARE)}`, asSpread(myResets), (m) => m < MAX_FAILED_SHARE, pct, { blocked: resetBlock });

  const bb = blockedIf("bigbody");
  add("bigbody", `64 MiB body, 1 connection: MB/s, ${who} / naive`, ">= 0.95x", row(rows, "bigbody", me)?.toNaive, (m) => m >= 0.95, x, { blocked: bb });
  add("bigbody", `64 MiB body, 1 connection: MB/s, ${who} / nginx stream (aim)`, ">= 1.00x", ratioTo("bigbody", "nginx", rate), (m) => m >= 1.0, x, { blocked: bb, stretch: true });
  const bb8 = blockedIf("bigbody8");
  add("bigbody8", `64 MiB body, 8 connections: MB/s, ${who} / naive`, ">= 1.00x", row(rows, "bigbody8", me)?.toNaive, (m) => m >= 1.0, x, { blocked: bb8 });
  add("bigbody8", `64 MiB body, 8 connections: MB/s, ${who} / nginx stream (aim)`, ">= 1.00x", ratioTo("bigbody8", "nginx", rate), (m) => m >= 1.0, x, { blocked: bb8, stretch: true });

  const mib = (m: number): string => `${m.toFixed(1)} MiB`;
  const limitMiB = SLOW_GROWTH_LIMIT / MiB;
  const slowBlock = (key: string): string | null => (row(rows, key, me)?.note?.startsWith("failed: ") ? row(rows, key, me)!.note!.slice(8) : null);
  const g64 = row(rows, "slowreader-64", me)?.value;
  const g256 = row(rows, "slowreader-256", me)?.value;
  add("slowreader", `slow reader, 64 MiB body: ${who} RSS growth`, `<= ${limitMiB.toFixed(1)} MiB`, g64, (m) => m <= limitMiB, mib, { blocked: slowBlock("slowreader-64") });
  add("slowreader", `slow reader, 256 MiB body: ${who} RSS growth`, `<= ${limitMiB.toFixed(1)} MiB`, g256, (m) => m <= limitMiB, mib, { blocked: slowBlock("slowreader-256") });
  const sameText = `slow reader: growth 256 MiB minus growth 64 MiB (${who})`;
  if (g64 && g256) {
    const d = g256.median - g64.median;
    // One-sided: memory held for the body would add up to 192 MiB; a drop
    // is only a garbage collection that came at a different moment.
    v.push({ text: sameText, limit: `<= +${SLOW_GROWTH_SAME / MiB} MiB`, measured: `${d >= 0 ? "+" : ""}${d.toFixed(1)} MiB`, pass: d <= SLOW_GROWTH_SAME / MiB, stretch: false });
  } else if (s.only.includes("slowreader")) {
    v.push({ text: sameText, limit: `<= +${SLOW_GROWTH_SAME / MiB} MiB`, measured: "n/a", pass: null, stretch: false });
  }
  const many = res.slowreader.filter((r) => r.clients > 1 && r.target === me);
  if (many.length > 0 || s.only.includes("slowreader")) {
    const n = many[0]?.clients ?? s.slowClients;
    const bound = FLOW_BOUND / 1e6;
    const mb = (m: number): string => `${m.toFixed(2)} MB`;
    // In MB, as the bound is (the stats count bytes).
    const held = spread(many.map((r) => (r.error !== null || r.held === null ? null : (r.held.buffered + r.held.received + r.held.unsent) / r.clients / 1e6)));
    add("slowreader", `${n} slow readers: bytes ${who} holds per client (stats: pipes, receive queues, write buffers)`, `<= ${mb(bound)}`, held, (m) => m <= bound, mb, { blocked: slowBlock("slowreader-many") });
    const rss = row(rows, "slowreader-many", me)?.value;
    add("slowreader", `${n} slow readers: ${who} RSS growth per client, against that bound`, `${mb(bound)} (reported)`, rss, () => true, (m) => `${mb(m)} = ${(m / bound).toFixed(2)}x`, { info: true });
  }

  const ms = (m: number): string => `${m.toFixed(1)} ms`;
  for (const n of s.idleCounts) {
    const r = row(rows, `idle-${n}`, me);
    add("idle", `${n.toLocaleString("en-US")} idle connections: ${who} CPU per 10 s`, `<= ${IDLE_CPU_LIMIT_MS} ms`, r?.cpu, (m) => m <= IDLE_CPU_LIMIT_MS, ms, { blocked: r?.note?.startsWith("failed: ") ? r.note.slice(8) : null });
  }
  if (s.idleCounts.includes(1000)) {
    add("idle", `1,000 idle connections: ${who} RSS`, `<= ${IDLE_RSS_LIMIT / 1e6} MB`, row(rows, "idle-1000", me)?.value, (m) => m <= IDLE_RSS_LIMIT / 1e6, (m) => `${m.toFixed(1)} MB`);
  }

  const scale = (res.idlescale ?? []).filter((r) => r.target === me);
  if (scale.length > 0 || s.only.includes("idlescale")) {
    const counts = s.idleScaleCounts ?? [];
    const top = counts[counts.length - 1] ?? 0;
    const rateAt = (n: number): (number | null)[] => byRep(scale.filter((r) => r.idle === n), me, s.reps.idlescale, (r) => (r.error !== null ? null : r.rps));
    const ratio = top > 0 ? ratioSpread(rateAt(top), rateAt(0)) : null;
    const cut = top < IDLE_SCALE_TARGET ? ` (${IDLE_SCALE_TARGET.toLocaleString("en-US")} did not fit; see the notes)` : "";
    add("idlescale", `idle scaling: 1 client's req/s with ${top.toLocaleString("en-US")} idle / with 0 idle, ${who}${cut}`, ">= 0.90x", ratio, (m) => m >= 0.9, x, {
      blocked: gate(scale),
    });
  }
  return v;
}

type AddVerdict = (
  w: WorkloadId | null,
  text: string,
  limit: string,
  measured: Spread | null | undefined,
  ok: (m: number) => boolean,
  fmt: (m: number) => string,
  opts?: { stretch?: boolean; blocked?: string | null; info?: boolean },
) => void;

/** What judging `me` on the throughput workloads needs: a verdict added to `v` (or not, when its workload did not run), ratios to another target by repetition. */
function verdictTools(res: BenchResults, me: TargetId, v: Verdict[]) {
  const s = res.settings;
  const add: AddVerdict = (w, text, limit, measured, ok, fmt, opts = {}) => {
    if (w !== null && !s.only.includes(w)) return;
    const provisional = w !== null && RATIO_WORKLOADS.includes(w) && (s.quick || s.reps[w] < RATIO_REPS) ? true : undefined;
    const base = { text, limit, stretch: opts.stretch === true, info: opts.info, provisional };
    if (!measured) {
      v.push({ ...base, measured: opts.blocked ? `n/a (${opts.blocked})` : "n/a", pass: opts.blocked ? false : null });
      return;
    }
    const range = measured.n > 1 ? ` (${fmt(measured.min)}-${fmt(measured.max)}, n=${measured.n})` : "";
    const blocked = opts.blocked ? `; ${opts.blocked}` : "";
    v.push({ ...base, measured: `${fmt(measured.median)}${range}${blocked}`, pass: opts.info ? null : opts.blocked ? false : ok(measured.median) });
  };
  const tp = (w: ThroughputWorkload): ThroughputRun[] => res.throughput[w] ?? [];
  const ran = (w: ThroughputWorkload): boolean => tp(w).some((r) => r.target === me);
  const ratioTo = (w: ThroughputWorkload, other: TargetId, pick: (r: ThroughputRun) => number | null): Spread | null =>
    ran(w) ? ratioSpread(byRep(tp(w), me, s.reps[w], pick), byRep(tp(w), other, s.reps[w], pick)) : null;
  const cpu = (w: ThroughputWorkload): Spread | null => ratioTo(w, peerOf(me), (r) => cpuPerUnit(w, r));
  const blockedIf = (w: ThroughputWorkload): string | null => (ran(w) ? gateOf(tp(w), me) : null);
  return { add, tp, ran, ratioTo, cpu, blockedIf };
}

/**
 * The HTTP workloads' targets for a stage 15 server (the reference's, or the
 * learner's): on each file size, at least the plain Node server's req/s and
 * no more CPU per request, peak RSS within HTTP_RSS_LIMIT, and the ratio to
 * nginx's http server reported.
 */
function judgeHttp(rows: Row[], res: BenchResults, me: "xps15" | "learner15"): Verdict[] {
  const v: Verdict[] = [];
  const who = me === "xps15" ? "xps" : "yours";
  const { add, tp, ran, ratioTo, cpu, blockedIf } = verdictTools(res, me, v);
  const mb = (m: number): string => `${(m / 1e6).toFixed(1)} MB`;
  for (const w of HTTP_WORKLOADS) {
    const label = WORKLOAD_LABELS[w]!;
    const blocked = blockedIf(w);
    const rps = (r: ThroughputRun): number | null => (r.error !== null ? null : r.rps);
    add(w, `${label}: req/s, ${who} / naive http`, ">= 1.00x", row(rows, w, me)?.toNaive, (m) => m >= 1.0, x, { blocked });
    add(w, `${label}: CPU per request, ${who} / naive http`, "<= 1.00x", cpu(w), (m) => m <= 1.0, x, { blocked });
    const growth = ran(w) ? spread(byRep(tp(w), me, res.settings.reps[w], rssGrowth)) : null;
    const limit = httpRssGrowthLimit(w, res.settings);
    add(w, `${label}: peak RSS growth, ${who}`, `<= ${mb(limit)}`, growth, (m) => m <= limit, mb, { blocked });
    const peak = (r: ThroughputRun): number | null => (r.error !== null ? null : r.proxyRssPeak);
    add(w, `${label}: peak RSS, ${who} / naive http`, "(reported)", ratioTo(w, "nodehttp", peak), () => true, x, { info: true });
    const nginxRan = tp(w).some((r) => r.target === "nginxhttp");
    if (nginxRan) add(w, `${label}: req/s, ${who} / nginx http`, "(reported)", ratioTo(w, "nginxhttp", rps), () => true, x, { info: true });
    else if (res.settings.only.includes(w)) v.push({ text: `${label}: req/s, ${who} / nginx http`, limit: "(reported)", measured: "n/a (no nginx in this run)", pass: null, stretch: false, info: true });
  }
  return v;
}

/** The idle-scaling target's number of idle connections. */
export const IDLE_SCALE_TARGET = 10_000;
