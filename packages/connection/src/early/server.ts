// @stages 6-6
// @view-as packages/connection/src/server.ts
// Stage 6's main.c: the server's globals, the loop functions and main().
//
// In this stage there is no core and no loop module yet (stage 7 brings
// both). main() keeps the lists of listeners and connections, and four loop
// functions, as the C course's main.c does:
//
//   C (stage 6)                        here
//   epoll_fd = xps_loop_create()       loopCreate(): an Epoll
//   xps_loop_attach(epoll_fd, fd, ..)  loopAttach(epoll, handle)
//   xps_loop_detach(epoll_fd, fd)      loopDetach(epoll, handle)
//   xps_loop_run(epoll_fd)             loopRun(epoll)
//
// libuv owns the real epoll instance. Node tells us, with an event, that a
// handle has something: a client in a listening socket's accept queue, bytes
// or an end in a connection's receive queue. loopAttach listens for those
// events and notes the handle as ready; once Node has delivered the batch,
// the loop takes the ready handles (what epoll_wait returns) and, as the C
// loop does, looks each one up: first among the listeners (a new client),
// then among the connections (bytes to read).
import net from "node:net";
import { SlotList, describeError, formatHostPort, logger } from "@xps/utils";
import { connectionDestroy, connectionReadHandler, type Connection } from "@xps/connection/connection";
import { listenerConnectionHandler, listenerCreate, listenerDestroy, type Listener } from "@xps/connection/listener";
import { exposureWarning, listenHostProblem, listenPortsProblem, startProcess, type StageServerSpec } from "@xps/connection/options";
import { acceptPending, socketPending } from "@xps/connection/socket";

/** The listeners (main.c's `vec_void_t listeners`). */
export const listeners = new SlotList<Listener>();
/** The connections (main.c's `vec_void_t connections`). */
export const connections = new SlotList<Connection>();

/** A handle the loop watches: a listening server or a connection's socket. */
export type LoopHandle = net.Server | net.Socket;

/** The loop's state: what epoll_create1 makes in C. */
export interface Epoll {
  /** The handles attached to it. */
  handles: Set<LoopHandle>;
  /** Handles with something to report, not yet handled (what epoll_wait returns). */
  ready: Set<LoopHandle>;
  /** A batch is queued for the end of this turn. */
  scheduled: boolean;
}

const WATCH: unique symbol = Symbol("xps stage 6 watch");
type Watched = LoopHandle & { [WATCH]?: () => void };

/** xps_loop_create */
export function loopCreate(): Epoll {
  return { handles: new Set(), ready: new Set(), scheduled: false };
}

function isServer(handle: LoopHandle): handle is net.Server {
  return typeof (handle as net.Server).listen === "function";
}

const SERVER_EVENTS = ["connection", "error"];
const SOCKET_EVENTS = ["data", "end", "error", "close"];

/** xps_loop_attach(epoll_fd, fd, EPOLLIN): OK (0), or E_FAIL (-1) when the handle is already attached. */
export function loopAttach(epoll: Epoll, handle: LoopHandle): number {
  const h = handle as Watched;
  if (h[WATCH] !== undefined) return -1;
  const notice = (): void => {
    epoll.ready.add(handle);
    if (!epoll.scheduled) {
      epoll.scheduled = true;
      setImmediate(() => handleEvents(epoll));
    }
  };
  h[WATCH] = notice;
  for (const name of isServer(handle) ? SERVER_EVENTS : SOCKET_EVENTS) handle.on(name, notice);
  epoll.handles.add(handle);
  return 0;
}

/** xps_loop_detach(epoll_fd, fd): OK, or E_FAIL when the handle was not attached. */
export function loopDetach(epoll: Epoll, handle: LoopHandle): number {
  const h = handle as Watched;
  const notice = h[WATCH];
  if (notice === undefined) return -1;
  for (const name of isServer(handle) ? SERVER_EVENTS : SOCKET_EVENTS) handle.off(name, notice);
  delete h[WATCH];
  // A socket nobody watches must not crash the process with a late error.
  if (handle.listenerCount("error") === 0) handle.on("error", () => {});
  epoll.handles.delete(handle);
  epoll.ready.delete(handle);
  return 0;
}

