// @stages 6-9
// @view-as packages/connection/src/connection.ts
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
import { BufferList } from "@xps/utils"; // @since 8
// @since 7 begin
import type { Core } from "@xps/core/core";
import { loopAttach, loopDetach } from "@xps/core/loop";
// @since end
// @until 6: import { connections, loopAttach, loopDetach, type Epoll } from "@xps/connection/server";
import type { Listener } from "@xps/connection/listener";
import { socketClose, socketOpen, socketRecv, socketSend } from "@xps/connection/socket"; // @until 7
import { socketClose, socketOpen, socketRecv, socketSendSome } from "@xps/connection/socket"; // @since 8

export interface Connection {
  core: Core; // @since 7
  // @until 6: epoll: Epoll;
  socket: Socket;
  /** The listener that accepted it. */
  listener: Listener | null;
  /** The peer's address (get_remote_ip). */
  readonly remoteIp: string;
  destroyed: boolean;
  // @since 8 begin
  /** Replies not sent yet. */
  writeBuffList: BufferList;
  // @since end
  // @since 9 begin
  /** A recv() would find something: set by the loop, cleared on E_AGAIN. */
  readReady: boolean;
  /** A send() would be taken: set by the loop, cleared on E_AGAIN. */
  writeReady: boolean;
  /** connection_read_handler, which handle_connections calls. */
  recvHandler: (connection: Connection) => void;
  /** connection_write_handler, which handle_connections calls. */
  sendHandler: (connection: Connection) => void;
  // @since end
}

/**
 * Reverse a message the way the C course's strrev does it, byte by byte,
 * except that a final newline (what netcat sends) stays at the end:
 * "hello\n" becomes "olleh\n", "abc" becomes "cba", "\n" stays "\n". Bytes,
 * not characters: a multi-byte UTF-8 letter comes back with its bytes
 * reversed too, as in C.
 */
