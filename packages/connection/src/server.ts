// Starting and stopping a stage's server: the part of the C course's main.c
// and xps_core_start() that every stage shares. A stage supplies its name and
// one connection handler per port; this file parses the command line, creates
// the core and the listeners, prints where it listens, and shuts down on
// Ctrl+C.
import net from "node:net";
import { parseArgs } from "node:util";
import {
  DEFAULT_HOST,
  DEFAULT_PORTS,
  describeError,
  describeNameError,
  formatHostPort,
  isLoopback,
  isNameError,
  isValidPort,
  logger,
  parseHostPort,
  scriptArgs,
  type HostPort,
} from "@xps/utils";
import { coreCreate, coreDestroy, coreStats, type Core } from "@xps/core/core";
import { loopRun } from "@xps/core/loop";
import { connectionDestroy, type Connection } from "@xps/connection/connection";
import { listenerCreate, listenerDestroy, type ConnectionHandler, type Listener } from "@xps/connection/listener";
import { upstreamConnectError } from "@xps/connection/upstream";

export interface ServerOptions {
  host: string;
  ports: number[];
  /** Only for stages with an upstream. */
  upstream: HostPort;
}

export interface StageServerSpec {
  /** "stage-11" */
  stage: string;
  title: string;
  /** What each of the four ports does, for --help. */
  portRoles: readonly string[];
  /** The stage proxies to an upstream (adds --upstream). */
  upstream?: boolean;
}

export class UsageError extends Error {}

export const DEFAULT_UPSTREAM: HostPort = { host: "127.0.0.1", port: 3000 };

export function usage(spec: StageServerSpec): string {
  const roles = spec.portRoles.map((r, i) => `    port ${DEFAULT_PORTS[i]}: ${r}`).join("\n");
  return [
    `${spec.stage}: ${spec.title}`,
    "",
    "Options (each also read from an environment variable):",
    `  --host HOST           address to listen on (XPS_HOST, default ${DEFAULT_HOST})`,
    `  --ports A,B,C,D       the four ports (XPS_PORTS, default ${DEFAULT_PORTS.join(",")})`,
    ...(spec.upstream
      ? [`  --upstream HOST:PORT  where port A proxies to (XPS_UPSTREAM, default ${formatHostPort(DEFAULT_UPSTREAM)})`]
      : []),
    "  --help                this text",
    "",
    roles,
  ].join("\n");
}

/** Read the options from argv and the environment; throws UsageError with a fix when they are wrong. */
export function parseServerArgs(argv: string[], env: NodeJS.ProcessEnv, spec: StageServerSpec): ServerOptions | "help" {
  let values: { host?: string; ports?: string; upstream?: string; help?: boolean };
  try {
    ({ values } = parseArgs({
      args: argv,
      options: {
        host: { type: "string" },
        ports: { type: "string" },
        upstream: { type: "string" },
        help: { type: "boolean", short: "h" },
      },
      strict: true,
      allowPositionals: false,
    }));
  } catch (err) {
    throw new UsageError(`${(err as Error).message.split("\n")[0]} (run with --help for the options)`);
  }
  if (values.help) return "help";
  if (values.upstream !== undefined && !spec.upstream) {
    throw new UsageError(`${spec.stage} has no upstream; --upstream belongs to stage 11 and later`);
  }
  const host = values.host ?? env.XPS_HOST ?? DEFAULT_HOST;
  if (host.trim() === "") throw new UsageError("--host is empty; give an address such as 127.0.0.1");

  const portsText = values.ports ?? env.XPS_PORTS;
  let ports = [...DEFAULT_PORTS];
  if (portsText !== undefined) {
    ports = portsText.split(",").map((p) => Number(p.trim()));
    const bad = ports.some((p) => !isValidPort(p));
    if (ports.length !== DEFAULT_PORTS.length || bad || new Set(ports).size !== ports.length) {
      throw new UsageError(
        `--ports wants ${DEFAULT_PORTS.length} different ports from 1 to 65535, comma-separated (like ${DEFAULT_PORTS.join(",")}); got "${portsText}"`,
      );
    }
  }

  let upstream = DEFAULT_UPSTREAM;
  const upstreamText = values.upstream ?? (spec.upstream ? env.XPS_UPSTREAM : undefined);
  if (upstreamText !== undefined) {
    const parsed = parseHostPort(upstreamText);
    if (parsed === null) {
      const text = upstreamText.trim();
      const port = /^\[?\s*\]?:(\d+)$/.exec(text)?.[1];
      if (port !== undefined) {
        throw new UsageError(`--upstream "${upstreamText}" has no host before the colon; write one, like 127.0.0.1:${port} for this machine`);
      }
      throw new UsageError(`--upstream wants HOST:PORT with a port from 1 to 65535 (like 127.0.0.1:3000); got "${upstreamText}"`);
    }
    upstream = parsed;
  }
  return { host, ports, upstream };
}

