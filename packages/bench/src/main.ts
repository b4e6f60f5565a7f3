// pnpm bench: the stage 11 solution proxy side by side with direct access to
// the upstream (the ceiling), a naive Node pipe proxy, nginx's stream proxy
// and (--learner) the learner's own stage 11 server, on seven workloads; and
// the stage 15 solution server beside a plain Node http server and nginx's
// http server on two HTTP workloads. See docs/performance.md for the method.
//
//   pnpm bench [--quick] [--learner] [--only keepalive,newconn,...]
//              [--reps N] [--generator wrk|autocannon] [--profile]
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { fileURLToPath } from "node:url";
import { installCleanup, sleep, spawnGuarded, stopAllChildren } from "./children.ts";
import { IdleClients, eagerClose, slowRead } from "./clients.ts";
import {
  autocannonVersion,
  findCurl,
  findWrk,
  runCurlBodies,
  runLoad,
  wrkVersion,
  type GeneratorId,
  type LoadResult,
} from "./generators.ts";
import { cpuMs, cpuNs, machineBusy, machineInfo, openFileLimits, rssBytes } from "./proc.ts";
import { formatProfile, mainProfile } from "./profile.ts";
import { formatTable, formatVerdicts, renderSvg } from "./report.ts";
import {
  HTTP_WORKLOADS,
  IDLE_RSS_LIMIT,
  IDLE_SCALE_TARGET,
  MiB,
  RATIO_REPS,
  RATIO_WORKLOADS,
  REFERENCE,
  SLOW_GROWTH_LIMIT,
  THROUGHPUT_WORKLOADS,
  WORKLOADS,
  isHttp,
  judge,
  summarise,
  type BenchResults,
  type IdleRun,
  type IdleScaleRun,
  type Settings,
  type SlowRun,
  type ThroughputRun,
  type ThroughputWorkload,
  type WorkloadId,
} from "./results.ts";
import {
  CHILD_NOFILE,
  HTTP_FILES,
  HTTP_IDS,
  PROXY_IDS,
  REPO_ROOT,
  STAGE15_DIR,
  TARGET_LABELS,
  findNginx,
  isNodeTarget,
  makeHttpFolder,
  pidOf,
  probe,
  startTarget,
  startUpstream,
  prepareNodeTargets,
  stopRunning,
  unavailable,
  xpsStats,
  type NginxInfo,
  type Running,
  type TargetId,
} from "./targets.ts";
import { scriptArgs } from "@xps/utils/args";

const USAGE = `pnpm bench: the stage 11 proxy against direct, a naive Node proxy and nginx stream;
the stage 15 server against a plain Node http server and nginx http

Usage: pnpm bench [options]

  --learner               also run your own stage 11 and stage 15 servers (the
                          files in stages/stage-11-upstream/src and
                          stages/stage-15-http-response/src, or XPS_LEARNER_DIR)
                          on every workload, beside the reference
  --quick                 a few minutes: fewer repetitions, shorter runs; its
                          verdicts are provisional
  --only LIST             some workloads only, comma-separated: keepalive,
                          newconn, bigbody, bigbody8, slowreader, idle, idlescale,
                          http1k, http1m
  --reps N                repetitions of every workload (default ${RATIO_REPS} for the
                          ratio-judged keepalive, newconn, bigbody, bigbody8,
                          idlescale, http1k and http1m, 3 for slowreader and
                          idle; --quick: 2 and 1);
                          below ${RATIO_REPS} the ratio verdicts are provisional
  --generator NAME        wrk (default when installed) or autocannon
  --tsx                   run the two Node proxies under --import tsx, as
                          pnpm start does, instead of as esbuild bundles
  --profile               also write CPU profiles of the two Node proxies per
                          workload (node --cpu-prof) and print their top
                          functions; the profiler slows them down
  --report FILE           print the table and verdicts of a saved run
                          (bench-results/*.json) again; rewrites its .svg, .txt
  --help                  this text

Writes bench-results/<time>.json, .svg and .txt, and latest.* beside them.
nginx's row needs Debian's nginx and its stream module:
  sudo apt-get install nginx libnginx-mod-stream
(XPS_BENCH_NGINX=/path/to/nginx picks another binary; =none leaves it out.)`;

const OUT_DIR = path.join(REPO_ROOT, "bench-results");
const HERE = path.dirname(fileURLToPath(import.meta.url));
// Node raises its soft open-files limit to the hard one at start-up; below
// this, 1,000 idle connections through three proxies do not fit.
const FD_NEEDED = 4096;
/** Open files a process needs besides its idle connections' sockets (listeners, the load, stdio, libuv's own). */
const FD_SPARE = 256;

class UsageError extends Error {}

function parseCli(argv: string[]): Settings | "help" | { report: string } {
  let values: { quick?: boolean; learner?: boolean; only?: string; reps?: string; generator?: string; profile?: boolean; tsx?: boolean; report?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        quick: { type: "boolean" },
        learner: { type: "boolean" },
        only: { type: "string" },
        reps: { type: "string" },
        generator: { type: "string" },
        profile: { type: "boolean" },
        tsx: { type: "boolean" },
        report: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError((err as Error).message.split("\n")[0]!);
  }
  if (values.help) return "help";
  if (values.report !== undefined) {
    if (Object.keys(values).length > 1) throw new UsageError("--report FILE takes no other option");
    return { report: values.report };
  }
  let only: WorkloadId[] = [...WORKLOADS];
  if (values.only !== undefined) {
    const names = values.only.split(",").map((s) => s.trim()).filter((s) => s !== "");
    const bad = names.filter((n) => !(WORKLOADS as readonly string[]).includes(n));
    if (names.length === 0 || bad.length > 0) {
      throw new UsageError(`--only wants some of ${WORKLOADS.join(",")}; got "${values.only}"`);
    }
    only = WORKLOADS.filter((w) => names.includes(w));
  }
  let repsOverride: number | null = null;
  if (values.reps !== undefined) {
    const n = Number(values.reps);
    if (!Number.isInteger(n) || n < 1 || n > 50) throw new UsageError(`--reps wants a whole number from 1 to 50; got "${values.reps}"`);
    repsOverride = n;
  }
  const wrk = findWrk();
  let generator: GeneratorId = wrk !== null ? "wrk" : "autocannon";
  if (values.generator !== undefined) {
    if (values.generator !== "wrk" && values.generator !== "autocannon") {
      throw new UsageError(`--generator wants wrk or autocannon; got "${values.generator}"`);
    }
    if (values.generator === "wrk" && wrk === null) throw new UsageError("--generator wrk: wrk is not installed (sudo apt-get install wrk)");
    generator = values.generator;
  }
  const quick = values.quick === true;
  const reps = (full: number, q: number): number => repsOverride ?? (quick ? q : full);
  const ratioReps = reps(RATIO_REPS, 2);
  return {
    quick,
    only,
    generator,
    reps: {
      keepalive: ratioReps,
      newconn: ratioReps,
      bigbody: ratioReps,
      bigbody8: ratioReps,
      idlescale: ratioReps,
      http1k: ratioReps,
      http1m: ratioReps,
      slowreader: reps(3, 1),
      idle: reps(3, 1),
    },
    durationS: quick
      ? { keepalive: 1, newconn: 1, bigbody: 1, bigbody8: 2, http1k: 1, http1m: 1 }
      : { keepalive: 4, newconn: 4, bigbody: 3, bigbody8: 3, http1k: 4, http1m: 4 },
    warmupS: quick ? 1 : 2,
    connections: { keepalive: 50, newconn: 50, bigbody: 1, bigbody8: 8, http1k: 50, http1m: 8 },
    slowReadSeconds: quick ? 3 : 10,
    slowReadRate: MiB,
    idleSettleS: quick ? 2 : 5,
    settleMinS: 10,
    idleMeasureS: quick ? 3 : 10,
    idleCounts: [100, 1000],
    idleScaleCounts: [0, 1000, IDLE_SCALE_TARGET],
    idleScaleS: quick ? 1 : 3,
    eagerS: quick ? 1 : 2,
    slowClients: 50,
    slowClientRate: 64 * 1024,
    learner: values.learner === true,
    profile: values.profile === true,
    nodeRunner: values.tsx === true ? "tsx" : "bundle",
  };
}

