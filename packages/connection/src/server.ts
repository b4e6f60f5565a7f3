// @stages 7-
// Starting and stopping a stage's server: the part of the C course's main.c
// and xps_core_start() that every stage shares. A stage supplies its name and,
// from stage 10 on, one connection handler per port; this file reads the
// command line (options.ts), creates the core and the listeners, prints where
// it listens, and shuts down on Ctrl+C (SIGINT: "SIGINT received", every
// listener and connection destroyed, exit code 0).
// From stage 13 on, a stage gives each port the backend that the sessions of // @since 13
// its clients attach (session.ts) instead of a handler. // @since 13
import fs from "node:fs"; // @since 12
import net from "node:net";
import path from "node:path"; // @since 12
import { describeError, formatHostPort, logger, type HostPort } from "@xps/utils"; // @since 11
// @until 10: import { describeError, formatHostPort, logger } from "@xps/utils";
import { coreCreate, coreDestroy, coreStats, type Core } from "@xps/core/core";
import { loopRun } from "@xps/core/loop";
import { connectionDestroy, type Connection } from "@xps/connection/connection";
import { listenerCreate, listenerDestroy, type Listener } from "@xps/connection/listener"; // @since 13
// @since 10 begin
// @until 12: import { listenerCreate, listenerDestroy, type ConnectionHandler, type Listener } from "@xps/connection/listener";
// @since end
// @until 9: import { listenerCreate, listenerDestroy, type Listener } from "@xps/connection/listener";
import { exposureWarning, listenHostProblem, listenPortsProblem, startProcess, type ServerOptions, type StageServerSpec } from "@xps/connection/options";
import { socketPending } from "@xps/connection/socket";
import { upstreamConnectError } from "@xps/connection/upstream"; // @since 11
import { sessionDestroy, type Backend, type Session } from "@xps/connection/session"; // @since 13
import { configCreate, type XpsConfig } from "@xps/connection/config"; // @since 16

