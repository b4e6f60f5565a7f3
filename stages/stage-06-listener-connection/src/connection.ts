// stage-06: your copy of packages/connection/src/connection.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-06` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-06` restores this version.

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
import { connections, loopAttach, loopDetach, type Epoll } from "@xps/connection/server";
import type { Listener } from "@xps/connection/listener";
import { socketClose, socketOpen, socketRecv, socketSend } from "@xps/connection/socket";
import { todo } from "@xps/utils/todo";

export interface Connection {
  epoll: Epoll;
  socket: Socket;
  /** The listener that accepted it. */
  listener: Listener | null;
  /** The peer's address (get_remote_ip). */
  readonly remoteIp: string;
  destroyed: boolean;
}

/**
 * Reverse a message the way the C course's strrev does it, byte by byte,
 * except that a final newline (what netcat sends) stays at the end:
 * "hello\n" becomes "olleh\n", "abc" becomes "cba", "\n" stays "\n". Bytes,
 * not characters: a multi-byte UTF-8 letter comes back with its bytes
 * reversed too, as in C.
 */
export function reverseMessage(bytes: Buffer): Buffer {
  // TODO(stage-06 #3): Reverse a message
  // Return a new Buffer with the bytes in reverse order, except that when
  // the last byte is a newline (0x0a) it stays last: reverse everything
  // before it. An empty message stays empty.
  throw todo("stage-06", 3, "Reverse a message");
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
export function connectionCreate(epoll: Epoll, socket: Socket): Connection | null {
  // TODO(stage-06 #4): Create a connection
  // Give the socket its receive queue first (socketOpen), so no byte it
  // receives is lost. Make the connection record, attach the socket to the
  // loop with the read handler, register the connection, and log "created
  // connection" at DEBUG level.
  throw todo("stage-06", 4, "Create a connection");
}

/**
 * xps_connection_destroy: leave the list, detach from the loop, close the
 * socket (what was already sent still reaches the peer). Destroying twice
 * does nothing the second time. The listener is not destroyed: other
 * connections still use it.
 */
export function connectionDestroy(connection: Connection): void {
  // TODO(stage-06 #5): Destroy a connection
  // Mark it destroyed (and do nothing if it already was), take it out of
  // the list, detach its socket from the loop, close the socket, and log
  // "destroyed connection" at DEBUG level.
  throw todo("stage-06", 5, "Destroy a connection");
}

/** The peer has finished (recv() gave 0) or failed: say so, and destroy. */
function connectionClose(connection: Connection, why: "peer closed connection" | "recv() failed"): void {
  logger(why === "recv() failed" ? "ERROR" : "INFO", "connectionClose()", why);
  connectionDestroy(connection);
}

/**
 * connection_read_handler (stages 6 and 7): receive what is there, reverse
 * it and send it back at once.
 */
export function connectionReadHandler(connection: Connection): void {
  // TODO(stage-06 #6): The read handler: reverse and send
  // Take at most DEFAULT_BUFFER_SIZE bytes with socketRecv. E_AGAIN:
  // nothing is there (yet); return. E_EOF: the peer has finished; close
  // the connection ("peer closed connection"). Any other number is a
  // failed recv() (E_FAIL); close it ("recv() failed"). Otherwise log the
  // message at INFO level ("[CLIENT MESSAGE] ..."), reverse it, and send
  // the reply with socketSend.
  throw todo("stage-06", 6, "The read handler: reverse and send");
}