/** Rough duration of the run, for the first lines of output. */
function estimateSeconds(s: Settings, nTargets: number): number {
  let t = 0;
  for (const w of THROUGHPUT_WORKLOADS) {
    if (!s.only.includes(w)) continue;
    // The HTTP workloads have no direct.
    const n = isHttp(w) ? nTargets - 1 : nTargets;
    t += 4 + n * (s.warmupS + 0.3) + s.reps[w] * n * (s.durationS[w] + 0.3);
    if (w === "newconn") t += s.reps[w] * (nTargets - 1) * (s.eagerS + 0.3);
  }
  if (s.only.includes("idlescale")) {
    // Per proxy and repetition: a run per count, and opening the idle connections (about 2,500 a second).
    const top = s.idleScaleCounts[s.idleScaleCounts.length - 1] ?? 0;
    t += 4 + (nTargets - 1) * (s.warmupS + s.reps.idlescale * (s.idleScaleCounts.length * (s.idleScaleS + 0.5) + top / 2500 + 1));
  }
  const slow = s.only.includes("slowreader");
  const idle = s.only.includes("idle");
  for (let rep = 1; rep <= Math.max(slow ? s.reps.slowreader : 0, idle ? s.reps.idle : 0); rep++) {
    t += 4 + s.settleMinS;
    if (slow && rep <= s.reps.slowreader) t += 2 * (s.slowReadSeconds + 1); // the single readers, then the 50
    if (idle && rep <= s.reps.idle) t += s.idleCounts.length * (s.idleSettleS + s.idleMeasureS + 2);
  }
  return Math.round(t);
}

/** Other work on the machine (the targets sit idle between runs) above this share of the CPUs is flagged. */
const BUSY_LIMIT = 0.2;

/**
 * Before a measured run, when every target is idle, see whether something
 * else keeps the CPUs busy; if so, wait up to 10 s for it to stop. Returns
 * the last share measured (the run's record keeps it).
 */
async function waitForQuiet(): Promise<number | null> {
  let busy = await machineBusy(250);
  for (let waited = 0; busy !== null && busy > BUSY_LIMIT && waited < 10 && quietBudgetS > 0; waited++) {
    await sleep(750);
    quietBudgetS -= 1;
    busy = await machineBusy(250);
  }
  return busy;
}

/** Seconds the whole run may spend waiting for other work to stop (so a busy machine cannot stretch it past 10 minutes). */
let quietBudgetS = 45;

/** The commit, and which files of the code under test differ from it. */
function gitState(): { commit: string; dirty: string[] } | null {
  const run = (args: string[]): string | null => {
    const r = spawnSync("git", args, { cwd: REPO_ROOT, encoding: "utf8" });
    // Not trimmed: a porcelain line starts with its status column, which may be a space.
    return r.status === 0 ? r.stdout : null;
  };
  const commit = run(["rev-parse", "HEAD"])?.trim() ?? null;
  if (commit === null) return null;
  const status =
    run(["status", "--porcelain", "--", "packages/core", "packages/connection", "packages/utils", "stages/stage-11-upstream", ...CODE_UNDER_TEST_HTTP]) ?? "";
  return { commit, dirty: status.split("\n").filter((l) => l.trim() !== "").map((l) => l.slice(3)) };
}

/** The code the HTTP workloads measure besides the core's: the stage 15 server, its HTTP and file modules. */
const CODE_UNDER_TEST_HTTP = ["packages/http", "packages/disk", "stages/stage-15-http-response"];

const PATHS: Record<ThroughputWorkload, string> = {
  keepalive: "/small",
  newconn: "/small",
  bigbody: "/big64",
  bigbody8: "/big64",
  http1k: `/${HTTP_FILES.http1k.name}`,
  http1m: `/${HTTP_FILES.http1m.name}`,
};
const LABELS: Record<ThroughputWorkload, string> = {
  keepalive: "keep-alive",
  newconn: "new connection per request",
  bigbody: "64 MiB body",
  bigbody8: "64 MiB body on 8 connections",
  http1k: "HTTP, a 1 KiB file, Connection: close",
  http1m: "HTTP, a 1 MiB file, Connection: close",
};

/** One measured (or warm-up) run of a throughput workload against 127.0.0.1:port. */
function load(ctx: Ctx, w: ThroughputWorkload, port: number, durationS: number, connections = ctx.s.connections[w]): Promise<LoadResult> {
  const url = `http://127.0.0.1:${port}${PATHS[w]}`;
  if ((w === "bigbody" || w === "bigbody8") && ctx.s.generator !== "wrk" && ctx.curl !== null) return runCurlBodies(ctx.curl, url, durationS, connections);
  return runLoad(ctx.s.generator, ctx.wrk, { url, connections, durationS, newConnection: w === "newconn" || isHttp(w) });
}

function say(line: string): void {
  process.stdout.write(line + "\n");
}

function fmtRun(w: ThroughputWorkload, r: ThroughputRun): string {
  if (r.error !== null) return `error: ${r.error}`;
  const big = w === "bigbody" || w === "bigbody8";
  const main = big ? `${r.mbps.toFixed(0)} MB/s` : `${Math.round(r.rps).toLocaleString("en-US")} ${w === "newconn" ? "conn/s" : "req/s"}`;
  const lat = (w === "keepalive" || isHttp(w)) && r.p99Ms !== null ? `  p50 ${r.p50Ms!.toFixed(2)} ms  p99 ${r.p99Ms.toFixed(2)} ms` : "";
  const cpu =
    r.proxyCpuMs === null
      ? ""
      : big
        ? `  proxy CPU ${((r.proxyCpuMs / r.bytes) * 1e9).toFixed(0)} ms/GB`
        : `  proxy CPU ${((r.proxyCpuMs / Math.max(1, r.requests)) * 1000).toFixed(1)} ms/1k`;
  const errs = r.errors > 0 ? `  (${r.errors} failed requests, ${r.resets} socket errors)` : "";
  const rss = isHttp(w) && r.proxyRssPeak !== null ? `  peak RSS ${(r.proxyRssPeak / 1e6).toFixed(1)} MB` : "";
  return `${main}${lat}${cpu}${rss}${errs}`;
}

