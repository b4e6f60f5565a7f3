// The bench's judging on made-up runs: errors block a pass, the reset rate
// is compared with nginx's, fewer than 7 repetitions are provisional, and a
// learner's server that failed everywhere gets one line with the reason; the
// HTTP workloads' targets against the plain Node server, and nginx's http
// config.
import { describe, expect, it } from "vitest";
import { judge, summarise, type BenchResults, type ResetRun, type Settings, type SlowRun, type ThroughputRun, type Verdict } from "../src/results.ts";
import { nginxServerBlock, type TargetId } from "../src/targets.ts";

function settings(over: Partial<Settings> = {}): Settings {
  return {
    quick: false,
    only: ["keepalive", "newconn"],
    generator: "wrk",
    reps: { keepalive: 7, newconn: 7, bigbody: 7, bigbody8: 7, idlescale: 7, http1k: 7, http1m: 7, slowreader: 3, idle: 3 },
    durationS: { keepalive: 4, newconn: 4, bigbody: 3, bigbody8: 3, http1k: 4, http1m: 4 },
    warmupS: 2,
    connections: { keepalive: 50, newconn: 50, bigbody: 1, bigbody8: 8, http1k: 50, http1m: 8 },
    slowReadSeconds: 10,
    slowReadRate: 2 ** 20,
    idleSettleS: 5,
    idleMeasureS: 10,
    settleMinS: 10,
    idleCounts: [],
    idleScaleCounts: [],
    idleScaleS: 3,
    eagerS: 2,
    slowClients: 50,
    slowClientRate: 65536,
    learner: false,
    profile: false,
    nodeRunner: "bundle",
    ...over,
  };
}

function run(rep: number, target: TargetId, rps: number, errors = 0, error: string | null = null): ThroughputRun {
  const requests = Math.round(rps * 4);
  return {
    rep,
    target,
    error,
    requests,
    durationS: 4,
    bytes: requests * 200,
    rps,
    mbps: 0,
    p50Ms: 1,
    p99Ms: 3,
    errors,
    resets: errors,
    proxyCpuMs: target === "direct" ? null : requests * 0.02,
    upstreamCpuMs: 0,
    proxyRssPeak: null,
    busyBefore: 0,
  };
}

/** Summarised and judged results of keep-alive runs, or (an object) of the runs of any throughput workloads. */
function results(s: Settings, runs: ThroughputRun[] | Partial<BenchResults["throughput"]>, resets: ResetRun[] = []): BenchResults {
  const res = {
    settings: s,
    skipped: [],
    throughput: { keepalive: [], newconn: [], bigbody: [], bigbody8: [], http1k: [], http1m: [], ...(Array.isArray(runs) ? { keepalive: runs } : runs) },
    resets,
    slowreader: [],
    idle: [],
    idlescale: [],
  } as unknown as BenchResults;
  res.summary = summarise(res);
  res.verdicts = judge(res.summary, res);
  return res;
}

function reps(n: number, make: (rep: number) => ThroughputRun[]): ThroughputRun[] {
  return Array.from({ length: n }, (_, i) => make(i + 1)).flat();
}

const find = (v: Verdict[], text: string): Verdict => v.find((x) => x.text.startsWith(text))!;

describe("bench verdicts", () => {
  it("a faster proxy passes keep-alive on 7 repetitions", () => {
    const res = results(settings(), reps(7, (r) => [run(r, "direct", 20_000), run(r, "xps", 12_000), run(r, "naive", 10_000)]));
    const v = find(res.verdicts, "keep-alive: req/s, xps / naive");
    expect(v.pass).toBe(true);
    expect(v.provisional).toBeUndefined();
    expect(v.measured).toContain("n=7");
  });

  it("more than 0.1% failed requests blocks a pass, whatever the rate", () => {
    // 48,000 requests per run and 100 errors: 0.2% failed.
    const res = results(settings(), reps(7, (r) => [run(r, "direct", 20_000), run(r, "xps", 12_000, 100), run(r, "naive", 10_000)]));
    const v = find(res.verdicts, "keep-alive: req/s, xps / naive");
    expect(v.pass).toBe(false);
    expect(v.measured).toContain("of requests failed");
    const row = res.summary.find((r) => r.key === "keepalive" && r.target === "xps")!;
    expect(row.errors).toEqual({ failed: 700, total: 7 * 48_000 + 700, resets: 700 });
  });

  it("a few errors below 0.1% do not", () => {
    const res = results(settings(), reps(7, (r) => [run(r, "direct", 20_000), run(r, "xps", 12_000, 10), run(r, "naive", 10_000)]));
    expect(find(res.verdicts, "keep-alive: req/s, xps / naive").pass).toBe(true);
  });

  it("fewer than 7 repetitions make the verdicts provisional", () => {
    const s = settings({ reps: { ...settings().reps, keepalive: 3 } });
    const res = results(s, reps(3, (r) => [run(r, "direct", 20_000), run(r, "xps", 12_000), run(r, "naive", 10_000)]));
    expect(find(res.verdicts, "keep-alive: req/s, xps / naive").provisional).toBe(true);
  });

  it("judges the eager clients' reset rate against nginx's and against 0.1%", () => {
    const reset = (target: TargetId, resets: number): ResetRun => ({ rep: 1, target, error: null, connections: 10_000, clean: 10_000 - resets, resets, truncated: 0 });
    const kaRuns = reps(7, (r) => [run(r, "direct", 20_000), run(r, "xps", 12_000), run(r, "naive", 10_000)]);
    const good = results(settings(), kaRuns, [reset("xps", 2), reset("nginx", 150)]).verdicts.filter((v) => v.text.includes("reset rate"));
    expect(good.map((v) => v.pass)).toEqual([true, true]);
    const bad = results(settings(), kaRuns, [reset("xps", 200), reset("nginx", 150)]).verdicts.filter((v) => v.text.includes("reset rate"));
    expect(bad.map((v) => v.pass)).toEqual([false, false]);
  });

  it("a learner's server that failed everywhere gets one line with the reason", () => {
    const why = "it did not serve: stage-11 TODO 2 is not done yet";
    const res = results(
      settings({ learner: true }),
      reps(7, (r) => [run(r, "direct", 20_000), run(r, "xps", 12_000), run(r, "learner", 0, 0, why), run(r, "naive", 10_000)]),
    );
    const mine = res.verdicts.filter((v) => v.text.includes("yours"));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.measured).toContain(why);
    expect(mine[0]!.pass).toBe(false);
    expect(res.summary.find((r) => r.target === "learner")!.note).toBe(`failed: ${why}`);
  });
});

