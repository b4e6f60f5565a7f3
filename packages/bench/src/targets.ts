// The upstream and the targets: direct to the upstream, the stage 11
// solution proxy, the learner's own stage 11 server (--learner), the naive
// Node pipe proxy and nginx's stream proxy; and for the HTTP workloads, the
// servers of files: the stage 15 solution, the learner's stage 15 server
// (--learner), a plain Node http server and nginx's http server, all serving
// a folder the bench fills. Each is its own process, so its CPU and memory
// can be read from /proc.
import { spawnSync } from "node:child_process";
import crypto from "node:crypto";
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { overridesFor } from "@xps/course/overrides";
import { bundle, type Entry } from "./build.ts";
import { fileURLToPath } from "node:url";
import { atExit, spawnGuarded, type Child } from "./children.ts";
import { freePorts, waitForPort } from "./proc.ts";

export type TargetId = "direct" | "xps" | "learner" | "naive" | "nginx" | "xps15" | "learner15" | "nodehttp" | "nginxhttp";
export const TARGET_IDS: readonly TargetId[] = ["direct", "xps", "learner", "naive", "nginx", "xps15", "learner15", "nodehttp", "nginxhttp"];
/** The proxies, in front of the upstream. */
export const PROXY_IDS: readonly TargetId[] = ["xps", "learner", "naive", "nginx"];
/** The servers of the HTTP workloads, serving files (no upstream, no direct). */
export const HTTP_IDS: readonly TargetId[] = ["xps15", "learner15", "nodehttp", "nginxhttp"];

export const TARGET_LABELS: Record<TargetId, string> = {
  direct: "direct",
  xps: "stage 11 (xps)",
  learner: "stage 11 (yours)",
  naive: "naive pipe",
  nginx: "nginx stream",
  xps15: "stage 15 (xps)",
  learner15: "stage 15 (yours)",
  nodehttp: "naive http",
  nginxhttp: "nginx http",
};

/** The naive Node peer a target is compared with: the pipe proxy, or for a server of files the plain http server. */
export function peerOf(t: TargetId): "naive" | "nodehttp" {
  return (HTTP_IDS as readonly string[]).includes(t) ? "nodehttp" : "naive";
}

/** The files the HTTP workloads ask for, in the folder the bench makes (makeHttpFolder). */
export const HTTP_FILES = { http1k: { name: "1k.bin", size: 1024 }, http1m: { name: "1m.bin", size: 2 ** 20 } } as const;

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
export const STAGE15_DIR = path.join(REPO_ROOT, "stages/stage-15-http-response");
const REGISTER = fileURLToPath(import.meta.resolve("@xps/course/variant"));

/** The TypeScript entry of each Node target; xps and learner (xps15 and learner15) are the same server with other files in it. */
const NODE_SOURCES = {
  xps: path.join(STAGE_DIR, "server.ts"),
  learner: path.join(STAGE_DIR, "server.ts"),
  naive: path.join(HERE, "naive-proxy.ts"),
  xps15: path.join(STAGE15_DIR, "server.ts"),
  learner15: path.join(STAGE15_DIR, "server.ts"),
  nodehttp: path.join(HERE, "node-http.ts"),
} as const;
type NodeTarget = keyof typeof NODE_SOURCES;
type StageTarget = "xps" | "learner" | "xps15" | "learner15";
/** XPS_VARIANT of the stage servers: the reference's files, or the learner's (src/, or XPS_LEARNER_DIR). */
const VARIANT = { xps: "solution", learner: "learner", xps15: "solution", learner15: "learner" } as const;
const STAGE_OF: Record<StageTarget, string> = { xps: STAGE_DIR, learner: STAGE_DIR, xps15: STAGE15_DIR, learner15: STAGE15_DIR };

/** The Node targets, whose CPU profile --profile writes. */
export function isNodeTarget(t: TargetId): t is NodeTarget {
  return t in NODE_SOURCES;
}

/** The bundled Node targets (see build.ts), or null to run them under tsx. */
let bundles: Partial<Record<NodeTarget, string>> | null = null;

/** Targets that cannot run at all in this run, and why (a stub left, a file missing, a build error). */
export const unavailable = new Map<TargetId, string>();

/**
 * Bundle the Node targets (or choose tsx) before any target starts: for the
 * proxy workloads the stage 11 server with the reference's files, with the
 * learner's files (when `learner`), and the naive proxy; for the HTTP
 * workloads (`http`) the same of stage 15 and the plain Node http server. A
 * stage server that cannot be built is recorded in `unavailable` and the run
 * goes on without it.
 */