interface Ctx {
  s: Settings;
  res: BenchResults;
  upstream: Running;
  nginx: NginxInfo | null;
  wrk: string | null;
  curl: string | null;
  stamp: string;
  /** The folder the HTTP targets serve (null when no HTTP workload runs). */
  publicDir: string | null;
}

/**
 * The proxies of this run: the reference, yours (--learner), the naive
 * proxy and nginx when present; with `http`, the servers of files of the
 * HTTP workloads in the same roles.
 */
function proxyIds(ctx: Ctx, http = false): TargetId[] {
  return (http ? HTTP_IDS : PROXY_IDS).filter(
    (t) => (!t.startsWith("nginx") || ctx.nginx !== null) && (!t.startsWith("learner") || ctx.s.learner),
  );
}

/**
 * Start every proxy of the run and check each with one request. One that
 * does not start or does not answer is left out of this workload and its
 * reason returned: a stage server (yours on a pristine skeleton, say) gets
 * rows that say it failed, and nginx is left out from here on.
 */
async function startProxies(ctx: Ctx, quiet: boolean, profileDir?: string, http = false): Promise<{ started: Map<TargetId, Running>; failed: Map<TargetId, string> }> {
  const ids = proxyIds(ctx, http);
  const started = new Map<TargetId, Running>();
  const failed = new Map<TargetId, string>();
  await Promise.all(
    ids.map(async (id) => {
      const dir = profileDir && isNodeTarget(id) ? path.join(profileDir, id) : undefined;
      if (dir) fs.mkdirSync(dir, { recursive: true });
      let t: Running;
      try {
        t = await startTarget(id, ctx.upstream, { quiet, profileDir: dir, publicDir: ctx.publicDir ?? undefined }, ctx.nginx);
      } catch (err) {
        failed.set(id, (err instanceof Error ? err.message : String(err)).split("\n").slice(0, 3).join(" ").replace(/\s+/g, " "));
        return;
      }
      const why = await probe(t);
      if (why === null) started.set(id, t);
      else {
        failed.set(id, `it did not serve: ${why}`);
        await stopRunning(t);
      }
    }),
  );
  for (const [id, reason] of failed) {
    if (id === "nginx" || id === "nginxhttp") {
      // nginx is a reference point: without it the run goes on, and says why.
      say(`  ${TARGET_LABELS[id]} did not start, so its row is left out from here on: ${reason}`);
      ctx.res.skipped.push({ target: id, workload: "*", reason: `${TARGET_LABELS[id]} did not start: ${reason}` });
      ctx.nginx = null;
      failed.delete(id);
    } else {
      say(`  ${TARGET_LABELS[id]} failed, so it is left out of this workload: ${reason}`);
    }
  }
  return { started, failed };
}

/**
 * The order of one repetition: direct first (the ceiling), then the proxies,
 * rotated by one place per repetition so that no proxy always runs right
 * after the same neighbour (the sockets a run leaves in TIME_WAIT, the
 * caches it warms) or always first.
 */
export function repetitionOrder<T>(direct: T, proxies: readonly T[], rep: number): T[] {
  return [direct, ...rotated(proxies, rep)];
}

/** The targets of repetition `rep` in turn: rotated by one place per repetition. */
export function rotated<T>(list: readonly T[], rep: number): T[] {
  const n = list.length;
  if (n === 0) return [];
  const k = (rep - 1) % n;
  return [...list.slice(k), ...list.slice(0, k)];
}

async function throughputPhase(ctx: Ctx, w: ThroughputWorkload): Promise<void> {
  const { s } = ctx;
  const profileDir = s.profile ? path.join(OUT_DIR, "profiles", ctx.stamp, w) : undefined;
  if (profileDir) fs.mkdirSync(profileDir, { recursive: true });
  const spawnedAt = Date.now();
  say(`\n== ${LABELS[w]}: ${s.connections[w]} connection(s), ${s.reps[w]} x ${s.durationS[w]} s per target, ${s.generator}`);
  const http = isHttp(w);
  const { started: proxies, failed } = await startProxies(ctx, true, profileDir, http);
  let measureFrom = Date.now();
  // The HTTP workloads have no upstream, so no direct: their servers take turns.
  const direct: Running | null = http ? null : { id: "direct", port: ctx.upstream.port, child: null };
  const proxyList: Running[] = (http ? HTTP_IDS : PROXY_IDS).flatMap((id) => proxies.get(id) ?? []);
  const order = (rep: number): Running[] => (direct === null ? rotated(proxyList, rep) : repetitionOrder(direct, proxyList, rep));
  // Each process's RSS once it has answered its first request, before any load.
  const rssStart = new Map(proxyList.map((t) => [t.id, pidOf(t) === null ? null : rssBytes(pidOf(t)!)]));
  const upPid = pidOf(ctx.upstream)!;
  for (const [id, reason] of failed) {
    for (let rep = 1; rep <= s.reps[w]; rep++) ctx.res.throughput[w].push(failedRun(rep, id, reason));
    if (w === "newconn") for (let rep = 1; rep <= s.reps[w]; rep++) ctx.res.resets.push({ rep, target: id, error: reason, connections: 0, clean: 0, resets: 0, truncated: 0 });
  }
  try {
    for (const t of order(1)) {
      try {
        await load(ctx, w, t.port, s.warmupS);
      } catch (err) {
        say(`  warm-up of ${TARGET_LABELS[t.id as TargetId]} failed: ${(err as Error).message}`);
      }
    }
    measureFrom = Date.now();
    for (let rep = 1; rep <= s.reps[w]; rep++) {
      for (const t of order(rep)) {
        const id = t.id as TargetId;
        const busy = await waitForQuiet();
        const pid = pidOf(t);
        const cpu0 = pid === null ? 0 : cpuMs(pid);
        const up0 = cpuMs(upPid);
        let peak = pid === null ? 0 : rssBytes(pid);
        const sampler = pid === null ? null : setInterval(() => (peak = Math.max(peak, rssBytes(pid))), 200);
        let run: ThroughputRun;
        try {
          const r = await load(ctx, w, t.port, s.durationS[w]);
          run = {
            rep,
            target: id,
            // A big body may still be on its way when the run ends: its bytes count all the same.
            error: (w === "bigbody" || w === "bigbody8" ? r.bytes === 0 : r.requests === 0) ? "no request completed" : null,
            ...r,
            proxyCpuMs: pid === null ? null : cpuMs(pid) - cpu0,
            upstreamCpuMs: cpuMs(upPid) - up0,
            proxyRssPeak: pid === null ? null : Math.max(peak, rssBytes(pid)),
            proxyRssStart: rssStart.get(id) ?? null,
            busyBefore: busy,
          };
        } catch (err) {
          run = { ...failedRun(rep, id, (err as Error).message), busyBefore: busy };
        } finally {
          if (sampler) clearInterval(sampler);
        }
        if (t.child !== null && !t.child.alive()) run.error ??= `${TARGET_LABELS[id]} exited during the run`;
        ctx.res.throughput[w].push(run);
        const noisy = busy !== null && busy > BUSY_LIMIT ? `  [machine ${Math.round(busy * 100)}% busy before the run]` : "";
        say(`  rep ${rep}/${s.reps[w]}  ${TARGET_LABELS[id].padEnd(16)} ${fmtRun(w, run)}${noisy}`);
      }
    }
    if (w === "newconn") await eagerRuns(ctx, proxyList);
  } finally {
    for (const t of proxies.values()) await stopRunning(t);
  }
  if (profileDir) {
    for (const id of http ? (["xps15", "nodehttp"] as const) : (["xps", "naive"] as const)) {
      // Leave out the start-up and the warm-up: module loading is not the proxy's work.
      const sum = mainProfile(path.join(profileDir, id), 15, Math.max(0, measureFrom - spawnedAt));
      if (sum) {
        ctx.res.profiles.push({ workload: w, target: id, file: path.relative(REPO_ROOT, sum.file), busyMs: sum.busyMs, top: sum.top, areas: sum.areas });
        say(formatProfile(`  profile of the ${TARGET_LABELS[id]} proxy (${w})`, sum));
      } else {
        say(`  no CPU profile of ${TARGET_LABELS[id]} was written in ${path.join(profileDir, id)}`);
      }
    }
  }
}

