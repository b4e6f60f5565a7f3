// stage-10: your copy of packages/connection/src/connection.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-10` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-10` restores this version.

// The connection (xps_connection.c): one TCP socket, a client's or an
// upstream's, exposed to the rest of the server as a pipe source (the bytes
// it receives) and a pipe sink (the bytes it should send).
//
// The loop tells the connection about readiness (source.ready / sink.ready);
// the pipe pass calls the source handler to read into the source's pipe and
// the sink handler to write from the sink's pipe.
//
// Close rules (the C course's stages 10 and 11, with end-of-stream made explicit):
// - the peer finished sending (recv() gave 0): the source is done; it leaves
//   its pipe, so the other end drains what is left and is then told to close;
//   if the sink is not active either, the connection closes;
// - a sink whose pipe lost its source and is drained will never send another
//   byte: if the source still takes part in a flow, the connection
//   half-closes (a FIN; the peer may still send, as a client that half-closed
//   its request waits for the response through a proxy); otherwise it closes;
// - a source whose pipe lost its sink has nobody to read for: it leaves its
//   pipe, and the connection closes once the sink is not active either;
// - a socket error or a close the peer forced (reset) closes it at once, and
//   marks its flows cut: the other ends then close with a reset too;
// - closing is a lingering close (socketClose): FIN after what was sent, and
//   what the peer still sends is read and thrown away, for a bounded time,
//   so that its kernel does not answer our last bytes with a reset.
// So a client that half-closes still gets all of its echo, a half-close
// passes through a proxy, and a proxied pair closes once both sides are done.
import type { Socket } from "node:net";
import {
  DEFAULT_BUFFER_SIZE,
  E_AGAIN,
  E_EOF,
  OK,
  formatHostPort,
  isNameError,
  logger,
} from "@xps/utils";
import type { Core } from "@xps/core/core";
import { loopAttach, loopDetach } from "@xps/core/loop";
import {
  pipeDetachSink,
  pipeDetachSource,
  pipeIsReadable,
  pipeRoom,
  pipeSinkClear,
  pipeSinkCreate,
  pipeSinkDestroy,
  pipeSinkRead,
  pipeSourceCreate,
  pipeSourceDestroy,
  pipeSourceWrite,
  type PipeSink,
  type PipeSource,
} from "@xps/core/pipe";
import type { Listener } from "@xps/connection/listener";
import { socketClose, socketOpen, socketPending, socketRecv, socketSend, socketShutdown } from "@xps/connection/socket";
import { todo } from "@xps/utils/todo";

export interface Connection {
  core: Core;
  socket: Socket;
  /** The listener that accepted it; null for an upstream connection. */
  listener: Listener | null;
  /** The peer's address (asked of the kernel when first read: getpeername costs a system call). */
  readonly remoteIp: string;
  source: PipeSource<Connection>;
  sink: PipeSink<Connection>;
  destroyed: boolean;
}

/**
 * The connection record. A class, so that every connection has the same
 * shape and shares one remoteIp getter (an object literal with a getter
 * would make a new function for each connection).
 */
class ConnectionObject implements Connection {
  core: Core;
  socket: Socket;
  listener: Listener | null = null;
  source!: PipeSource<Connection>;
  sink!: PipeSink<Connection>;
  destroyed = false;
  constructor(core: Core, socket: Socket) {
    this.core = core;
    this.socket = socket;
  }
  get remoteIp(): string {
    return this.socket.remoteAddress ?? "";
  }
}

/**
 * xps_connection_create: wrap a socket (accepted, or still connecting) in a
 * connection, attach it to the loop, and register it with the core.
 */
export function connectionCreate(core: Core, socket: Socket): Connection | null {
  const connection = new ConnectionObject(core, socket);
  connection.source = pipeSourceCreate(connection, connectionSourceHandler, connectionSourceCloseHandler);
  connection.sink = pipeSinkCreate(connection, connectionSinkHandler, connectionSinkCloseHandler);
  // The receive queue keeps every byte from here on; bytes already queued are
  // ready at once (epoll reports them on the first wait in C).
  socketOpen(socket);
  connection.source.ready = socketPending(socket) > 0;
  // A connected socket can be written at once; a connecting one on 'connect'.
  connection.sink.ready = !socket.connecting;
  const attached = loopAttach(
    core.loop,
    socket,
    connection,
    connectionLoopReadHandler,
    connectionLoopWriteHandler,
    connectionLoopCloseHandler,
  );
  if (attached !== OK) {
    logger("ERROR", "connectionCreate()", "the socket is already attached to the loop");
    pipeSourceDestroy(connection.source);
    pipeSinkDestroy(connection.sink);
    return null;
  }
  core.connections.add(connection);
  logger("DEBUG", "connectionCreate()", "created connection");
  return connection;
}

