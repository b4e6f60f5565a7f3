// The upstream and the targets: direct to the upstream, the stage 11
// solution proxy, the learner's own stage 11 server (--learner), the naive
// Node pipe proxy and nginx's stream proxy. Each proxy is its own process, so
// its CPU and memory can be read from /proc.
import { spawnSync } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { overridesFor } from "@xps/course/overrides";
import { bundle, type Entry } from "./build.ts";
import { fileURLToPath } from "node:url";
import { atExit, spawnGuarded, type Child } from "./children.ts";
import { freePorts, waitForPort } from "./proc.ts";

export type TargetId = "direct" | "xps" | "learner" | "naive" | "nginx";
export const TARGET_IDS: readonly TargetId[] = ["direct", "xps", "learner", "naive", "nginx"];
export const PROXY_IDS: readonly TargetId[] = ["xps", "learner", "naive", "nginx"];

export const TARGET_LABELS: Record<TargetId, string> = {
  direct: "direct",
  xps: "stage 11 (xps)",
  learner: "stage 11 (yours)",
  naive: "naive pipe",
  nginx: "nginx stream",
};

/**
 * Open files every long-running child asks for (see children.ts). Node
 * raises its soft limit to the hard one at start-up and children inherit
 * it; only a privileged user gets more than the hard limit.
 */
export const CHILD_NOFILE = 65_536;

export const NGINX_INSTALL_HINT = "sudo apt-get install nginx libnginx-mod-stream";

const HERE = path.dirname(fileURLToPath(import.meta.url));
export const REPO_ROOT = path.resolve(HERE, "../../..");
export const STAGE_DIR = path.join(REPO_ROOT, "stages/stage-11-upstream");
const REGISTER = fileURLToPath(import.meta.resolve("@xps/course/variant"));

/** The TypeScript entry of each Node target; xps and learner are the same server with other files in it. */
const NODE_SOURCES = { xps: path.join(STAGE_DIR, "server.ts"), learner: path.join(STAGE_DIR, "server.ts"), naive: path.join(HERE, "naive-proxy.ts") } as const;
type NodeTarget = keyof typeof NODE_SOURCES;
/** XPS_VARIANT of the two stage servers: the reference's files, or the learner's (src/, or XPS_LEARNER_DIR). */
const VARIANT = { xps: "solution", learner: "learner" } as const;

/** The bundled Node targets (see build.ts), or null to run them under tsx. */
let bundles: Partial<Record<NodeTarget, string>> | null = null;

/** Targets that cannot run at all in this run, and why (a stub left, a file missing, a build error). */
export const unavailable = new Map<TargetId, string>();

/**
 * Bundle the Node targets (or choose tsx) before any target starts: the
 * stage 11 server with the reference's files, with the learner's files
 * (when `learner`), and the naive proxy. A stage server that cannot be built
 * is recorded in `unavailable` and the run goes on without it.
 */
export async function prepareNodeTargets(runner: "bundle" | "tsx", learner: boolean): Promise<void> {
  const stages = (learner ? ["xps", "learner"] : ["xps"]) as ("xps" | "learner")[];
  const entries: Record<string, Entry> = { naive: { file: NODE_SOURCES.naive } };
  for (const id of stages) {
    try {
      const overrides = overridesFor(STAGE_DIR, { ...process.env, XPS_VARIANT: VARIANT[id] });
      entries[id] = { file: NODE_SOURCES[id], overrides };
    } catch (err) {
      unavailable.set(id, (err as Error).message);
    }
  }
  if (runner === "tsx") {
    bundles = null;
    return;
  }
  const { files, failed, dir } = await bundle(entries);
  process.once("exit", () => fs.rmSync(dir, { recursive: true, force: true }));
  for (const [id, why] of Object.entries(failed)) unavailable.set(id as TargetId, `it does not build: ${why}`);
  bundles = files;
}

/**
 * node's arguments for a Node target: the profiler's when asked for, then its
 * bundle, or its TypeScript under tsx (plus extra loader flags).
 */
function nodeEntry(id: NodeTarget, profileDir: string | undefined, loader: string[] = []): string[] {
  const prof = profileDir ? ["--cpu-prof", "--cpu-prof-dir", profileDir] : [];
  return [...prof, ...(bundles === null ? ["--import", "tsx", ...loader, NODE_SOURCES[id]] : [bundles[id]!])];
}

export interface Running {
  id: TargetId | "upstream";
  port: number;
  /** The process to measure; null for direct (nothing between the client and the upstream). */
  child: Child | null;
  /** Called after the process is stopped (nginx's temp folder). */
  cleanup?: () => void;
}

export function pidOf(t: Running): number | null {
  return t.child?.pid ?? null;
}

export async function stopRunning(t: Running | null | undefined): Promise<void> {
  if (!t) return;
  try {
    await t.child?.stop();
  } finally {
    t.cleanup?.();
  }
}