describe("bench verdicts, slow readers", () => {
  it("judges what a stage server holds per slow client in MB, against the per-flow bound", () => {
    const slow = (rep: number, perClient: number): SlowRun => ({
      rep,
      target: "xps",
      bodyMiB: 64,
      clients: 50,
      error: null,
      bytesRead: 0,
      seconds: 10,
      rssBefore: 0,
      rssPeak: 0,
      rssAfter: 0,
      growth: 0,
      rssSamplesMiB: [],
      peakAtS: 0,
      peakPipeBuffered: null,
      held: { buffered: 50 * perClient * 0.4, received: 50 * perClient * 0.4, unsent: 50 * perClient * 0.2 },
    });
    const verdict = (perClient: number): Verdict => {
      const res = results(settings({ only: ["slowreader"] }), {});
      res.slowreader = [1, 2, 3].map((r) => slow(r, perClient));
      res.summary = summarise(res);
      return find(judge(res.summary, res), "50 slow readers: bytes xps holds per client");
    };
    // 2,569,820 bytes per client, as a full run measured: under the 2.69 MB bound.
    const under = verdict(2_569_820);
    expect(under.pass).toBe(true);
    expect(under.measured).toMatch(/^2\.57 MB/);
    expect(verdict(3_000_000).pass).toBe(false);
  });
});