/** A run that did not happen, or failed: the reason stands in its row. */
function failedRun(rep: number, target: TargetId, error: string): ThroughputRun {
  return { rep, target, error, requests: 0, durationS: 0, bytes: 0, rps: 0, mbps: 0, p50Ms: null, p99Ms: null, errors: 0, resets: 0, proxyCpuMs: null, upstreamCpuMs: 0, proxyRssPeak: null, busyBefore: null };
}

/**
 * The new-connection workload's reset rate: the issue's eager clients (50 of
 * them, each writing its next request as soon as it has read an answer)
 * through each proxy for eagerS seconds per repetition, proxies rotating.
 */
async function eagerRuns(ctx: Ctx, proxies: Running[]): Promise<void> {
  const { s } = ctx;
  if (proxies.length === 0) return;
  say(`  eager clients: ${s.connections.newconn} connections, each writing its next request right after an answer with Connection: close; ${s.eagerS} s per proxy`);
  for (let rep = 1; rep <= s.reps.newconn; rep++) {
    for (const t of rotated(proxies, rep)) {
      const id = t.id as TargetId;
      await waitForQuiet();
      const r = await eagerClose(t.port, s.connections.newconn, s.eagerS);
      const error = t.child !== null && !t.child.alive() ? `${TARGET_LABELS[id]} exited during the run` : r.connections + r.truncated === 0 ? "no connection completed" : null;
      ctx.res.resets.push({ rep, target: id, error, ...r });
      const all = r.connections + r.truncated;
      say(
        `  rep ${rep}/${s.reps.newconn}  ${TARGET_LABELS[id].padEnd(16)} ${all} connections: ${r.clean} clean, ${r.resets} reset after the answer, ${r.truncated} cut short` +
          `${all > 0 ? ` (${(((r.resets + r.truncated) / all) * 100).toFixed(2)}% not clean)` : ""}${error ? `  error: ${error}` : ""}`,
      );
    }
  }
}

/** RSS of an idle Node process, plain and under --import tsx, for the idle figures' context. */
async function runtimeBaseline(): Promise<{ nodeRss: number; nodeTsxRss: number } | null> {
  try {
    const plain = await spawnGuarded("node", process.execPath, ["-e", "setTimeout(() => undefined, 60000)"], { cwd: REPO_ROOT });
    const tsx = await spawnGuarded("node-tsx", process.execPath, ["--import", "tsx", path.join(HERE, "idle-process.ts")], { cwd: REPO_ROOT });
    await sleep(2500);
    const out = { nodeRss: rssBytes(plain.pid), nodeTsxRss: rssBytes(tsx.pid) };
    await Promise.all([plain.stop(), tsx.stop()]);
    return out.nodeRss > 0 && out.nodeTsxRss > 0 ? out : null;
  } catch {
    return null;
  }
}

/**
 * Wait until freshly started processes have settled: at least `minS` after
 * their start, and then until none used 1 ms of CPU in the last two seconds
 * (at most `maxS`). A fresh Node process runs V8's memory reducer (a full GC
 * that gives memory back) about 8 s after start-up, whether or not it has
 * connections; measuring idle CPU or RSS growth across it would charge that
 * one-off to the workload. Returns the CPU each process used meanwhile (ms).
 */
async function settle(pids: number[], startedAt: number, minS: number, maxS: number): Promise<number[]> {
  const first = pids.map((p) => cpuNs(p) ?? cpuMs(p) * 1e6);
  const history: number[][] = pids.map(() => []);
  for (;;) {
    await sleep(500);
    const now = pids.map((p) => cpuNs(p) ?? cpuMs(p) * 1e6);
    now.forEach((v, i) => history[i]!.push(v));
    const elapsed = (Date.now() - startedAt) / 1000;
    const quiet = history.every((h) => h.length >= 5 && h[h.length - 1]! - h[h.length - 5]! < 1e6);
    if ((elapsed >= minS && quiet) || elapsed >= maxS) return now.map((v, i) => (v - first[i]!) / 1e6);
  }
}

/**
 * The slow reader and the idle connections, on freshly started proxies: per
 * repetition, one set of proxies for the 64 MiB reader, one for the 256 MiB
 * reader and one for the idle connections are started together and settled
 * together; the readers then run side by side, then the idle connections.
 */