async function startUntilListening(
  name: string,
  start: (ports: number[]) => Promise<{ child: Child; cleanup?: () => void }>,
  portsNeeded = 1,
): Promise<{ child: Child; port: number; cleanup?: () => void }> {
  let lastError = "";
  for (let attempt = 0; attempt < 3; attempt++) {
    const ports = await freePorts(portsNeeded);
    const { child, cleanup } = await start(ports);
    const deadline = Date.now() + 30_000;
    let up = false;
    while (!up && Date.now() < deadline && child.alive()) up = await waitForPort(ports[0]!, 250);
    if (up && child.alive()) return { child, port: ports[0]!, cleanup };
    await child.stop();
    cleanup?.();
    const out = child.log().slice(-10).join("\n    ");
    lastError = `${name} did not start listening on ${ports[0]}; its output:\n    ${out || "(nothing)"}`;
    if (!/in use/i.test(out)) break;
  }
  throw new Error(lastError);
}

/** The fast upstream (upstream.ts) as its own process. */
export async function startUpstream(): Promise<Running> {
  const { child, port } = await startUntilListening("the upstream", async ([port]) => ({
    child: await spawnGuarded("upstream", process.execPath, ["--import", "tsx", path.join(HERE, "upstream.ts"), "--port", String(port)], {
      cwd: REPO_ROOT,
      nofile: CHILD_NOFILE,
    }),
  }));
  return { id: "upstream", port, child };
}

export interface StartOptions {
  /** Write a V8 CPU profile of the Node proxy into this folder (node --cpu-prof). */
  profileDir?: string;
  /** XPS_LOG=quiet: no INFO line per connection (older cores also dropped the SIGUSR2 stats line then). */
  quiet: boolean;
}

/**
 * A stage 11 server, the reference's (xps) or the learner's, started as
 * `pnpm --filter stage-11 start` does (with XPS_VARIANT=solution for the
 * reference), its first port proxying.
 */
async function startStageServer(id: "xps" | "learner", upstreamPort: number, opts: StartOptions): Promise<Running> {
  const { child, port } = await startUntilListening(
    id === "xps" ? "the stage 11 server" : "your stage 11 server",
    async (ports) => {
      const args = [
        ...nodeEntry(id, opts.profileDir, ["--import", REGISTER]),
        "--ports",
        ports.join(","),
        "--upstream",
        `127.0.0.1:${upstreamPort}`,
      ];
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        XPS_VARIANT: VARIANT[id],
        XPS_STAGE_DIR: STAGE_DIR,
        NO_COLOR: "1",
        FORCE_COLOR: "0",
      };
      if (opts.quiet) env.XPS_LOG = "quiet";
      else delete env.XPS_LOG;
      delete env.XPS_DEBUG;
      return { child: await spawnGuarded(id, process.execPath, args, { cwd: STAGE_DIR, env, nofile: CHILD_NOFILE }) };
    },
    4,
  );
  return { id, port, child };
}

async function startNaive(upstreamPort: number, profileDir?: string): Promise<Running> {
  const { child, port } = await startUntilListening("the naive proxy", async ([port]) => ({
    child: await spawnGuarded(
      "naive",
      process.execPath,
      [...nodeEntry("naive", profileDir), "--port", String(port), "--upstream", `127.0.0.1:${upstreamPort}`],
      { cwd: REPO_ROOT, nofile: CHILD_NOFILE },
    ),
  }));
  return { id: "naive", port, child };
}

export interface NginxInfo {
  bin: string;
  version: string;
  /** The load_module line's path, or null when stream is compiled in. */
  streamModule: string | null;
  /** -e (error log path before the config is read) exists since 1.19.5. */
  hasDashE: boolean;
}

/** Find nginx and its stream module, or say how to install them. */
export function findNginx(env: NodeJS.ProcessEnv = process.env): NginxInfo | { missing: string } {
  // XPS_BENCH_NGINX: another nginx binary, or "none" to leave nginx out.
  const forced = env.XPS_BENCH_NGINX;
  if (forced === "none") return { missing: `XPS_BENCH_NGINX=none leaves nginx out (it needs: ${NGINX_INSTALL_HINT})` };
  const candidates = forced ? [forced] : ["/usr/sbin/nginx", "/usr/local/sbin/nginx", "/usr/local/nginx/sbin/nginx"];
  const onPath = forced ? "" : spawnSync("sh", ["-c", "command -v nginx"], { encoding: "utf8" }).stdout.trim();
  if (onPath) candidates.unshift(onPath);
  const bin = candidates.find((c) => fs.existsSync(c));
  if (bin === undefined) return { missing: `nginx is not installed; install it with: ${NGINX_INSTALL_HINT}` };
  const v = spawnSync(bin, ["-V"], { encoding: "utf8" });
  const text = `${v.stdout ?? ""}${v.stderr ?? ""}`;
  const version = /nginx version: nginx\/([\d.]+)/.exec(text)?.[1] ?? "unknown";
  const [maj, min, pat] = version.split(".").map(Number);
  const hasDashE = (maj ?? 0) > 1 || ((maj ?? 0) === 1 && ((min ?? 0) > 19 || ((min ?? 0) === 19 && (pat ?? 0) >= 5)));
  if (/--with-stream(\s|$)/.test(text)) return { bin, version, streamModule: null, hasDashE };
  if (!/--with-stream=dynamic/.test(text)) {
    return { missing: `nginx ${version} at ${bin} was built without the stream module; install Debian's with: ${NGINX_INSTALL_HINT}` };
  }
  const modulesPath = /--modules-path=(\S+)/.exec(text)?.[1] ?? "/usr/lib/nginx/modules";
  const module = [path.join(modulesPath, "ngx_stream_module.so"), "/usr/lib/nginx/modules/ngx_stream_module.so"].find((p) =>
    fs.existsSync(p),
  );
  if (module === undefined) {
    return { missing: `nginx's stream module (ngx_stream_module.so) is missing; install it with: ${NGINX_INSTALL_HINT}` };
  }
  return { bin, version, streamModule: module, hasDashE };
}