/**
 * xps_connection_destroy: detach from the loop, destroy the source and sink
 * (which leave their pipes; the pipe rules then tell the other ends), and
 * close the socket. Destroying twice does nothing the second time.
 */
export function connectionDestroy(connection: Connection, abort = false): void {
  if (connection.destroyed) return;
  connection.destroyed = true;
  connection.core.connections.remove(connection);
  loopDetach(connection.core.loop, connection.socket);
  try {
    pipeSourceDestroy(connection.source);
    pipeSinkDestroy(connection.sink);
  } finally {
    // The ends are pipe code (a learner's TODO in stage 10): if destroying
    // them throws, the socket must still go, or its client hangs.
    socketClose(connection.socket, abort);
  }
  logger("DEBUG", "connectionDestroy()", "destroyed connection");
}

/**
 * connection_close: log why, then destroy. `reason` (an error code, or what
 * failed) is shown in brackets; `cause`, a sentence saying what happened, after
 * a colon:
 *   peer closed connection (ECONNRESET)
 *   closing connection: upstream 127.0.0.1:3000 refused the connection (ECONNREFUSED)
 */
export function connectionClose(connection: Connection, peerClosed: boolean, reason?: string, cause?: string): void {
  if (connection.destroyed) return;
  // A flow of this connection was cut by a reset (the loop marks its ends):
  // pass the reset on, so that this peer can tell a cut stream from a whole one.
  const abort = connection.source.aborted === true || connection.sink.aborted === true;
  // A peer that finished sending first closed it, even when we close last.
  const what = peerClosed || connection.socket.readableEnded ? "peer closed connection" : "closing connection";
  const told = cause ? `${what}: ${cause}` : abort ? `${what} with a reset: its other side was reset` : what;
  logger("INFO", "connectionClose()", reason ? `${told} (${reason})` : told);
  connectionDestroy(connection, abort);
}

/**
 * The peer reset the connection: the flows through its pipes are cut, not
 * finished. A connection at the other end of one of them is reset too, at
 * once (what it still holds for its peer is part of a cut stream: a reset
 * says so, a FIN would make it look complete). Any other owner (a session)
 * finds the pipe marked, and its ends are marked when the loop tells them.
 */
function abortFlows(connection: Connection): void {
  const partners = new Set<Connection>();
  for (const end of [connection.source, connection.sink] as AnyEnd[]) {
    const pipe = end.pipe;
    if (pipe === null) continue;
    pipe.aborted = true;
    const other: AnyEnd | null = pipe.source === end ? pipe.sink : pipe.source;
    if (other !== null && other.ptr instanceof ConnectionObject && other.ptr !== connection) {
      other.aborted = true;
      partners.add(other.ptr);
    }
  }
  for (const p of partners) connectionClose(p, false);
}

type AnyEnd = PipeSource<unknown> | PipeSink<unknown>;

/** Error codes that mean the peer reset the connection (rather than a connect that failed). */
const RESET_CODES = new Set(["ECONNRESET", "EPIPE", "ETIMEDOUT", "ECONNABORTED"]);

// ------------------------------------------------------- loop callbacks

function connectionLoopReadHandler(connection: Connection): void {
  connection.source.ready = true;
}

function connectionLoopWriteHandler(connection: Connection): void {
  connection.sink.ready = true;
}

/**
 * EPOLLERR/EPOLLHUP: the socket failed ('error', with a code such as
 * ECONNRESET) or closed ('close'). The loop also calls this when one of this
 * connection's handlers threw; that is our failure, not the peer's. A connect
 * that never succeeded (an upstream that refused, a name that did not
 * resolve) had no peer to close it, so it is told apart.
 */
