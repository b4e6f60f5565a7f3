// stage-06: your copy of packages/connection/src/listener.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-06` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-06` restores this version.

// The listener (xps_listener.c): a listening socket that accepts clients.
//
// Each accepted socket becomes a connection. In stages 6 to 9 the connection
// does the rest itself (it reverses what it receives). From stage 10 on, the
// connection is handed to the listener's handler, which a stage decides:
// echo the bytes back (stage 10), proxy them to an upstream (stage 11), serve
// a file (12)... so the C course's temporary "if (port == 8001)" branches
// live in the stage's routing, not here.
//
// Node accepts for us: libuv takes every client off the kernel's accept
// queue at once and emits one 'connection' event each. The server's accept
// queue (serverOpen in socket.ts) keeps those sockets until socketAccept
// takes them, as the kernel keeps them until accept() in C. Stage 9 drains
// that queue in a loop, as the C course does for edge-triggered epoll; here
// every client comes with its own event, so accepting one per event (stages
// 6 to 8) misses none either.
import net from "node:net";
import { DEFAULT_BACKLOG, E_AGAIN, OK, describeError, logger } from "@xps/utils";
import { listeners, loopAttach, loopDetach, type Epoll } from "@xps/connection/server";
import { connectionCreate, connectionDestroy, type Connection } from "@xps/connection/connection";
import { SOCKET_OPTIONS, serverOpen, socketAccept } from "@xps/connection/socket";
import { todo } from "@xps/utils/todo";

export interface Listener {
  epoll: Epoll;
  host: string;
  port: number;
  server: net.Server;
}

/**
 * xps_listener_create: bind and listen on host:port and attach to the loop.
 * Resolves to null (with an ERROR line that says why) when the port cannot
 * be bound.
 */
export async function listenerCreate(
  epoll: Epoll,
  host: string,
  port: number,
): Promise<Listener | null> {
  // TODO(stage-06 #1): Create a listener
  // Make a net.Server with SOCKET_OPTIONS and listen on host:port with a
  // backlog of DEFAULT_BACKLOG (await it: listening is asynchronous in
  // Node). If that fails, log an ERROR that names host:port and why
  // ("the port is already in use" for EADDRINUSE), close the server and
  // return null. Otherwise give the server its accept queue (serverOpen),
  // make the listener, attach the server to the loop with the connection
  // handler as its read callback, add the listener to the list, and log
  // "created listener on port N" at DEBUG level.
  throw todo("stage-06", 1, "Create a listener");
}

/** xps_listener_destroy: stop accepting. Connections it accepted live on. */
export function listenerDestroy(listener: Listener): void {
  if (!listeners.remove(listener)) return;
  loopDetach(listener.epoll, listener.server);
  listener.server.close();
  logger("DEBUG", "listenerDestroy()", `destroyed listener on port ${listener.port}`);
}

/**
 * listener_connection_handler: the loop says the accept queue holds a
 * client. A client that cannot be set up costs that client only.
 */
export function listenerConnectionHandler(listener: Listener): void {
    const socket = socketAccept(listener.server);
    if (socket === E_AGAIN) return;
    let client: Connection | null = null;
    try {
      // TODO(stage-06 #2): Accept a client
      // Wrap the accepted socket in a connection (connectionCreate). If
      // that fails, log an ERROR ("connectionCreate() failed"), destroy
      // the socket and stop there. Otherwise record the listener on the
      // connection and log "new connection" at INFO level.
      throw todo("stage-06", 2, "Accept a client");
    } catch (err) {
      // A failing handler (a learner's TODO, a bug) costs this client only.
      logger("ERROR", "listenerConnectionHandler()", `${describeError(err)}; closing this client`);
      try {
        if (client !== null) connectionDestroy(client);
      } catch (err2) {
        // Destroying can fail too (more TODOs); the socket still goes.
        logger("ERROR", "listenerConnectionHandler()", `connectionDestroy() failed as well: ${describeError(err2)}`);
      }
      socket.destroy();
    }
}