describe("bench verdicts, HTTP workloads", () => {
  const MB = 1e6;
  /** A run of a server of files: `rps` requests/s, `cpuMsPerReq` CPU per request, peak RSS `peakMB` from `startMB`. */
  function http(rep: number, target: TargetId, rps: number, opts: { errors?: number; cpu?: number; peakMB?: number; startMB?: number; error?: string | null } = {}): ThroughputRun {
    const r = run(rep, target, rps, opts.errors ?? 0, opts.error ?? null);
    return { ...r, proxyCpuMs: r.requests * (opts.cpu ?? 0.2), proxyRssPeak: (opts.peakMB ?? 60) * MB, proxyRssStart: (opts.startMB ?? 50) * MB };
  }
  const httpResults = (s: Settings, http1k: ThroughputRun[], http1m: ThroughputRun[] = []): BenchResults => results(s, { http1k, http1m });
  const both = settings({ only: ["http1k", "http1m"] });

  it("judges the stage 15 server against the plain Node server on both sizes, and reports nginx", () => {
    const k = reps(7, (r) => [http(r, "xps15", 5000, { cpu: 0.18 }), http(r, "nodehttp", 4500), http(r, "nginxhttp", 20_000, { cpu: 0.05 })]);
    const m = reps(7, (r) => [http(r, "xps15", 900, { cpu: 1.1, peakMB: 95 }), http(r, "nodehttp", 1000, { cpu: 1.0, peakMB: 90 }), http(r, "nginxhttp", 2000)]);
    const res = httpResults(both, k, m);
    expect(find(res.verdicts, "HTTP 1 KiB, close: req/s, xps / naive http").pass).toBe(true);
    expect(find(res.verdicts, "HTTP 1 KiB, close: CPU per request, xps / naive http").pass).toBe(true);
    expect(find(res.verdicts, "HTTP 1 MiB, close: req/s, xps / naive http").pass).toBe(false);
    expect(find(res.verdicts, "HTTP 1 MiB, close: CPU per request, xps / naive http").pass).toBe(false);
    const nginx = find(res.verdicts, "HTTP 1 KiB, close: req/s, xps / nginx http");
    expect(nginx.info).toBe(true);
    expect(nginx.pass).toBeNull();
    expect(nginx.measured).toMatch(/^0\.250x/);
    // The HTTP rows have no direct; "x naive" is the ratio to the plain Node server.
    const row = res.summary.find((r) => r.key === "http1k" && r.target === "xps15")!;
    expect(row.toDirect).toBeNull();
    expect(row.toNaive!.median).toBeCloseTo(5000 / 4500);
    expect(row.p99).not.toBeNull();
    // No stage 11 verdict when only the HTTP workloads ran.
    expect(res.verdicts.every((v) => v.text.startsWith("HTTP "))).toBe(true);
  });

  it("bounds the RSS growth by the connections in flight plus V8's slack", () => {
    // 8 connections of 1 MiB: 8 MiB + 96 MiB = 109.1 MB.
    const ok = reps(7, (r) => [http(r, "xps15", 1000, { startMB: 50, peakMB: 150 }), http(r, "nodehttp", 1000)]);
    expect(find(httpResults(both, [], ok).verdicts, "HTTP 1 MiB, close: peak RSS growth, xps").pass).toBe(true);
    const leak = reps(7, (r) => [http(r, "xps15", 1000, { startMB: 50, peakMB: 50 + 100 * r }), http(r, "nodehttp", 1000)]);
    const v = find(httpResults(both, [], leak).verdicts, "HTTP 1 MiB, close: peak RSS growth, xps");
    expect(v.pass).toBe(false);
    expect(v.limit).toBe("<= 109.1 MB");
  });

  it("more than 0.1% failed requests blocks every HTTP target of that size", () => {
    // 20,000 requests per run and 40 errors: 0.2% failed.
    const k = reps(7, (r) => [http(r, "xps15", 5000, { errors: 40, cpu: 0.1 }), http(r, "nodehttp", 4000)]);
    const res = httpResults(both, k);
    for (const text of ["HTTP 1 KiB, close: req/s, xps / naive http", "HTTP 1 KiB, close: CPU per request", "HTTP 1 KiB, close: peak RSS growth"]) {
      const v = find(res.verdicts, text);
      expect(v.pass).toBe(false);
      expect(v.measured).toContain("of requests failed");
    }
  });

  it("without nginx the nginx ratio says so, and there is no nginx row", () => {
    const res = httpResults(settings({ only: ["http1k"] }), reps(7, (r) => [http(r, "xps15", 5000), http(r, "nodehttp", 4500)]));
    expect(find(res.verdicts, "HTTP 1 KiB, close: req/s, xps / nginx http").measured).toBe("n/a (no nginx in this run)");
    expect(res.summary.some((r) => r.target === "nginxhttp")).toBe(false);
    expect(res.verdicts.some((v) => v.text.startsWith("HTTP 1 MiB"))).toBe(false);
  });

  it("fewer than 7 repetitions make the HTTP verdicts provisional", () => {
    const s = settings({ only: ["http1k"], reps: { ...settings().reps, http1k: 2 } });
    const res = httpResults(s, reps(2, (r) => [http(r, "xps15", 5000), http(r, "nodehttp", 4500)]));
    expect(find(res.verdicts, "HTTP 1 KiB, close: req/s, xps / naive http").provisional).toBe(true);
  });

  it("a learner's stage 15 server that failed gets one line of its own", () => {
    const why = "it did not serve: GET /1k.bin: stage-15 TODO 1 is not done yet";
    const res = httpResults(
      settings({ only: ["http1k"], learner: true }),
      reps(7, (r) => [http(r, "xps15", 5000), http(r, "learner15", 0, { error: why }), http(r, "nodehttp", 4500)]),
    );
    const mine = res.verdicts.filter((v) => v.text.includes("yours"));
    expect(mine).toHaveLength(1);
    expect(mine[0]!.text).toBe("stage 15 (yours): every target");
    expect(mine[0]!.measured).toContain(why);
    expect(find(res.verdicts, "HTTP 1 KiB, close: req/s, xps / naive http").pass).toBe(true);
  });
});

describe("nginx's config", () => {
  it("serves the folder over HTTP with keep-alive off and its temp folders in its own", () => {
    const conf = nginxServerBlock(8080, { publicDir: "/tmp/pub" }, "/tmp/ngx").join("\n");
    expect(conf).toContain("keepalive_timeout 0;");
    expect(conf).toContain("root /tmp/pub;");
    expect(conf).toContain("listen 127.0.0.1:8080;");
    expect(conf).toContain("client_body_temp_path /tmp/ngx/client_body;");
    expect(conf).not.toContain("stream {");
    expect(nginxServerBlock(8080, { upstreamPort: 9000 }, "/tmp/ngx").join("\n")).toContain("proxy_pass 127.0.0.1:9000;");
  });
});