/** nginx's stream proxy with one worker, in the foreground, with a generated config in a temp folder. */
async function startNginx(upstreamPort: number, info: NginxInfo): Promise<Running> {
  const { child, port, cleanup } = await startUntilListening("nginx", async ([port]) => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xps-bench-nginx-"));
    const cleanup = atExit(() => fs.rmSync(dir, { recursive: true, force: true }));
    const conf = path.join(dir, "nginx.conf");
    fs.writeFileSync(
      conf,
      [
        "daemon off;",
        "master_process off;",
        "worker_processes 1;",
        `error_log ${path.join(dir, "error.log")} warn;`,
        `pid ${path.join(dir, "nginx.pid")};`,
        ...(info.streamModule ? [`load_module ${info.streamModule};`] : []),
        // Every proxied connection counts twice (client and upstream): room for the idle-scaling workload.
        `events { worker_connections ${CHILD_NOFILE}; }`,
        "stream {",
        "  server {",
        `    listen 127.0.0.1:${port};`,
        `    proxy_pass 127.0.0.1:${upstreamPort};`,
        "  }",
        "}",
        "",
      ].join("\n"),
    );
    const args = ["-p", dir, "-c", conf, ...(info.hasDashE ? ["-e", path.join(dir, "error.log")] : [])];
    const child = await spawnGuarded("nginx", info.bin, args, { cwd: dir, removeDir: dir, nofile: CHILD_NOFILE });
    return { child, cleanup };
  });
  return { id: "nginx", port, child, cleanup };
}

/** Start one target in front of the upstream. */
export async function startTarget(id: TargetId, upstream: Running, opts: StartOptions, nginx: NginxInfo | null): Promise<Running> {
  switch (id) {
    case "direct":
      return { id, port: upstream.port, child: null };
    case "xps":
    case "learner": {
      const why = unavailable.get(id);
      if (why !== undefined) throw new Error(why);
      return startStageServer(id, upstream.port, opts);
    }
    case "naive":
      return startNaive(upstream.port, opts.profileDir);
    case "nginx":
      if (nginx === null) throw new Error("nginx is not available");
      return startNginx(upstream.port, nginx);
  }
}

/** A stage 11 server's SIGUSR2 stats line (needs a process started with quiet: false). */
export async function xpsStats(t: Running, timeoutMs = 3000): Promise<Record<string, number> | null> {
  if ((t.id !== "xps" && t.id !== "learner") || t.child === null) return null;
  const line = t.child.waitForLine(/ : stats \{/, timeoutMs, false);
  t.child.signal("SIGUSR2");
  const got = await line;
  if (got === null) return null;
  try {
    return JSON.parse(got.slice(got.indexOf("{"))) as Record<string, number>;
  } catch {
    return null;
  }
}

/**
 * One GET /small through a target, on a connection of its own: null when a
 * whole answer came, else why not. For a stage server the reason is the
 * first TODO its log names (a pristine skeleton's), or its last error line.
 */
export async function probe(t: Running, timeoutMs = 5000): Promise<string | null> {
  const failed = await new Promise<string | null>((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port: t.port });
    let got = "";
    const done = (why: string | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(`no whole answer to GET /small within ${timeoutMs / 1000} s`), timeoutMs);
    socket.once("connect", () => socket.write("GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n"));
    socket.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      const end = got.indexOf("\r\n\r\n");
      if (end >= 0 && got.length - end - 4 >= 100) done(got.startsWith("HTTP/1.1 200") ? null : `answered ${got.split("\r\n")[0]}`);
    });
    socket.on("error", (err) => done(`GET /small: ${err.message}`));
    socket.on("end", () => done(`GET /small: the connection was closed after ${got.length} bytes`));
  });
  if (failed === null || t.child === null) return failed;
  await new Promise((r) => setTimeout(r, 200)); // let its log lines arrive
  const log = t.child.log();
  const todo = log.find((l) => /TODO \d+ is not done yet/.test(l));
  const error = [...log].reverse().find((l) => /\[ERROR\]/.test(l));
  const line = todo ?? error;
  return line ? `${failed}; its log: ${line.replace(/^\S*\[ERROR\]\s*/, "").trim()}` : failed;
}