async function freshPhase(ctx: Ctx, slow: boolean, idle: boolean): Promise<void> {
  const { s } = ctx;
  if (idle) {
    const base = await runtimeBaseline();
    ctx.res.meta.runtimeBaseline = base;
    if (base) {
      say(`\n  runtime alone: an idle node process ${(base.nodeRss / 1e6).toFixed(1)} MB RSS, under --import tsx ${(base.nodeTsxRss / 1e6).toFixed(1)} MB`);
    }
  }
  if (slow) {
    say(
      `\n== slow reader: one client reads a 64 MiB or a 256 MiB body at ${(s.slowReadRate / MiB).toFixed(0)} MiB/s for ${s.slowReadSeconds} s, ` +
        `and ${s.slowClients} clients each read a 64 MiB body at ${(s.slowClientRate / 1024).toFixed(0)} KiB/s, ` +
        `through each proxy freshly started and settled, all side by side; ${s.reps.slowreader} repetition(s)`,
    );
  }
  if (idle) {
    say(
      `\n== idle: ${s.idleCounts.join(" then ")} keep-alive connections that asked once and went quiet, on freshly started and settled proxies; ` +
        `CPU over ${s.idleMeasureS} s from ${s.idleSettleS} s after set-up; ${s.reps.idle} repetition(s)`,
    );
  }
  const reps = Math.max(slow ? s.reps.slowreader : 0, idle ? s.reps.idle : 0);
  for (let rep = 1; rep <= reps; rep++) {
    const doSlow = slow && rep <= s.reps.slowreader;
    const doIdle = idle && rep <= s.reps.idle;
    const groups: { kind: "slow64" | "slow256" | "slowmany" | "idle"; proxies: Map<TargetId, Running> }[] = [];
    try {
      const kinds = [...(doSlow ? (["slow64", "slow256", "slowmany"] as const) : []), ...(doIdle ? (["idle"] as const) : [])];
      const started = await Promise.all(kinds.map((kind) => startProxies(ctx, kind === "idle")));
      kinds.forEach((kind, i) => groups.push({ kind, proxies: started[i]!.started }));
      kinds.forEach((kind, i) => {
        for (const [id, reason] of started[i]!.failed) {
          if (kind === "idle") for (const n of s.idleCounts) ctx.res.idle.push(failedIdle(rep, id, n, reason));
          else ctx.res.slowreader.push(failedSlow(rep, id, kind === "slow256" ? 256 : 64, kind === "slowmany" ? s.slowClients : 1, reason));
        }
      });
      const startedAt = Date.now();
      const all = groups.flatMap((g) => [...g.proxies.values()]);
      const settleCpu = await settle(all.map((t) => pidOf(t)!), startedAt, s.settleMinS, s.settleMinS + 15);
      const settleOf = new Map(all.map((t, i) => [t, settleCpu[i]!]));
      say(
        `  rep ${rep}/${reps}: ${all.length} fresh proxies settled after ${((Date.now() - startedAt) / 1000).toFixed(1)} s ` +
          `(start-up CPU meanwhile: ${all.map((t) => `${t.id} ${settleOf.get(t)!.toFixed(0)} ms`).join(", ")})`,
      );

      // The single readers side by side, then the many readers: 50 bodies starting at once through each
      // proxy are a burst of work for the upstream that would delay the single readers' first bytes.
      const rounds = [groups.filter((g) => g.kind === "slow64" || g.kind === "slow256"), groups.filter((g) => g.kind === "slowmany")];
      for (const slowGroups of rounds.filter((r) => r.length > 0)) {
        const jobs = slowGroups.flatMap((g) =>
          [...g.proxies.values()].map((t) => ({
            t,
            size: g.kind === "slow256" ? (256 as const) : (64 as const),
            clients: g.kind === "slowmany" ? s.slowClients : 1,
            rate: g.kind === "slowmany" ? s.slowClientRate : s.slowReadRate,
            stats: null as Record<string, number> | null,
          })),
        );
        // A stage server's stats are read just before the clients let go, while its pipes are still full.
        const results = await Promise.all(
          jobs.map((j) => slowRead(j.t.port, `/big${j.size}`, j.rate, s.slowReadSeconds, pidOf(j.t)!, j.clients, async () => void (j.stats = await xpsStats(j.t)))),
        );
        for (let i = 0; i < jobs.length; i++) {
          const { t, size, clients, rate, stats } = jobs[i]!;
          const r = results[i]!;
          const peak = Math.max(...r.samples, 0);
          const run: SlowRun = {
            rep,
            target: t.id as TargetId,
            bodyMiB: size,
            clients,
            error: r.error,
            bytesRead: r.bytesRead,
            seconds: r.seconds,
            rssBefore: r.rssBefore,
            rssPeak: r.rssPeak,
            rssAfter: r.rssAfter,
            growth: r.rssPeak - r.rssBefore,
            rssSamplesMiB: r.samples.map((b) => Math.round((b / MiB) * 10) / 10),
            peakAtS: Math.max(0, r.samples.indexOf(peak)) / 10,
            peakPipeBuffered: stats?.peakPipeBuffered ?? null,
            held: stats && typeof stats.received === "number" ? { buffered: stats.buffered ?? 0, received: stats.received, unsent: stats.unsent ?? 0 } : null,
          };
          if (run.error === null && run.bytesRead < 0.5 * rate * s.slowReadSeconds * clients) {
            run.error = `the client${clients > 1 ? "s" : ""} got only ${(run.bytesRead / MiB).toFixed(1)} MiB`;
          }
          ctx.res.slowreader.push(run);
          const pipe = run.peakPipeBuffered !== null ? `  peak pipe ${(run.peakPipeBuffered / 1e6).toFixed(2)} MB` : "";
          const held = run.held ? `  held ${((run.held.buffered + run.held.received + run.held.unsent) / clients / 1e6).toFixed(2)} MB per client` : "";
          const who = clients > 1 ? `${clients} x 64 MiB` : `${String(size).padStart(3)} MiB`;
          say(
            `  rep ${rep}/${s.reps.slowreader}  ${who.padEnd(9)}  ${TARGET_LABELS[run.target].padEnd(16)} RSS ${(run.rssBefore / MiB).toFixed(1)} -> peak ${(run.rssPeak / MiB).toFixed(1)} MiB ` +
              `(+${(run.growth / MiB).toFixed(1)} MiB at ${run.peakAtS.toFixed(1)} s), read ${(run.bytesRead / MiB).toFixed(1)} MiB${pipe}${held}${run.error ? `  error: ${run.error}` : ""}`,
          );
        }
        for (const g of slowGroups) for (const t of g.proxies.values()) await stopRunning(t);
      }

      const idleGroup = groups.find((g) => g.kind === "idle");
      if (idleGroup) await idleRep(ctx, rep, [...idleGroup.proxies.values()], settleOf);
    } finally {
      for (const g of groups) for (const t of g.proxies.values()) await stopRunning(t);
    }
  }
}

function failedSlow(rep: number, target: TargetId, bodyMiB: 64 | 256, clients: number, error: string): SlowRun {
  return { rep, target, bodyMiB, clients, error, bytesRead: 0, seconds: 0, rssBefore: 0, rssPeak: 0, rssAfter: 0, growth: 0, rssSamplesMiB: [], peakAtS: 0, peakPipeBuffered: null, held: null };
}

function failedIdle(rep: number, target: TargetId, connections: number, error: string): IdleRun {
  return { rep, target, connections, error, open: 0, failures: 0, cpuMsPer10s: 0, tickCpuMs: 0, cpuSource: "stat", windowS: 0, rss: 0, rssBaseline: 0, settleCpuMs: 0 };
}

/**
 * Idle scaling: one client's keep-alive rate through each proxy with 0,
 * 1,000 and 10,000 other connections open on it and idle (each asked once
 * and went quiet). Per repetition and proxy (rotating), the idle connections
 * are opened step by step, one measured run after each step, then closed.
 */