export async function prepareNodeTargets(runner: "bundle" | "tsx", learner: boolean, kinds: { proxy: boolean; http: boolean } = { proxy: true, http: false }): Promise<void> {
  const stages: StageTarget[] = [];
  const entries: Record<string, Entry> = {};
  if (kinds.proxy) {
    stages.push("xps", ...(learner ? (["learner"] as const) : []));
    entries.naive = { file: NODE_SOURCES.naive };
  }
  if (kinds.http) {
    stages.push("xps15", ...(learner ? (["learner15"] as const) : []));
    entries.nodehttp = { file: NODE_SOURCES.nodehttp };
  }
  for (const id of stages) {
    try {
      const overrides = overridesFor(STAGE_OF[id], { ...process.env, XPS_VARIANT: VARIANT[id] });
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
  /** The folder the HTTP targets serve (makeHttpFolder). */
  publicDir?: string;
}

/**
 * A stage server, the reference's (xps, xps15) or the learner's, started as
 * `pnpm --filter stage-11 start` (or stage-15) does (with
 * XPS_VARIANT=solution for the reference): stage 11's first port proxying
 * (`--upstream`), stage 15's every port serving the folder (`--public`).
 */
async function startStageServer(id: StageTarget, serve: string[], opts: StartOptions): Promise<Running> {
  const stage = id === "xps" || id === "learner" ? 11 : 15;
  const { child, port } = await startUntilListening(
    `${id.startsWith("xps") ? "the" : "your"} stage ${stage} server`,
    async (ports) => {
      const args = [...nodeEntry(id, opts.profileDir, ["--import", REGISTER]), "--ports", ports.join(","), ...serve];
      const env: NodeJS.ProcessEnv = {
        ...process.env,
        XPS_VARIANT: VARIANT[id],
        XPS_STAGE_DIR: STAGE_OF[id],
        NO_COLOR: "1",
        FORCE_COLOR: "0",
      };
      if (opts.quiet) env.XPS_LOG = "quiet";
      else delete env.XPS_LOG;
      delete env.XPS_DEBUG;
      return { child: await spawnGuarded(id, process.execPath, args, { cwd: STAGE_OF[id], env, nofile: CHILD_NOFILE }) };
    },
    4,
  );
  return { id, port, child };
}

/** The naive proxy (`--upstream`) or the plain Node http server (`--public`), on one port. */
async function startNaive(id: "naive" | "nodehttp", serve: string[], profileDir?: string): Promise<Running> {
  const { child, port } = await startUntilListening(id === "naive" ? "the naive proxy" : "the naive http server", async ([port]) => ({
    child: await spawnGuarded(id, process.execPath, [...nodeEntry(id, profileDir), "--port", String(port), ...serve], { cwd: REPO_ROOT, nofile: CHILD_NOFILE }),
  }));
  return { id, port, child };
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

/**
 * The block of nginx's config that serves `port`: the stream proxy in
 * front of the upstream, or (publicDir) the http server of a folder, with
 * keep-alive off, no access log, and its temp folders in `dir` (Debian's
 * nginx would otherwise create them in /var/lib/nginx, which needs root).
 */
export function nginxServerBlock(port: number, serve: { upstreamPort: number } | { publicDir: string }, dir: string): string[] {
  if ("upstreamPort" in serve) {
    return ["stream {", "  server {", `    listen 127.0.0.1:${port};`, `    proxy_pass 127.0.0.1:${serve.upstreamPort};`, "  }", "}"];
  }
  const temps = ["client_body", "proxy", "fastcgi", "uwsgi", "scgi"].map((t) => `  ${t}_temp_path ${path.join(dir, t)};`);
  return [
    "http {",
    "  access_log off;",
    "  keepalive_timeout 0;",
    "  default_type application/octet-stream;",
    ...temps,
    "  server {",
    `    listen 127.0.0.1:${port};`,
    `    root ${serve.publicDir};`,
    "  }",
    "}",
  ];
}

/** nginx with one worker (its stream proxy, or its http server of a folder), in the foreground, with a generated config in a temp folder. */
async function startNginx(id: "nginx" | "nginxhttp", serve: { upstreamPort: number } | { publicDir: string }, info: NginxInfo): Promise<Running> {
  const { child, port, cleanup } = await startUntilListening(id === "nginx" ? "nginx" : "nginx (http)", async ([port]) => {
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
        ...(info.streamModule && id === "nginx" ? [`load_module ${info.streamModule};`] : []),
        // Every proxied connection counts twice (client and upstream): room for the idle-scaling workload.
        `events { worker_connections ${CHILD_NOFILE}; }`,
        ...nginxServerBlock(port, serve, dir),
        "",
      ].join("\n"),
    );
    const args = ["-p", dir, "-c", conf, ...(info.hasDashE ? ["-e", path.join(dir, "error.log")] : [])];
    const child = await spawnGuarded(id, info.bin, args, { cwd: dir, removeDir: dir, nofile: CHILD_NOFILE });
    return { child, cleanup };
  });
  return { id, port, child, cleanup };
}

/**
 * The folder the HTTP workloads serve, in a temp folder of its own (removed
 * when the bench ends): HTTP_FILES, random bytes, readable by all (stage 12
 * serves only files that others may read).
 */
export function makeHttpFolder(): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xps-bench-public-"));
  atExit(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.chmodSync(dir, 0o755);
  for (const { name, size } of Object.values(HTTP_FILES)) {
    const file = path.join(dir, name);
    fs.writeFileSync(file, crypto.randomBytes(size));
    fs.chmodSync(file, 0o644);
  }
  return dir;
}

/** Start one target: a proxy in front of the upstream, or a server of opts.publicDir. */
export async function startTarget(id: TargetId, upstream: Running, opts: StartOptions, nginx: NginxInfo | null): Promise<Running> {
  const publicDir = (): string => {
    if (opts.publicDir === undefined) throw new Error(`${TARGET_LABELS[id]} needs a folder to serve`);
    return opts.publicDir;
  };
  switch (id) {
    case "direct":
      return { id, port: upstream.port, child: null };
    case "xps":
    case "learner":
    case "xps15":
    case "learner15": {
      const why = unavailable.get(id);
      if (why !== undefined) throw new Error(why);
      const serve = id === "xps" || id === "learner" ? ["--upstream", `127.0.0.1:${upstream.port}`] : ["--public", publicDir()];
      return startStageServer(id, serve, opts);
    }
    case "naive":
      return startNaive(id, ["--upstream", `127.0.0.1:${upstream.port}`], opts.profileDir);
    case "nodehttp":
      return startNaive(id, ["--public", publicDir()], opts.profileDir);
    case "nginx":
    case "nginxhttp":
      if (nginx === null) throw new Error("nginx is not available");
      return startNginx(id, id === "nginx" ? { upstreamPort: upstream.port } : { publicDir: publicDir() }, nginx);
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
 * One GET /small through a target (a server of files: GET /1k.bin), on a
 * connection of its own: null when a whole answer came, else why not. For a
 * stage server the reason is the first TODO its log names (a pristine
 * skeleton's), or its last error line.
 */
export async function probe(t: Running, timeoutMs = 5000): Promise<string | null> {
  const files = t.id !== "upstream" && (HTTP_IDS as readonly string[]).includes(t.id);
  const want = files ? `/${HTTP_FILES.http1k.name}` : "/small";
  const bodyBytes = files ? HTTP_FILES.http1k.size : 100;
  const failed = await new Promise<string | null>((resolve) => {
    const socket = net.connect({ host: "127.0.0.1", port: t.port });
    let got = "";
    const done = (why: string | null): void => {
      clearTimeout(timer);
      socket.destroy();
      resolve(why);
    };
    const timer = setTimeout(() => done(`no whole answer to GET ${want} within ${timeoutMs / 1000} s`), timeoutMs);
    socket.once("connect", () => socket.write(`GET ${want} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`));
    socket.on("data", (d: Buffer) => {
      got += d.toString("latin1");
      const end = got.indexOf("\r\n\r\n");
      if (end >= 0 && got.length - end - 4 >= bodyBytes) done(got.startsWith("HTTP/1.1 200") ? null : `answered ${got.split("\r\n")[0]}`);
    });
    socket.on("error", (err) => done(`GET ${want}: ${err.message}`));
    socket.on("end", () =>
      done(got.startsWith("HTTP/") && !got.startsWith("HTTP/1.1 200") ? `answered ${got.split("\r\n")[0]}` : `GET ${want}: the connection was closed after ${got.length} bytes`),
    );
  });
  if (failed === null || t.child === null) return failed;
  await new Promise((r) => setTimeout(r, 200)); // let its log lines arrive
  const log = t.child.log();
  const todo = log.find((l) => /TODO \d+ is not done yet/.test(l));
  const error = [...log].reverse().find((l) => /\[ERROR\]/.test(l));
  const line = todo ?? error;
  return line ? `${failed}; its log: ${line.replace(/^\S*\[ERROR\]\s*/, "").trim()}` : failed;
}