/** xps_loop_run: Node's event loop does the waiting (epoll_wait with timeout -1). */
export function loopRun(epoll: Epoll): void {
  logger("DEBUG", "loopRun()", "epoll wait");
  if (epoll.ready.size > 0 && !epoll.scheduled) {
    epoll.scheduled = true;
    setImmediate(() => handleEvents(epoll));
  }
}

/**
 * Something still waits in the handle's queue, or the socket has failed:
 * level-triggered epoll reports it again (a failed socket stays readable, and
 * its next recv() says why).
 */
function stillReady(handle: LoopHandle): boolean {
  return isServer(handle) ? acceptPending(handle) > 0 : socketPending(handle) > 0 || handle.destroyed;
}

/** One batch: every ready handle, looked up among the listeners, then the connections. */
function handleEvents(epoll: Epoll): void {
  epoll.scheduled = false;
  const batch = [...epoll.ready];
  epoll.ready.clear();
  logger("DEBUG", "handleEvents()", "epoll wait over");
  logger("DEBUG", "handleEvents()", `handling ${batch.length} events`);
  for (const handle of batch) {
    if (!epoll.handles.has(handle)) continue; // detached by an earlier handler of this batch
    const listener = listeners.items.find((l) => l !== null && l.server === handle);
    const connection = listener ? undefined : connections.items.find((c) => c !== null && c.socket === handle);
    try {
      if (listener) listenerConnectionHandler(listener);
      else if (connection) connectionReadHandler(connection);
    } catch (err) {
      // Code that is still a TODO (or a bug) costs that client only.
      logger("ERROR", "handleEvents()", `${describeError(err)}; closing the connection that hit it`);
      if (connection) {
        try {
          connectionDestroy(connection);
        } catch {
          // a TODO too
        }
        (handle as net.Socket).destroy();
        loopDetach(epoll, handle);
      }
    }
    if (epoll.handles.has(handle) && stillReady(handle)) epoll.ready.add(handle);
  }
  if (epoll.ready.size > 0 && !epoll.scheduled) {
    epoll.scheduled = true;
    setImmediate(() => handleEvents(epoll));
  }
  logger("DEBUG", "handleEvents()", "epoll wait");
}

/** The stats line that SIGUSR2 prints (and tests parse): one JSON object. */
export function statsLine(): string {
  let received = 0;
  let unsent = 0;
  for (const c of connections.live()) {
    received += socketPending(c.socket) + c.socket.readableLength;
    unsent += c.socket.writableLength;
  }
  return `stats ${JSON.stringify({ listeners: listeners.size, connections: connections.size, received, unsent, rss: process.memoryUsage.rss() })}`;
}

/** main(): read the options, create the loop and one listener per port, and run. */
export async function runStageServer(spec: StageServerSpec): Promise<void> {
  const options = startProcess(spec);
  process.on("SIGUSR2", () => logger("INFO", "runStageServer()", statsLine(), true));
  const hostProblem = await listenHostProblem(options.host);
  if (hostProblem !== null) {
    logger("ERROR", "runStageServer()", hostProblem);
    process.exit(1);
  }
  const epoll = loopCreate();
  const made: Listener[] = [];
  for (const port of options.ports) {
    let listener: Listener | null;
    try {
      listener = await listenerCreate(epoll, options.host, port);
    } catch (err) {
      // A TODO that is still a stub, or a bug: the server cannot start.
      logger("ERROR", "runStageServer()", `the server could not start: listenerCreate() threw: ${describeError(err)}`);
      process.exit(1);
    }
    if (listener === null) {
      // The ports it did get are given back first, so that the check below
      // names the port that is really taken.
      for (const l of made) listenerDestroy(l);
      logger("ERROR", "runStageServer()", await listenPortsProblem(options.host, options.ports));
      process.exit(1);
    }
    made.push(listener);
  }
  for (const l of made) logger("INFO", "main()", `Server listening on http://${formatHostPort({ host: l.host, port: l.port })}`, true);
  const bound = made.map((l) => (l.server.address() as net.AddressInfo | null)?.address ?? l.host);
  const exposed = exposureWarning(bound, options.ports, spec);
  if (exposed !== null) logger("WARNING", "runStageServer()", exposed);
  logger("INFO", "runStageServer()", `pid ${process.pid}: Ctrl+C stops the server, kill -USR2 ${process.pid} prints its counts`, true);
  loopRun(epoll);
}
