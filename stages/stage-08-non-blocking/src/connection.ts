// stage-08: your copy of packages/connection/src/connection.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-08` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-08` restores this version.

// The connection (xps_connection.c) before pipes: one client socket, and
// what the server does with the bytes it receives. Every port reverses what
// it is sent (a final newline stays at the end) and sends it back.
//
// Stage 6: the read handler receives and sends the reply at once. Stage 7:
// the same, through the core and its loop. Stage 8: replies wait in the
// connection's write_buff_list, and the write handler sends them when the
// loop says the socket is writable. Stage 9: the loop only sets read_ready
// and write_ready; handle_connections calls the handlers that do the I/O.
// Stage 10 replaces all of this with a pipe source and a pipe sink.
import type { Socket } from "node:net";
import { DEFAULT_BUFFER_SIZE, E_AGAIN, E_EOF, logger } from "@xps/utils";
import { BufferList } from "@xps/utils";
import type { Core } from "@xps/core/core";
import { loopAttach, loopDetach } from "@xps/core/loop";
import type { Listener } from "@xps/connection/listener";
import { socketClose, socketOpen, socketRecv, socketSendSome } from "@xps/connection/socket";
import { todo } from "@xps/utils/todo";

export interface Connection {
  core: Core;
  socket: Socket;
  /** The listener that accepted it. */
  listener: Listener | null;
  /** The peer's address (get_remote_ip). */
  readonly remoteIp: string;
  destroyed: boolean;
  /** Replies not sent yet. */
  writeBuffList: BufferList;
}

/**
 * Reverse a message the way the C course's strrev does it, byte by byte,
 * except that a final newline (what netcat sends) stays at the end:
 * "hello\n" becomes "olleh\n", "abc" becomes "cba", "\n" stays "\n". Bytes,
 * not characters: a multi-byte UTF-8 letter comes back with its bytes
 * reversed too, as in C.
 */
export function reverseMessage(bytes: Buffer): Buffer {
  // Return a new Buffer with the bytes in reverse order, except that when
  // the last byte is a newline (0x0a) it stays last: reverse everything
  // before it. An empty message stays empty.
  const body = bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? bytes.length - 1 : bytes.length;
  const out = Buffer.allocUnsafe(bytes.length);
  for (let i = 0; i < body; i++) out[i] = bytes[body - 1 - i]!;
  if (body < bytes.length) out[body] = 0x0a;
  return out;
}

/** A short, printable preview of a message for the log. */
function preview(bytes: Buffer): string {
  const text = bytes.subarray(0, 60).toString("latin1").replace(/[^\x20-\x7e]/g, ".");
  return bytes.length > 60 ? `${text}... (${bytes.length} bytes)` : text;
}

/**
 * xps_connection_create: wrap an accepted socket in a connection, attach it
 * to the loop and register it. Null (and an ERROR line) when it cannot be
 * attached.
 */
export function connectionCreate(core: Core, socket: Socket): Connection | null {
  // Give the socket its receive queue first (socketOpen), so no byte it
  // receives is lost. Make the connection record, attach the socket to the
  // loop with the read handler, register the connection, and log "created
  // connection" at DEBUG level.
  socketOpen(socket);
  const connection: Connection = {
    core,
    socket,
    listener: null,
    get remoteIp() {
      return socket.remoteAddress ?? "";
    },
    destroyed: false,
    writeBuffList: new BufferList(),
  };
  const attached = loopAttach(
    core.loop,
    socket,
    connection,
    connectionLoopReadHandler,
    connectionLoopWriteHandler,
    connectionLoopCloseHandler,
  );
  if (attached !== 0) {
    logger("ERROR", "connectionCreate()", "the socket is already attached to the loop");
    return null;
  }
  core.connections.add(connection);
  logger("DEBUG", "connectionCreate()", "created connection");
  return connection;
}

/**
 * xps_connection_destroy: leave the list, detach from the loop, close the
 * socket (what was already sent still reaches the peer). Destroying twice
 * does nothing the second time. The listener is not destroyed: other
 * connections still use it.
 */
export function connectionDestroy(connection: Connection): void {
  // Mark it destroyed (and do nothing if it already was), take it out of
  // the list, detach its socket from the loop, close the socket, and log
  // "destroyed connection" at DEBUG level.
  if (connection.destroyed) return;
  connection.destroyed = true;
  connection.core.connections.remove(connection);
  loopDetach(connection.core.loop, connection.socket);
  connection.writeBuffList.clear(connection.writeBuffList.len);
  socketClose(connection.socket);
  logger("DEBUG", "connectionDestroy()", "destroyed connection");
}

/** The peer has finished (recv() gave 0) or failed: say so, and destroy. */
function connectionClose(connection: Connection, why: "peer closed connection"): void {
  logger("INFO", "connectionClose()", why);
  connectionDestroy(connection);
}

/**
 * connection_read_handler (stage 8): receive what is there and queue its
 * reverse in write_buff_list; the write handler sends it.
 */
export function connectionReadHandler(connection: Connection): void {
  // TODO(stage-08 #1): The read handler: queue the reply
  // As in stage 7 (socketRecv, E_AGAIN, E_EOF, the log line), but instead
  // of sending the reversed message, append it to the connection's
  // writeBuffList. (A failed socket now goes to the close handler, so
  // socketRecv returns a Buffer, E_AGAIN or E_EOF.)
  throw todo("stage-08", 1, "The read handler: queue the reply");
}

/**
 * connection_write_handler (stage 8): the loop says the socket can be
 * written; send what write_buff_list holds, as much as the socket takes.
 */
export function connectionWriteHandler(connection: Connection): void {
  // TODO(stage-08 #2): The write handler
  // Nothing queued: return. Otherwise hand the first queued chunk to
  // socketSendSome, which takes only what the socket can take now: it
  // returns how many bytes it took (clear that many from writeBuffList),
  // or E_AGAIN when the socket takes nothing for now.
  throw todo("stage-08", 2, "The write handler");
}

// ------------------------------------------------------- loop callbacks

/** The loop says the socket has something to read. */
function connectionLoopReadHandler(connection: Connection): void {
  connectionReadHandler(connection);
}

/** The loop says the socket can be written. */
function connectionLoopWriteHandler(connection: Connection): void {
  connectionWriteHandler(connection);
}

/** EPOLLERR / EPOLLHUP: the socket failed or closed. */
function connectionLoopCloseHandler(connection: Connection): void {
  // TODO(stage-08 #3): The close handler
  // The socket is broken or gone: destroy the connection ("peer closed
  // connection").
  throw todo("stage-08", 3, "The close handler");
}