/** Create one listener per port; null (after an ERROR line per failure) if any port cannot be bound. */
export async function serverStart(
  core: Core,
  host: string,
  routes: { port: number; backend: Backend; host?: string }[], // @since 16
  // @since 13 begin
  // @until 15: routes: { port: number; backend: Backend }[],
  // @since end
  // @since 10 begin
  // @until 12: routes: { port: number; handler: ConnectionHandler }[],
  // @since end
  // @until 9: ports: number[],
): Promise<Listener[] | null> {
  const listeners: Listener[] = [];
  for (const { port, backend, host: own } of routes) { // @since 16
  // @since 13 begin
  // @until 15: for (const { port, backend } of routes) {
  // @since end
  // @since 10 begin
  // @until 12: for (const { port, handler } of routes) {
  // @since end
  // @until 9: for (const port of ports) {
    const listener = await listenerCreate(core, own ?? host, port, backend); // @since 16
    // @since 13 begin
    // @until 15: const listener = await listenerCreate(core, host, port, backend);
    // @since end
    // @since 10 begin
    // @until 12: const listener = await listenerCreate(core, host, port, handler);
    // @since end
    // @until 9: const listener = await listenerCreate(core, host, port);
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

/** Destroy every listener, session and connection, then the core (xps_core_destroy). */ // @since 13
// @until 12: /** Destroy every listener and connection, then the core (xps_core_destroy). */
export function serverStop(core: Core): void {
  for (const l of core.listeners.live() as Listener[]) listenerDestroy(l);
  for (const s of core.sessions.live() as Session[]) sessionDestroy(s); // @since 13
  for (const c of core.connections.live() as Connection[]) connectionDestroy(c);
  coreDestroy(core);
}

// @since 11 begin
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
// @since end

/**
 * Bytes the server holds for its connections outside its pipes: `received`,
 * taken from the kernel but not yet read by a handler (the receive queues,
 * and what Node read ahead into a paused socket's own buffer);
 * `unsent`, handed to sockets but not yet to the kernel (Node's write
 * buffers); and `queued`, replies waiting in a connection's write_buff_list
 * (stages 8 and 9 keep them there).
 */
export function heldBytes(core: Core): { received: number; unsent: number; queued: number } {
  let received = 0;
  let unsent = 0;
  let queued = 0;
  for (const c of core.connections.items as (Connection | null)[]) {
    if (c === null) continue;
    received += socketPending(c.socket) + c.socket.readableLength;
    unsent += c.socket.writableLength;
    queued += (c as { writeBuffList?: { len: number } }).writeBuffList?.len ?? 0;
  }
  return { received, unsent, queued };
}

/** The stats line that SIGUSR2 prints (and tests parse): one JSON object. */
export function statsLine(core: Core): string {
  const { perPipe: _perPipe, ...totals } = coreStats(core); // @since 10
  // @until 9: const totals = coreStats(core);
  return `stats ${JSON.stringify({ ...totals, ...heldBytes(core), rss: process.memoryUsage.rss() })}`;
}

// @since 12 begin
/** Say at start-up where the files come from, and whether that folder is there. */
export function announcePublic(publicDir: string): void {
  const resolved = path.resolve(publicDir);
  if (fs.existsSync(resolved) && fs.statSync(resolved).isDirectory()) {
    logger("INFO", "announcePublic()", `serving files from ${resolved}`, true);
  } else {
    logger("WARNING", "announcePublic()", `the public folder ${publicDir} (${resolved}) is not there, so no file can be served; give the folder with --public DIR`);
  }
}
// @since end

/** Start-up threw (a TODO that is still a stub, or a bug): say what, and exit with code 1. */
function startFailed(what: string, err: unknown): never {
  logger("ERROR", "runStageServer()", `the server could not start: ${what} threw: ${describeError(err)}`);
  process.exit(1);
}

/**
 * The core, with the signals that stop it (SIGINT, SIGTERM: a clean stop,
 * exit code 0) and print its counts (SIGUSR2). Exits with code 1 when the
 * core cannot be made.
 */
function coreWithSignals(): Core {
  let core: Core;
  try {
    core = coreCreate();
  } catch (err) {
    startFailed("coreCreate()", err);
  }
  const stop = (signal: string): void => {
    logger("WARNING", "runStageServer()", `${signal} received`);
    try {
      serverStop(core);
    } catch (err) {
      // A shutdown that throws half-way ends here, said once, not as an
      // uncaught exception in a server that then keeps running.
      logger("ERROR", "runStageServer()", `the shutdown failed: ${describeError(err)}`);
      process.exit(1);
    }
    process.exit(0);
  };
  // Installed before the first "Server listening" line: whoever reads that
  // line may signal at once.
  process.on("SIGINT", () => stop("SIGINT"));
  process.on("SIGTERM", () => stop("SIGTERM"));
  // Asked for explicitly, so printed even when XPS_LOG=quiet hides INFO lines.
  process.on("SIGUSR2", () => logger("INFO", "runStageServer()", statsLine(core), true));
  return core;
}

/**
 * The whole main(): read the options, start, and serve until SIGINT or
 * SIGTERM. From stage 10 on, `routes` gives the handler of each of the four
 * ports.
 * From stage 13 on it gives each port's backend instead (see Backend). // @since 13
 */
export async function runStageServer(
  spec: StageServerSpec,
  routes: (options: ServerOptions) => Backend[], // @since 13
  // @since 10 begin
  // @until 12: routes: (options: ServerOptions) => ConnectionHandler[],
  // @since end
): Promise<Core> {
  const options = startProcess(spec);
  const core = coreWithSignals();

  const hostProblem = await listenHostProblem(options.host);
  if (hostProblem !== null) {
    logger("ERROR", "runStageServer()", hostProblem);
    process.exit(1);
  }
  const handlers = routes(options); // @since 10
  let started: Listener[] | null;
  try {
    started = await serverStart(
      core,
      options.host,
      options.ports.map((port, i) => ({ port, backend: handlers[i]! })), // @since 13
      // @since 10 begin
      // @until 12: options.ports.map((port, i) => ({ port, handler: handlers[i]! })),
      // @since end
      // @until 9: options.ports,
    );
  } catch (err) {
    startFailed("serverStart()", err);
  }
  if (started === null) {
    logger("ERROR", "runStageServer()", await listenPortsProblem(options.host, options.ports));
    process.exit(1);
  }
  const bound = started.map((l) => (l.server.address() as net.AddressInfo | null)?.address ?? l.host);
  const exposed = exposureWarning(bound, options.ports, spec, spec.upstream ? options.upstream : undefined); // @since 11
  // @until 10: const exposed = exposureWarning(bound, options.ports, spec);
  if (exposed !== null) logger("WARNING", "runStageServer()", exposed);
  logger("INFO", "runStageServer()", `pid ${process.pid}: Ctrl+C stops the server, kill -USR2 ${process.pid} prints its counts`, true);
  if (spec.files) announcePublic(options.publicDir); // @since 12
  if (spec.upstream) void probeUpstream(options.upstream); // @since 11
  return core;
}
// @since 16 begin

/** What each listener of the config serves, for the exposure WARNING: "file_serve /, redirect /redirect". */
function listenerRoles(config: XpsConfig, host: string, port: number): string {
  const routes = config.servers.filter((s) => s.listeners.some((l) => l.host === host && l.port === port)).flatMap((s) => s.routes);
  if (routes.length === 0) return "no routes: every request is a 404";
  return routes.map((r) => (r.type === "reverse_proxy" ? `reverse_proxy ${r.req_path} to ${r.upstreams![0]}` : `${r.type} ${r.req_path}`)).join(", ");
}

/**
 * main() from stage 16 on: the config file (the one positional argument)
 * says what to listen on and what answers. A config with problems prints
 * one "error:" line per problem and exits with code 1 before anything
 * listens; the config's unknown keys are WARNING lines. --host, when given,
 * replaces every listener's host.
 */
export async function runConfigServer(spec: StageServerSpec): Promise<Core> {
  const options = startProcess({ ...spec, readsConfig: true });
  let result: ReturnType<typeof configCreate>;
  try {
    result = configCreate(options.configPath!);
  } catch (err) {
    startFailed("configCreate()", err);
  }
  const { config, problems, warnings } = result;
  for (const w of warnings) logger("WARNING", "configCreate()", w);
  if (config === null) {
    for (const p of problems) process.stderr.write(`error: ${p}\n`);
    process.stderr.write(`error: the config has ${problems.length === 1 ? "a problem" : `${problems.length} problems`}; nothing was started\n`);
    process.exit(1);
  }
  logger("INFO", "runConfigServer()", `config ${config.configPath}: ${config.servers.length} server(s), ${config.listeners.length} listener(s)`, true);
  const core = coreWithSignals();
  const listeners = config.listeners.map((l) => ({ host: options.hostGiven ? options.host : l.host, port: l.port, config: l }));
  for (const host of new Set(listeners.map((l) => l.host))) {
    const problem = await listenHostProblem(host);
    if (problem !== null) {
      logger("ERROR", "runConfigServer()", problem);
      process.exit(1);
    }
  }
  let started: Listener[] | null;
  try {
    started = await serverStart(core, options.host, listeners.map((l) => ({ host: l.host, port: l.port, backend: { config } })));
  } catch (err) {
    startFailed("serverStart()", err);
  }
  if (started === null) {
    logger("ERROR", "runConfigServer()", "could not listen on every port of the config (the ERROR line above says why); free the port or change it in the config");
    process.exit(1);
  }
  // The lookup compares the client's listener with the config's: a listener
  // whose host --host replaced still answers as the config's.
  started.forEach((l, i) => {
    l.host = listeners[i]!.config.host;
  });
  const bound = started.map((l) => (l.server.address() as net.AddressInfo | null)?.address ?? l.host);
  const roles = listeners.map((l) => listenerRoles(config, l.config.host, l.port));
  const exposed = exposureWarning(bound, listeners.map((l) => l.port), { ...spec, portRoles: roles });
  if (exposed !== null) logger("WARNING", "runConfigServer()", exposed);
  logger("INFO", "runConfigServer()", `pid ${process.pid}: Ctrl+C stops the server, kill -USR2 ${process.pid} prints its counts`, true);
  return core;
}
// @since end
