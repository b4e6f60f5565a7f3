// The bench's judging on made-up runs: errors block a pass, the reset rate
// is compared with nginx's, fewer than 7 repetitions are provisional, and a
// learner's server that failed everywhere gets one line with the reason.
import { describe, expect, it } from "vitest";
import { judge, summarise, type BenchResults, type ResetRun, type Settings, type ThroughputRun, type Verdict } from "../src/results.ts";
import type { TargetId } from "../src/targets.ts";

function settings(over: Partial<Settings> = {}): Settings {
  return {
    quick: false,
    only: ["keepalive", "newconn"],
    generator: "wrk",
    reps: { keepalive: 7, newconn: 7, bigbody: 7, bigbody8: 7, idlescale: 7, slowreader: 3, idle: 3 },
    durationS: { keepalive: 4, newconn: 4, bigbody: 3, bigbody8: 3 },
    warmupS: 2,
    connections: { keepalive: 50, newconn: 50, bigbody: 1, bigbody8: 8 },
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

function results(s: Settings, keepalive: ThroughputRun[], resets: ResetRun[] = []): BenchResults {
  const res = {
    settings: s,
    skipped: [],
    throughput: { keepalive, newconn: [], bigbody: [], bigbody8: [] },
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