async function idleScalePhase(ctx: Ctx): Promise<void> {
  const { s } = ctx;
  const counts = s.idleScaleCounts;
  say(
    `\n== idle scaling: one client's keep-alive req/s (1 connection, ${s.idleScaleS} s, ${s.generator}) through each proxy with ` +
      `${counts.map((n) => n.toLocaleString("en-US")).join(", then ")} idle connections open on it; ${s.reps.idlescale} repetition(s)`,
  );
  const { started, failed } = await startProxies(ctx, true);
  for (const [id, reason] of failed) {
    for (let rep = 1; rep <= s.reps.idlescale; rep++) {
      for (const n of counts) ctx.res.idlescale.push({ rep, target: id, idle: n, open: 0, error: reason, rps: 0, requests: 0, errors: 0, resets: 0, p99Ms: null });
    }
  }
  const list = PROXY_IDS.flatMap((id) => started.get(id) ?? []);
  try {
    for (const t of list) await load(ctx, "keepalive", t.port, s.warmupS, 1).catch(() => undefined);
    for (let rep = 1; rep <= s.reps.idlescale; rep++) {
      for (const t of rotated(list, rep)) {
        const id = t.id as TargetId;
        const clients = new IdleClients(t.port);
        const line: string[] = [];
        try {
          for (const n of counts) {
            if (n > clients.sockets.length) await clients.open(n - clients.sockets.length, 100);
            await sleep(500);
            await waitForQuiet();
            let run: IdleScaleRun;
            try {
              const r = await load(ctx, "keepalive", t.port, s.idleScaleS, 1);
              run = { rep, target: id, idle: n, open: clients.openCount(), error: r.requests === 0 ? "no request completed" : null, rps: r.rps, requests: r.requests, errors: r.errors, resets: r.resets, p99Ms: r.p99Ms };
            } catch (err) {
              run = { rep, target: id, idle: n, open: clients.openCount(), error: (err as Error).message, rps: 0, requests: 0, errors: 0, resets: 0, p99Ms: null };
            }
            if (clients.failures > 0) run.error ??= `${clients.failures} idle connection(s) failed: ${clients.lastError}`;
            if (t.child !== null && !t.child.alive()) run.error ??= `${TARGET_LABELS[id]} exited during the run`;
            ctx.res.idlescale.push(run);
            line.push(run.error ? `${n}: error: ${run.error}` : `${n.toLocaleString("en-US")} idle ${Math.round(run.rps).toLocaleString("en-US")} req/s${run.errors > 0 ? ` (${run.errors} failed)` : ""}`);
            if (run.error !== null) break;
          }
        } finally {
          clients.closeAll();
        }
        say(`  rep ${rep}/${s.reps.idlescale}  ${TARGET_LABELS[id].padEnd(16)} ${line.join(", ")}`);
        // The proxy and the upstream close thousands of connections now: the next run waits until they are done.
        await untilIdle([pidOf(t), pidOf(ctx.upstream)].filter((p): p is number => p !== null), 15_000);
      }
    }
  } finally {
    for (const t of started.values()) await stopRunning(t);
  }
}

/** Wait until none of `pids` used more than 2 ms of CPU in a quarter of a second (at most `maxMs`). */
async function untilIdle(pids: number[], maxMs: number): Promise<void> {
  const deadline = Date.now() + maxMs;
  let last = pids.map((p) => cpuNs(p) ?? cpuMs(p) * 1e6);
  while (Date.now() < deadline) {
    await sleep(250);
    const now = pids.map((p) => cpuNs(p) ?? cpuMs(p) * 1e6);
    if (now.every((v, i) => v - last[i]! < 2e6)) return;
    last = now;
  }
}

/**
 * The open files a child gets: the guard asks for CHILD_NOFILE, which only
 * a privileged user gets beyond the hard limit (children.ts).
 */
function childOpenFiles(): number | null {
  const r = spawnSync("sh", ["-c", `ulimit -n ${CHILD_NOFILE} 2>/dev/null; ulimit -n`], { encoding: "utf8" });
  const n = r.stdout.trim();
  return n === "unlimited" ? Number.MAX_SAFE_INTEGER : Number.isFinite(Number(n)) && n !== "" ? Number(n) : null;
}

/** One repetition of the idle workload on settled proxies. */
async function idleRep(ctx: Ctx, rep: number, list: Running[], settleOf: Map<Running, number>): Promise<void> {
  const { s } = ctx;
  const clients = new Map(list.map((t) => [t, new IdleClients(t.port)]));
  try {
    const baseline = new Map(list.map((t) => [t, rssBytes(pidOf(t)!)]));
    let opened = 0;
    for (const n of s.idleCounts) {
      for (const t of list) await clients.get(t)!.open(n - opened);
      opened = n;
      await sleep(s.idleSettleS * 1000);
      const before = list.map((t) => ({ ns: cpuNs(pidOf(t)!), ms: cpuMs(pidOf(t)!), at: process.hrtime.bigint() }));
      await sleep(s.idleMeasureS * 1000);
      for (let i = 0; i < list.length; i++) {
        const t = list[i]!;
        const pid = pidOf(t)!;
        const b = before[i]!;
        const ns = cpuNs(pid);
        const windowS = Number(process.hrtime.bigint() - b.at) / 1e9;
        const tick = cpuMs(pid) - b.ms;
        const precise = ns !== null && b.ns !== null ? (ns - b.ns) / 1e6 : null;
        const c = clients.get(t)!;
        const run: IdleRun = {
          rep,
          target: t.id as TargetId,
          connections: n,
          error: t.child?.alive() === false ? "the proxy exited" : c.failures > 0 ? `${c.failures} connection(s) failed: ${c.lastError}` : null,
          open: c.openCount(),
          failures: c.failures,
          cpuMsPer10s: ((precise ?? tick) * 10) / windowS,
          tickCpuMs: tick,
          cpuSource: precise !== null ? "schedstat" : "stat",
          windowS,
          rss: rssBytes(pid),
          rssBaseline: baseline.get(t)!,
          settleCpuMs: settleOf.get(t) ?? 0,
        };
        ctx.res.idle.push(run);
        say(
          `  rep ${rep}/${s.reps.idle}  ${String(n).padStart(4)} idle  ${TARGET_LABELS[run.target].padEnd(15)} CPU ${run.cpuMsPer10s.toFixed(2)} ms/10 s, ` +
            `RSS ${(run.rss / 1e6).toFixed(1)} MB, ${run.open} open${run.error ? `  error: ${run.error}` : ""}`,
        );
      }
    }
  } finally {
    for (const c of clients.values()) c.closeAll();
  }
}