function connectionLoopCloseHandler(connection: Connection, err?: unknown): void {
  if (err instanceof Error) {
    const e = err as NodeJS.ErrnoException;
    if (typeof e.code === "string") {
      const failed = connectFailure(connection, e);
      if (failed !== null) connectionClose(connection, false, e.code, failed);
      else {
        if (RESET_CODES.has(e.code)) abortFlows(connection);
        connectionClose(connection, true, e.code);
      }
    } else {
      connectionClose(connection, false, `a handler failed: ${err.message}`);
    }
    return;
  }
  // A clean close: the peer has finished and so have we (Node closes a
  // socket once both directions have ended). What the peer sent last may
  // still be in the receive queue: the source takes it, then sees E_EOF and
  // ends, and the close rules close the connection. Closing now would throw
  // that away (through the proxy, the end of a response to a client that
  // half-closed).
  if (socketPending(connection.socket) > 0 && connection.source.active) {
    connection.source.ready = true;
    return;
  }
  connectionClose(connection, true);
}

/**
 * What went wrong, when `err` is the failure of this socket's own connect
 * (Node's connect and getaddrinfo errors say so in `syscall`), or null when
 * the socket was connected. A reset (ECONNRESET) means the handshake had
 * completed: the peer accepted, then closed it, even when Node reports it as
 * the connect's error.
 */
function connectFailure(connection: Connection, err: NodeJS.ErrnoException & { address?: string; port?: number; hostname?: string }): string | null {
  const whose = connection.listener === null ? "upstream" : "peer";
  if (err.syscall === "getaddrinfo" || isNameError(err.code)) {
    return `the ${whose} host name${err.hostname ? ` "${err.hostname}"` : ""} could not be resolved`;
  }
  if (err.syscall !== "connect" || err.code === "ECONNRESET") return null;
  const at = err.address === undefined ? whose : `${whose} ${formatHostPort({ host: err.address, port: err.port ?? 0 })}`;
  switch (err.code) {
    case "ECONNREFUSED":
      return `${at} refused the connection`;
    case "ETIMEDOUT":
      return `the connect to ${at} timed out`;
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `${at} cannot be reached`;
    default:
      return `the connect to ${at} failed`;
  }
}

// ------------------------------------------------------- pipe handlers

/** The source is ready and its pipe has room: read from the socket into the pipe. */
function connectionSourceHandler(source: PipeSource<Connection>): void {
  // TODO(stage-10 #8): The source handler: socket -> pipe
  // Read at most min(DEFAULT_BUFFER_SIZE, room left in the pipe) bytes with
  // socketRecv. E_AGAIN: nothing is there, so the source is no longer ready.
  // E_EOF: the peer has finished sending; the source is done (not ready, not
  // active, detached from its pipe) and, if the sink is not active either,
  // the connection closes (peer closed). Otherwise write the bytes into the
  // pipe; if that fails, log an ERROR and close the connection.
  throw todo("stage-10", 8, "The source handler: socket -> pipe");
}

/** The sink is ready and its pipe holds bytes: write them to the socket. */
function connectionSinkHandler(sink: PipeSink<Connection>): void {
  // TODO(stage-10 #9): The sink handler: pipe -> socket
  // Write the pipe's chunks to the socket one after another (pipeSinkRead
  // without a length gives the next chunk uncopied) and clear each one from
  // the pipe once the socket took it. Stop when the pipe is empty or when
  // socketSend returns false: the socket's queue is full, so the sink is no
  // longer ready until 'drain'. When the pipe holds more than one chunk,
  // cork the socket around the writes so Node hands them to the kernel in
  // one writev (one chunk goes out as it is: corking it would cost more).
  throw todo("stage-10", 9, "The sink handler: pipe -> socket");
}

/** The source's pipe lost its sink: nobody will take what this socket receives. */
function connectionSourceCloseHandler(source: PipeSource<Connection>): void {
  // TODO(stage-10 #10): The close handlers
  // The loop has already cleared `active`. A source whose pipe lost its sink
  // leaves that pipe, and the connection closes once the sink is not active
  // either. A sink whose pipe lost its source (and is drained) will never
  // send another byte: it leaves its pipe and stops being ready; if the
  // source is still active (the peer still sends, and its pipe takes it),
  // the connection only half-closes (socketShutdown: a FIN), otherwise it
  // closes.
  throw todo("stage-10", 10, "The close handlers");
}

/** The sink's pipe lost its source and is drained: nothing more will be sent. */
function connectionSinkCloseHandler(sink: PipeSink<Connection>): void {
  // TODO(stage-10 #10): The close handlers
  throw todo("stage-10", 10, "The close handlers");
}