/** Create one listener per port; null (after an ERROR line per failure) if any port cannot be bound. */
export async function serverStart(core: Core, host: string, routes: { port: number; handler: ConnectionHandler }[]): Promise<Listener[] | null> {
  const listeners: Listener[] = [];
  for (const { port, handler } of routes) {
    const listener = await listenerCreate(core, host, port, handler);
    if (listener === null) {
      for (const l of listeners) listenerDestroy(l);
      return null;
    }
    listeners.push(listener);
  }
  for (const l of listeners) {
    logger("INFO", "serverStart()", `Server listening on http://${formatHostPort({ host: l.host, port: l.port })}`, true);
  }
  loopRun(core.loop);
  return listeners;
}

/** Destroy every listener and connection, then the core (xps_core_destroy). */
export function serverStop(core: Core): void {
  for (const l of core.listeners.live() as Listener[]) listenerDestroy(l);
  for (const c of core.connections.live() as Connection[]) connectionDestroy(c);
  coreDestroy(core);
}

/**
 * Say at start-up whether anything listens on the upstream address. The
 * server runs either way: each client's connection to the upstream is made
 * when the client arrives.
 */
export function probeUpstream(upstream: HostPort): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: upstream.host, port: upstream.port });
    socket.once("connect", () => {
      logger("INFO", "probeUpstream()", `upstream ${formatHostPort(upstream)} is accepting connections`, true);
      socket.destroy();
      resolve(true);
    });
    socket.once("error", (err: NodeJS.ErrnoException) => {
      logger("WARNING", "probeUpstream()", upstreamConnectError(upstream.host, upstream.port, err));
      resolve(false);
    });
  });
}

/** The error of binding host:port (port 0: any port, to test the host alone), or null when it can be bound. */
async function bindError(host: string, port: number): Promise<NodeJS.ErrnoException | null> {
  const server = net.createServer();
  const err = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    server.once("error", resolve);
    server.listen({ host, port }, () => resolve(null));
  });
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return err;
}

/** Why nothing can listen on `host`, on any port (a problem of --host, not of --ports); null when it can. */
export async function listenHostProblem(host: string): Promise<string | null> {
  const err = await bindError(host, 0);
  if (err === null) return null;
  const code = err.code ?? err.message;
  const why = isNameError(err.code)
    ? `the host name could not be resolved (${describeNameError(code)})`
    : err.code === "EADDRNOTAVAIL"
      ? `it is not an address of this machine (EADDRNOTAVAIL)`
      : `listen() refuses it (${code})`;
  return `cannot listen on ${host}: ${why}; use --host 127.0.0.1 (the default: this machine only)`;
}

/** After serverStart failed on a host that can be listened on: which port failed, and what to do. */
async function listenPortsProblem(host: string, ports: number[]): Promise<string> {
  for (const port of ports) {
    const err = await bindError(host, port);
    if (err === null) continue;
    if (err.code === "EADDRINUSE") return `could not listen on every port: port ${port} is already in use; pick free ones with --ports A,B,C,D`;
    if (err.code === "EACCES") return `could not listen on every port: port ${port} needs privileges (EACCES); pick ports from 1024 up with --ports A,B,C,D`;
    return `could not listen on port ${port} (${err.code ?? err.message})`;
  }
  return "could not listen on every port (the ERROR line above says why)";
}