/** The printed report and the chart of a run (also used by --report on a saved JSON). */
function render(res: BenchResults): { text: string; svg: string } {
  const s = res.settings;
  const m = res.meta;
  const table = formatTable(res.summary);
  const verdicts =
    formatVerdicts(res.verdicts) +
    (s.profile ? "\n--profile: the Node proxies ran under the profiler; judge on a run without it." : "");
  const notes = [
    `Ratios are medians of per-repetition ratios (targets alternate within each repetition, and the proxies' order rotates from one`,
    `repetition to the next). "proxy CPU" is utime+stime of the proxy process from /proc per 1,000 requests (per GB for the body; per`,
    `10 s when idle, from the scheduler's per-thread counters). Absolute numbers vary between machines: compare ratios from one run.`,
    `Reference ratios to direct from the issue (2-core machine): nginx stream`,
    `${REFERENCE.nginx.keepalive} / ${REFERENCE.nginx.newconn} / ${REFERENCE.nginx.bigbody}, naive pipe ${REFERENCE.naive.keepalive} / ${REFERENCE.naive.newconn} / ${REFERENCE.naive.bigbody}, ` +
      `C eXpServer stage 11 ${REFERENCE.cExpServer.keepalive} / ${REFERENCE.cExpServer.newconn} / ${REFERENCE.cExpServer.bigbody} (keep-alive / new connection / big body).`,
    ...(res.summary.some((r) => isHttp(r.key))
      ? [`HTTP rows: no direct; "x naive" is the ratio to the naive http server (fs.createReadStream().pipe(res)), "proxy CPU" the server's.`]
      : []),
  ].join("\n");
  const skippedText = res.skipped.map((sk) => `skipped ${sk.target === "*" ? "" : `${TARGET_LABELS[sk.target]} `}(${sk.workload}): ${sk.reason}`).join("\n");
  const code = m.git ? ` - code ${m.git.commit.slice(0, 10)}${m.git.dirty.length > 0 ? " (with uncommitted changes)" : ""}` : "";
  const samples = m.loadAvg.samples ?? [];
  const load =
    `load average (1 min, ${m.machine.nproc} CPUs): ${m.loadAvg.before.toFixed(2)} before, ${m.loadAvg.after.toFixed(2)} after` +
    (samples.length > 0 ? `, ${Math.min(...samples).toFixed(2)}-${Math.max(...samples).toFixed(2)} during the run (every 30 s)` : "");
  const text = [
    `pnpm bench ${s.quick ? "--quick " : ""}- ${m.startedAt} - ${m.machine.cpuModel}, ${m.machine.nproc} CPUs - ${m.generator} - ${m.elapsedS} s${code}`,
    load,
    "",
    table,
    "",
    verdicts,
    "",
    notes,
    ...(skippedText ? ["", skippedText] : []),
    "",
  ].join("\n");
  const svg = renderSvg(res, { slowGrowthMiB: SLOW_GROWTH_LIMIT / MiB, idleRssMB: IDLE_RSS_LIMIT / 1e6 });
  return { text, svg };
}

/** --report FILE: summarise and judge a saved run again, print it, and write its chart and text beside it. */
function reportSaved(file: string): void {
  let res: BenchResults;
  try {
    res = JSON.parse(fs.readFileSync(file, "utf8")) as BenchResults;
  } catch (err) {
    process.stderr.write(`bench: --report: cannot read ${file}: ${(err as Error).message}\n`);
    process.exit(2);
  }
  res.summary = summarise(res);
  res.verdicts = judge(res.summary, res);
  const { text, svg } = render(res);
  say(text);
  const base = file.replace(/\.json$/, "");
  fs.writeFileSync(`${base}.svg`, svg);
  fs.writeFileSync(`${base}.txt`, text);
  say(`wrote ${path.relative(process.cwd(), base)}.svg and .txt`);
}

