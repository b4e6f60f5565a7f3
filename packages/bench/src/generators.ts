// The load generators: wrk (Debian's, written in C, used when present) or
// autocannon (from npm, always installed). Each run is its own process, never
// the bench's or the proxy's, and its summary is parsed from its output.
import { spawnSync } from "node:child_process";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { runToEnd } from "./children.ts";

export type GeneratorId = "wrk" | "autocannon";

const HERE = path.dirname(fileURLToPath(import.meta.url));
const WRK_SCRIPT = path.join(HERE, "wrk-report.lua");

export function findWrk(): string | null {
  const found = spawnSync("sh", ["-c", "command -v wrk"], { encoding: "utf8" }).stdout.trim();
  return found === "" ? null : found;
}

export function wrkVersion(bin: string): string {
  const r = spawnSync(bin, ["--version"], { encoding: "utf8" });
  return /wrk (\S+)/.exec(`${r.stdout}${r.stderr}`)?.[1] ?? "unknown";
}

export function autocannonPath(): string {
  return createRequire(import.meta.url).resolve("autocannon/autocannon.js");
}

export function autocannonVersion(): string {
  const req = createRequire(import.meta.url);
  return (req("autocannon/package.json") as { version: string }).version;
}

export function findCurl(): string | null {
  const found = spawnSync("sh", ["-c", "command -v curl"], { encoding: "utf8" }).stdout.trim();
  return found === "" ? null : found;
}

/**
 * Big bodies with curl, one at a time on each of `parallel` connections, again
 * and again for `durationS` (each at least once). MB/s is the sum over the
 * connections of each one's bytes over its summed transfer times. Used for
 * the big body when wrk is missing; autocannon's JavaScript parser, not the
 * proxy, would be what such a run measures.
 */
export async function runCurlBodies(curlBin: string, url: string, durationS: number, parallel = 1): Promise<LoadResult> {
  const deadline = Date.now() + durationS * 1000;
  const one = async (): Promise<{ bytes: number; seconds: number; requests: number; errors: number }> => {
    let bytes = 0;
    let seconds = 0;
    let requests = 0;
    let errors = 0;
    do {
      const r = await runToEnd(curlBin, ["-s", "-o", "/dev/null", "-w", "%{size_download} %{time_total} %{http_code}", url], 120_000);
      const [size, time, code] = r.stdout.trim().split(" ");
      if (r.code !== 0 || code !== "200") {
        errors++;
        if (errors > 3) throw new LoadError(`curl ${url} failed (exit ${r.code}, HTTP ${code ?? "?"}): ${r.stderr.trim().slice(0, 300)}`);
        continue;
      }
      bytes += Number(size);
      seconds += Number(time);
      requests++;
    } while (Date.now() < deadline);
    return { bytes, seconds, requests, errors };
  };
  const all = await Promise.all(Array.from({ length: parallel }, one));
  const bytes = all.reduce((a, r) => a + r.bytes, 0);
  const requests = all.reduce((a, r) => a + r.requests, 0);
  const errors = all.reduce((a, r) => a + r.errors, 0);
  const bytesPerS = all.reduce((a, r) => a + (r.seconds > 0 ? r.bytes / r.seconds : 0), 0);
  const secondsEach = Math.max(...all.map((r) => r.seconds));
  return {
    requests,
    durationS: secondsEach,
    bytes,
    rps: secondsEach > 0 ? requests / secondsEach : 0,
    mbps: bytesPerS / 1e6,
    p50Ms: null,
    p99Ms: null,
    errors,
    // curl reports no reset apart from its other failures.
    resets: 0,
  };
}

export interface LoadOptions {
  url: string;
  connections: number;
  /** Whole seconds. */
  durationS: number;
  /** Send "Connection: close" (wrk) / reconnect after every request (autocannon). */
  newConnection: boolean;
}

export interface LoadResult {
  requests: number;
  durationS: number;
  bytes: number;
  rps: number;
  /** Bytes per second / 1e6. */
  mbps: number;
  p50Ms: number | null;
  p99Ms: number | null;
  /** Failed requests: socket errors, timeouts and non-2xx answers. */
  errors: number;
  /**
   * The socket errors among them: connections reset or closed before their
   * answer was complete (wrk's connect, read and write errors; autocannon's
   * errors). Neither generator tells a reset from an early close.
   */
  resets: number;
}

export class LoadError extends Error {}

export async function runLoad(generator: GeneratorId, wrkBin: string | null, opts: LoadOptions): Promise<LoadResult> {
  const timeoutMs = (opts.durationS + 30) * 1000;
  if (generator === "wrk") {
    if (wrkBin === null) throw new LoadError("wrk is not installed");
    const args = [
      "-t1",
      `-c${opts.connections}`,
      `-d${opts.durationS}s`,
      "--timeout",
      "10s",
      "-s",
      WRK_SCRIPT,
      ...(opts.newConnection ? ["-H", "Connection: close"] : []),
      opts.url,
    ];
    const r = await runToEnd(wrkBin, args, timeoutMs);
    const line = /WRK_JSON (\{.*\})/.exec(r.stdout)?.[1];
    if (r.timedOut || line === undefined) {
      throw new LoadError(`wrk ${args.join(" ")} failed (${r.timedOut ? "timed out" : `exit ${r.code}`}): ${(r.stderr || r.stdout).trim().slice(0, 400)}`);
    }
    const j = JSON.parse(line) as Record<string, number>;
    const durationS = j.duration_us! / 1e6;
    const requests = j.requests!;
    return {
      requests,
      durationS,
      bytes: j.bytes!,
      rps: requests / durationS,
      mbps: j.bytes! / durationS / 1e6,
      p50Ms: requests > 0 ? j.p50_us! / 1000 : null,
      p99Ms: requests > 0 ? j.p99_us! / 1000 : null,
      errors: j.connect! + j.read! + j.write! + j.status! + j.timeout!,
      resets: j.connect! + j.read! + j.write!,
    };
  }
  const args = [
    autocannonPath(),
    "-c",
    String(opts.connections),
    "-d",
    String(opts.durationS),
    "-t",
    "10",
    "-j",
    "-n",
    // The server then closes after each answer and autocannon reconnects
    // (its -D/--reconnectRate 1 completes no request at all in 8.0.0).
    ...(opts.newConnection ? ["-H", "Connection=close"] : []),
    opts.url,
  ];
  const r = await runToEnd(process.execPath, args, timeoutMs);
  const start = r.stdout.indexOf("{");
  if (r.timedOut || start < 0) {
    throw new LoadError(`autocannon failed (${r.timedOut ? "timed out" : `exit ${r.code}`}): ${(r.stderr || r.stdout).trim().slice(0, 400)}`);
  }
  const j = JSON.parse(r.stdout.slice(start)) as {
    requests: { total: number };
    throughput: { total: number };
    latency: { p50: number; p99: number };
    duration: number;
    errors: number;
    timeouts: number;
    non2xx: number;
  };
  const durationS = j.duration;
  return {
    requests: j.requests.total,
    durationS,
    bytes: j.throughput.total,
    rps: j.requests.total / durationS,
    mbps: j.throughput.total / durationS / 1e6,
    p50Ms: j.requests.total > 0 ? j.latency.p50 : null,
    p99Ms: j.requests.total > 0 ? j.latency.p99 : null,
    errors: j.errors + j.timeouts + j.non2xx,
    resets: j.errors,
  };
}