/**
 * The WARNING for listeners bound beyond loopback (--host 0.0.0.0, ::, or an
 * address of a network interface), or null when every listener is loopback
 * only. `addresses` are the addresses the listeners are bound to.
 */
export function exposureWarning(addresses: string[], ports: number[], spec: StageServerSpec, upstream: HostPort): string | null {
  const open = addresses.find((a) => !isLoopback(a));
  if (open === undefined) return null;
  const where = open === "0.0.0.0" || open === "::" ? `${open} (every network interface of this machine)` : `${open} (an address other machines can reach)`;
  const roles = ports.map((p, i) => `${p} (${spec.portRoles[i] ?? "?"})`);
  const list = roles.length > 1 ? `${roles.slice(0, -1).join(", ")} and ${roles.at(-1)}` : roles.join("");
  const proxy = spec.upstream
    ? `, and the proxy hands them whatever the upstream ${formatHostPort(upstream)} serves (python3 -m http.server serves every file under the folder it was started in)`
    : "";
  return `listening on ${where}: other machines can connect to ports ${list}${proxy}; to listen on this machine only, use --host 127.0.0.1 (the default)`;
}

/** The stats line that SIGUSR2 prints (and tests parse): one JSON object. */
export function statsLine(core: Core): string {
  const { perPipe: _perPipe, ...totals } = coreStats(core);
  return `stats ${JSON.stringify({ ...totals, rss: process.memoryUsage.rss() })}`;
}

/**
 * The whole main(): parse options, start, and serve until SIGINT/SIGTERM.
 * `routes` gives the handler for each of the four ports.
 */
export async function runStageServer(
  spec: StageServerSpec,
  routes: (options: ServerOptions) => ConnectionHandler[],
): Promise<Core> {
  let options: ServerOptions | "help";
  try {
    options = parseServerArgs(scriptArgs(), process.env, spec);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    process.stderr.write(`error: ${err.message}\n`);
    process.exit(2);
  }
  if (options === "help") {
    process.stdout.write(usage(spec) + "\n");
    process.exit(0);
  }

  // Last line of defence: every handler is already guarded, but nothing a
  // client does may end the process.
  process.on("uncaughtException", (err) => {
    logger("ERROR", "process", `uncaught exception: ${describeError(err)}; the server keeps running`);
  });
  process.on("unhandledRejection", (err) => {
    logger("ERROR", "process", `unhandled rejection: ${describeError(err)}; the server keeps running`);
  });

  const core = coreCreate();
  const stop = (signal: string): void => {
    logger("WARNING", "runStageServer()", `${signal} received`);
    serverStop(core);
    process.exit(0);
  };
  // Installed before the first "Server listening" line: whoever reads that
  // line may signal at once.
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // Asked for explicitly, so printed even when XPS_LOG=quiet hides INFO lines.
  process.on("SIGUSR2", () => logger("INFO", "runStageServer()", statsLine(core), true));

  const hostProblem = await listenHostProblem(options.host);
  if (hostProblem !== null) {
    logger("ERROR", "runStageServer()", hostProblem);
    process.exit(1);
  }
  const handlers = routes(options);
  const started = await serverStart(
    core,
    options.host,
    options.ports.map((port, i) => ({ port, handler: handlers[i]! })),
  );
  if (started === null) {
    logger("ERROR", "runStageServer()", await listenPortsProblem(options.host, options.ports));
    process.exit(1);
  }
  const bound = started.map((l) => (l.server.address() as net.AddressInfo | null)?.address ?? l.host);
  const exposed = exposureWarning(bound, options.ports, spec, options.upstream);
  if (exposed !== null) logger("WARNING", "runStageServer()", exposed);
  logger("INFO", "runStageServer()", `pid ${process.pid}: Ctrl+C stops the server, kill -USR2 ${process.pid} prints its counts`, true);
  if (spec.upstream) void probeUpstream(options.upstream);
  return core;
}