async function main(): Promise<void> {
  let settings: Settings | "help" | { report: string };
  try {
    settings = parseCli(scriptArgs());
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`bench: ${err.message} (see pnpm bench --help)\n`);
    process.exit(2);
  }
  if (settings === "help") {
    say(USAGE);
    return;
  }
  if ("report" in settings) {
    reportSaved(settings.report);
    return;
  }
  const s = settings;
  if (s.quick) quietBudgetS = 10;
  installCleanup((sig) => process.stderr.write(`\nbench: ${sig}: stopping every process it started\n`));

  const started = new Date();
  const stamp = started.toISOString().replace(/\.\d+Z$/, "Z").replace(/:/g, "-");
  const wrk = findWrk();
  const curl = findCurl();
  const ng = findNginx();
  const nginx = "missing" in ng ? null : ng;
  const lim = openFileLimits();
  const machine = machineInfo();
  const generator =
    s.generator === "wrk"
      ? `wrk ${wrkVersion(wrk!)} (Debian)`
      : `autocannon ${autocannonVersion()} (npm)${curl !== null ? ", curl for the big body" : ""}`;
  const res: BenchResults = {
    meta: {
      startedAt: started.toISOString(),
      finishedAt: "",
      elapsedS: 0,
      machine,
      generator,
      nginx: nginx ? `nginx ${nginx.version} stream, 1 worker (${nginx.bin})` : (ng as { missing: string }).missing,
      openFiles: lim ? `${lim.soft} (hard ${lim.hard})` : "unknown",
      command: `pnpm bench ${process.argv.slice(2).join(" ")}`.trim(),
      git: gitState(),
      busyBefore: await machineBusy(1000),
      loadAvg: { before: os.loadavg()[0]!, after: 0, samples: [] },
      runtimeBaseline: null,
    },
    settings: s,
    skipped: [],
    throughput: { keepalive: [], newconn: [], bigbody: [], bigbody8: [], http1k: [], http1m: [] },
    resets: [],
    slowreader: [],
    idle: [],
    idlescale: [],
    summary: [],
    verdicts: [],
    profiles: [],
    reference: REFERENCE,
  };
  if (nginx === null) res.skipped.push({ target: "nginx", workload: "*", reason: (ng as { missing: string }).missing });
  if (s.only.includes("idle") && lim !== null) {
    const fit = s.idleCounts.filter((n) => 3 * n + 300 <= lim.soft);
    if (fit.length < s.idleCounts.length) {
      const dropped = s.idleCounts.filter((n) => !fit.includes(n));
      res.skipped.push({
        target: "*",
        workload: "idle",
        reason: `${dropped.join(", ")} idle connections need about ${3 * dropped[0]! + 300} open files, the limit is ${lim.soft}: raise it with ulimit -n ${FD_NEEDED}`,
      });
      s.idleCounts = fit;
    }
  }
  if (s.only.includes("idlescale")) {
    // Each idle connection is one socket in the bench and in the upstream, and two in the proxy (client and upstream).
    const child = childOpenFiles() ?? lim?.soft ?? null;
    const own = lim?.soft ?? null;
    if (child !== null && own !== null) {
      const fits = Math.floor(Math.min((child - FD_SPARE) / 2, own - FD_SPARE) / 100) * 100;
      const top = s.idleScaleCounts[s.idleScaleCounts.length - 1]!;
      if (fits < top) {
        res.skipped.push({
          target: "*",
          workload: "idlescale",
          reason:
            `${top.toLocaleString("en-US")} idle connections need about ${(2 * top + FD_SPARE).toLocaleString("en-US")} open files in each proxy; ` +
            `a process may have ${Math.min(child, own).toLocaleString("en-US")} here (the bench asked for ${CHILD_NOFILE.toLocaleString("en-US")} and the hard limit did not let it), ` +
            `so the largest step is ${fits.toLocaleString("en-US")} instead. Raising a hard limit needs root with CAP_SYS_RESOURCE: ` +
            `for instance sudo prlimit --nofile=${CHILD_NOFILE}:${CHILD_NOFILE} --pid $$ in the shell that then runs pnpm bench`,
        });
        s.idleScaleCounts = [...s.idleScaleCounts.filter((n) => n < fits), fits];
      }
    }
  }

  // A copy of the course released through an earlier stage has no stage 15 yet: its HTTP workloads are left out.
  if (!fs.existsSync(path.join(STAGE15_DIR, "package.json"))) {
    for (const w of HTTP_WORKLOADS.filter((x) => s.only.includes(x))) {
      res.skipped.push({ target: "*", workload: w, reason: `stage 15 (${path.relative(REPO_ROOT, STAGE15_DIR)}) is not part of this copy of the course` });
    }
    s.only = s.only.filter((w) => !isHttp(w));
  }
  const httpRun = HTTP_WORKLOADS.some((w) => s.only.includes(w));
  await prepareNodeTargets(s.nodeRunner, s.learner, { proxy: s.only.some((w) => !isHttp(w)), http: httpRun });
  const nTargets = 3 + (nginx ? 1 : 0) + (s.learner ? 1 : 0);
  say(`pnpm bench${s.quick ? " --quick" : ""}: ${machine.cpuModel}, ${machine.nproc} CPUs, Node ${machine.node}`);
  say(`  load: ${generator}; ${res.meta.nginx}`);
  if (res.meta.git) {
    const d = res.meta.git.dirty;
    say(`  code: ${res.meta.git.commit.slice(0, 10)}${d.length > 0 ? ` plus uncommitted changes to ${d.join(", ")}` : ""}`);
  }
  const est = estimateSeconds(s, nTargets);
  say(`  workloads: ${s.only.join(", ") || "none"}; about ${est < 120 ? `${Math.round(est / 10) * 10} s` : `${Math.round(est / 60)} min`}`);
  if (res.meta.busyBefore !== null && res.meta.busyBefore > 0.15) {
    say(`  note: the machine was ${Math.round(res.meta.busyBefore * 100)}% busy before the run: other work adds noise to the figures`);
  }
  if (s.profile) say("  --profile: the Node proxies run under node --cpu-prof, which slows them down; compare ratios from runs without it");
  if (s.quick || RATIO_WORKLOADS.some((w) => s.only.includes(w) && s.reps[w] < RATIO_REPS)) {
    say(`  fewer than ${RATIO_REPS} repetitions: the ratio verdicts of this run are provisional`);
  }
  if (s.learner) {
    const where = process.env.XPS_LEARNER_DIR ?? "stages/stage-11-upstream/src and stages/stage-15-http-response/src";
    say(`  --learner: your stage 11 and stage 15 servers (${where}) run beside the references`);
  }
  for (const [id, why] of unavailable) res.skipped.push({ target: id, workload: "*", reason: `it cannot run, so its rows say it failed: ${why}` });
  for (const sk of res.skipped) say(`  skipped ${sk.target === "*" ? "" : `${TARGET_LABELS[sk.target]} `}(${sk.workload === "*" ? "all workloads" : sk.workload}): ${sk.reason}`);

  say(
    s.nodeRunner === "bundle"
      ? "  the two Node proxies run as esbuild bundles on plain node (no TypeScript loader); --tsx runs them as pnpm start does"
      : "  the two Node proxies run under --import tsx, as pnpm start does (the loader adds about 35 MB of RSS)",
  );
  // The 1-minute load average every 30 s: on a shared machine, how much other work ran meanwhile.
  const loadSampler = setInterval(() => res.meta.loadAvg.samples!.push(os.loadavg()[0]!), 30_000);
  loadSampler.unref();
  const upstream = await startUpstream();
  const publicDir = httpRun ? makeHttpFolder() : null;
  if (publicDir !== null) {
    say(`  the HTTP workloads serve ${Object.values(HTTP_FILES).map((f) => f.name).join(" and ")} from ${publicDir} (removed at the end)`);
  }
  const ctx: Ctx = { s, res, upstream, nginx, wrk, curl, stamp, publicDir };
  let failures = 0;
  try {
    for (const w of THROUGHPUT_WORKLOADS.filter((x) => s.only.includes(x))) {
      try {
        await throughputPhase(ctx, w);
      } catch (err) {
        failures++;
        const reason = (err as Error).message;
        say(`  ${w} failed: ${reason}`);
        res.skipped.push({ target: "*", workload: w, reason });
      }
    }
    if (s.only.includes("idlescale")) {
      try {
        await idleScalePhase(ctx);
      } catch (err) {
        failures++;
        const reason = (err as Error).message;
        say(`  idlescale failed: ${reason}`);
        res.skipped.push({ target: "*", workload: "idlescale", reason });
      }
    }
    const slow = s.only.includes("slowreader");
    const idle = s.only.includes("idle");
    if (slow || idle) {
      try {
        await freshPhase(ctx, slow, idle);
      } catch (err) {
        failures++;
        const reason = (err as Error).message;
        say(`  ${[slow ? "slowreader" : "", idle ? "idle" : ""].filter(Boolean).join(" and ")} failed: ${reason}`);
        if (slow) res.skipped.push({ target: "*", workload: "slowreader", reason });
        if (idle) res.skipped.push({ target: "*", workload: "idle", reason });
      }
    }
  } finally {
    await stopRunning(upstream);
    await stopAllChildren();
  }

  const finished = new Date();
  res.meta.finishedAt = finished.toISOString();
  res.meta.loadAvg.after = os.loadavg()[0]!;
  clearInterval(loadSampler);
  res.meta.elapsedS = Math.round((finished.getTime() - started.getTime()) / 1000);
  res.summary = summarise(res);
  res.verdicts = judge(res.summary, res);

  const { text, svg } = render(res);
  say("\n" + text);

  fs.mkdirSync(OUT_DIR, { recursive: true });
  const json = JSON.stringify(res, null, 2) + "\n";
  for (const base of [stamp, "latest"]) {
    fs.writeFileSync(path.join(OUT_DIR, `${base}.json`), json);
    fs.writeFileSync(path.join(OUT_DIR, `${base}.svg`), svg);
    fs.writeFileSync(path.join(OUT_DIR, `${base}.txt`), text);
  }
  say(`wrote ${path.relative(process.cwd(), path.join(OUT_DIR, `${stamp}.json`))} (raw figures), .svg (chart), .txt (this table), and latest.* beside them`);
  if (failures > 0) process.exitCode = 1;
}

await main();
