// stage-09: your copy of packages/core/src/early/handle-connections.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-09` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-09` restores this version.

// handle_connections (xps_loop.c, stage 9): the loop's pass in stage 9.
//
// With edge-triggered epoll the loop hears once that a socket became
// readable or writable, and then not again until something changes. So the
// loop callbacks only set each connection's read_ready and write_ready
// flags, and this pass does the I/O: it keeps calling a connection's
// handlers while its flags say there is something to do, and the handlers
// clear a flag only when the socket says "nothing more now" (EAGAIN). The
// loop runs the pass again at once (epoll_wait with timeout 0) while it
// returns true, and blocks (timeout -1) when it returns false. Stage 10
// replaces it with handle_pipes.
import type { BufferList } from "@xps/utils";
import { loopCall, type Loop } from "@xps/core/loop";
import { todo } from "@xps/utils/todo";

/** What handle_connections needs of a connection (the stage 9 fields of xps_connection_t). */
export interface FlaggedConnection {
  /** A read would find bytes (or the end of the stream): set by the loop, cleared on E_AGAIN. */
  readReady: boolean;
  /** A send would be taken: set by the loop, cleared when the socket takes nothing more. */
  writeReady: boolean;
  /** Replies waiting to be sent. */
  writeBuffList: BufferList;
  /** connection_read_handler: one recv(). */
  recvHandler: (connection: FlaggedConnection) => void;
  /** connection_write_handler: one send(). */
  sendHandler: (connection: FlaggedConnection) => void;
}

/**
 * One pass over the core's connections. Returns true when, after every
 * handler has run, some connection can still make progress.
 */
export function handleConnections(loop: Loop): boolean {
  const items = loop.core.connections.items as (FlaggedConnection | null)[];
  // TODO(stage-09 #4): The loop's pass: handle_connections
  // First pass, over every live connection: if it is read-ready, call its
  // recvHandler; then, if it is still in the list (the handler may have
  // destroyed it) and is write-ready with bytes queued, call its
  // sendHandler. Call the handlers through loopCall(loop, connection,
  // handler), so a handler that throws closes only its own connection.
  // Second pass, after every handler ran (one connection's handler can
  // change another's flags): return true as soon as a connection is
  // read-ready, or write-ready with bytes queued; otherwise false.
  throw todo("stage-09", 4, "The loop's pass: handle_connections");
}