export function reverseMessage(bytes: Buffer): Buffer {
  // @solution stage-06 begin 3: Reverse a message
  //> Return a new Buffer with the bytes in reverse order, except that when
  //> the last byte is a newline (0x0a) it stays last: reverse everything
  //> before it. An empty message stays empty.
  const body = bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? bytes.length - 1 : bytes.length;
  const out = Buffer.allocUnsafe(bytes.length);
  for (let i = 0; i < body; i++) out[i] = bytes[body - 1 - i]!;
  if (body < bytes.length) out[body] = 0x0a;
  return out;
  // @solution end
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
export function connectionCreate(core: Core, socket: Socket): Connection | null { // @since 7
// @until 6: export function connectionCreate(epoll: Epoll, socket: Socket): Connection | null {
  // @solution stage-06 begin 4: Create a connection
  //> Give the socket its receive queue first (socketOpen), so no byte it
  //> receives is lost. Make the connection record, attach the socket to the
  //> loop with the read handler, register the connection, and log "created
  //> connection" at DEBUG level.
  socketOpen(socket);
  const connection: Connection = {
    core, // @since 7
    // @until 6: epoll,
    socket,
    listener: null,
    get remoteIp() {
      return socket.remoteAddress ?? "";
    },
    destroyed: false,
    writeBuffList: new BufferList(), // @since 8
    // @since 9 begin
    readReady: false,
    writeReady: true,
    recvHandler: connectionReadHandler,
    sendHandler: connectionWriteHandler,
    // @since end
  };
  // @only 7: const attached = loopAttach(core.loop, socket, connection, connectionLoopReadHandler);
  // @until 6: const attached = loopAttach(epoll, socket);
  // @since 8 begin
  const attached = loopAttach(
    core.loop,
    socket,
    connection,
    connectionLoopReadHandler,
    connectionLoopWriteHandler,
    connectionLoopCloseHandler,
  );
  // @since end
  if (attached !== 0) {
    logger("ERROR", "connectionCreate()", "the socket is already attached to the loop");
    return null;
  }
  core.connections.add(connection); // @since 7
  // @until 6: connections.add(connection);
  logger("DEBUG", "connectionCreate()", "created connection");
  return connection;
  // @solution end
}

/**
 * xps_connection_destroy: leave the list, detach from the loop, close the
 * socket (what was already sent still reaches the peer). Destroying twice
 * does nothing the second time. The listener is not destroyed: other
 * connections still use it.
 */
export function connectionDestroy(connection: Connection): void {
  // @solution stage-06 begin 5: Destroy a connection
  //> Mark it destroyed (and do nothing if it already was), take it out of
  //> the list, detach its socket from the loop, close the socket, and log
  //> "destroyed connection" at DEBUG level.
  if (connection.destroyed) return;
  connection.destroyed = true;
  connection.core.connections.remove(connection); // @since 7
  loopDetach(connection.core.loop, connection.socket); // @since 7
  // @until 6: connections.remove(connection);
  // @until 6: loopDetach(connection.epoll, connection.socket);
  connection.writeBuffList.clear(connection.writeBuffList.len); // @since 8
  socketClose(connection.socket);
  logger("DEBUG", "connectionDestroy()", "destroyed connection");
  // @solution end
}

/** The peer has finished (recv() gave 0) or failed: say so, and destroy. */
function connectionClose(connection: Connection, why: "peer closed connection" | "recv() failed"): void { // @until 7
  logger(why === "recv() failed" ? "ERROR" : "INFO", "connectionClose()", why); // @until 7
function connectionClose(connection: Connection, why: "peer closed connection"): void { // @since 8
  logger("INFO", "connectionClose()", why); // @since 8
  connectionDestroy(connection);
}

// @until 7 begin
/**
 * connection_read_handler (stages 6 and 7): receive what is there, reverse
 * it and send it back at once.
 */
export function connectionReadHandler(connection: Connection): void {
  // @solution stage-06 begin 6: The read handler: reverse and send
  //> Take at most DEFAULT_BUFFER_SIZE bytes with socketRecv. E_AGAIN:
  //> nothing is there (yet); return. E_EOF: the peer has finished; close
  //> the connection ("peer closed connection"). Any other number is a
  //> failed recv() (E_FAIL); close it ("recv() failed"). Otherwise log the
  //> message at INFO level ("[CLIENT MESSAGE] ..."), reverse it, and send
  //> the reply with socketSend.
  const got = socketRecv(connection.socket, DEFAULT_BUFFER_SIZE);
  if (got === E_AGAIN) return;
  if (got === E_EOF) {
    connectionClose(connection, "peer closed connection");
    return;
  }
  if (typeof got === "number") {
    connectionClose(connection, "recv() failed");
    return;
  }
  logger("INFO", "connectionReadHandler()", `[CLIENT MESSAGE] ${preview(got)}`);
  socketSend(connection.socket, reverseMessage(got));
  // @solution end
}
// @until end

// @only 8 begin
/**
 * connection_read_handler (stage 8): receive what is there and queue its
 * reverse in write_buff_list; the write handler sends it.
 */
export function connectionReadHandler(connection: Connection): void {
  // @solution stage-08 begin 1: The read handler: queue the reply
  //> As in stage 7 (socketRecv, E_AGAIN, E_EOF, the log line), but instead
  //> of sending the reversed message, append it to the connection's
  //> writeBuffList. (A failed socket now goes to the close handler, so
  //> socketRecv returns a Buffer, E_AGAIN or E_EOF.)
  const got = socketRecv(connection.socket, DEFAULT_BUFFER_SIZE);
  if (got === E_AGAIN) return;
  if (got === E_EOF) {
    connectionClose(connection, "peer closed connection");
    return;
  }
  logger("INFO", "connectionReadHandler()", `[CLIENT MESSAGE] ${preview(got)}`);
  connection.writeBuffList.append(reverseMessage(got));
  // @solution end
}

/**
 * connection_write_handler (stage 8): the loop says the socket can be
 * written; send what write_buff_list holds, as much as the socket takes.
 */
export function connectionWriteHandler(connection: Connection): void {
  // @solution stage-08 begin 2: The write handler
  //> Nothing queued: return. Otherwise hand the first queued chunk to
  //> socketSendSome, which takes only what the socket can take now: it
  //> returns how many bytes it took (clear that many from writeBuffList),
  //> or E_AGAIN when the socket takes nothing for now.
  const list = connection.writeBuffList;
  const chunk = list.first();
  if (chunk === null) return;
  const sent = socketSendSome(connection.socket, chunk);
  if (sent === E_AGAIN) return;
  list.clear(sent);
  // @solution end
}
// @only end

// @only 9 begin
/**
 * connection_read_handler (stage 9): one recv(), called by handle_connections
 * while read_ready is set. Edge-triggered epoll says "readable" only once,
 * so read_ready stays set until the socket says "nothing more" (E_AGAIN).
 */
export function connectionReadHandler(connection: Connection): void {
  // @solution stage-09 begin 1: The read handler: clear read_ready on E_AGAIN
  //> As in stage 8, and when socketRecv returns E_AGAIN, clear readReady:
  //> only then may the loop stop calling this handler. Clear it nowhere
  //> else.
  const got = socketRecv(connection.socket, DEFAULT_BUFFER_SIZE);
  if (got === E_AGAIN) {
    connection.readReady = false;
    return;
  }
  if (got === E_EOF) {
    connectionClose(connection, "peer closed connection");
    return;
  }
  logger("INFO", "connectionReadHandler()", `[CLIENT MESSAGE] ${preview(got)}`);
  connection.writeBuffList.append(reverseMessage(got));
  // @solution end
}

/**
 * connection_write_handler (stage 9): one send(), called by
 * handle_connections while write_ready is set and something is queued.
 */
export function connectionWriteHandler(connection: Connection): void {
  // @solution stage-09 begin 2: The write handler: clear write_ready on E_AGAIN
  //> As in stage 8, and when socketSendSome returns E_AGAIN, clear
  //> writeReady (the loop sets it again on the socket's next 'drain').
  const list = connection.writeBuffList;
  const chunk = list.first();
  if (chunk === null) return;
  const sent = socketSendSome(connection.socket, chunk);
  if (sent === E_AGAIN) {
    connection.writeReady = false;
    return;
  }
  list.clear(sent);
  // @solution end
}
// @only end

// @since 7 begin
// ------------------------------------------------------- loop callbacks

/** The loop says the socket has something to read. */
function connectionLoopReadHandler(connection: Connection): void {
  // @until 8: connectionReadHandler(connection);
  // @only 9 begin
  // @solution stage-09 begin 3: The loop callbacks only set the flags
  //> With edge-triggered readiness the loop's callbacks do no I/O: the read
  //> callback sets readReady, the write callback sets writeReady, and
  //> handle_connections calls the handlers.
  connection.readReady = true;
  // @solution end
  // @only end
}
// @since end

// @since 8 begin
/** The loop says the socket can be written. */
function connectionLoopWriteHandler(connection: Connection): void {
  // @only 8: connectionWriteHandler(connection);
  // @only 9 begin
  // @solution stage-09 begin 3: The loop callbacks only set the flags
  connection.writeReady = true;
  // @solution end
  // @only end
}

/** EPOLLERR / EPOLLHUP: the socket failed or closed. */
function connectionLoopCloseHandler(connection: Connection): void {
  // @solution stage-08 begin 3: The close handler
  //> The socket is broken or gone: destroy the connection ("peer closed
  //> connection").
  connectionClose(connection, "peer closed connection");
  // @solution end
}
// @since end
