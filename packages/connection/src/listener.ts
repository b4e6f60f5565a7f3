// @stages 6-
// The listener (xps_listener.c): a listening socket that accepts clients.
//
// Each accepted socket becomes a connection. In stages 6 to 9 the connection
// does the rest itself (it reverses what it receives). From stage 10 on, the
// connection is handed to the listener's handler, which a stage decides:
// echo the bytes back (stage 10), proxy them to an upstream (stage 11), serve
// a file (12)... so the C course's temporary "if (port == 8001)" branches
// live in the stage's routing, not here.
// From stage 13 on, the listener only creates a connection and a session for // @since 13
// each client; the session attaches what serves the client, by the backend // @since 13
// the stage gave the listener's port (the branches move into the session). // @since 13
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
// @since 7 begin
import type { Core } from "@xps/core/core";
import { loopAttach, loopDetach } from "@xps/core/loop";
// @since end
// @until 6: import { listeners, loopAttach, loopDetach, type Epoll } from "@xps/connection/server";
import { connectionCreate, connectionDestroy, type Connection } from "@xps/connection/connection";
import { SOCKET_OPTIONS, serverOpen, socketAccept } from "@xps/connection/socket";
import { sessionCreate, type Backend } from "@xps/connection/session"; // @since 13

// @since 10 begin
// From stage 13 on no listener has one (the session decides); routes.ts keeps using the type. // @since 13
/** What a listener does with each new client. */
export type ConnectionHandler = (client: Connection, listener: Listener) => void;
// @since end

export interface Listener {
  core: Core; // @since 7
  // @until 6: epoll: Epoll;
  host: string;
  port: number;
  server: net.Server;
  // @since 10 begin
  // @until 12: handler: ConnectionHandler;
  // @since end
  /** What serves this port's clients: the backend each client's session attaches. */ // @since 13
  backend: Backend; // @since 13
}

/**
 * xps_listener_create: bind and listen on host:port and attach to the loop.
 * Resolves to null (with an ERROR line that says why) when the port cannot
 * be bound.
 */
export async function listenerCreate(
  core: Core, // @since 7
  // @until 6: epoll: Epoll,
  host: string,
  port: number,
  backend: Backend, // @since 13
  // @since 10 begin
  // @until 12: handler: ConnectionHandler,
  // @since end
): Promise<Listener | null> {
  // @solution stage-06 begin 1: Create a listener
  //> Make a net.Server with SOCKET_OPTIONS and listen on host:port with a
  //> backlog of DEFAULT_BACKLOG (await it: listening is asynchronous in
  //> Node). If that fails, log an ERROR that names host:port and why
  //> ("the port is already in use" for EADDRINUSE), close the server and
  //> return null. Otherwise give the server its accept queue (serverOpen),
  //> make the listener, attach the server to the loop with the connection
  //> handler as its read callback, add the listener to the list, and log
  //> "created listener on port N" at DEBUG level.
  const server = net.createServer(SOCKET_OPTIONS);
  const failure = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    server.once("error", resolve);
    server.listen({ host, port, backlog: DEFAULT_BACKLOG }, () => {
      server.off("error", resolve);
      resolve(null);
    });
  });
  if (failure !== null) {
    const why = failure.code === "EADDRINUSE" ? "the port is already in use" : (failure.code ?? failure.message);
    logger("ERROR", "listenerCreate()", `failed to listen on ${host}:${port}: ${why}`);
    server.close();
    return null;
  }
  serverOpen(server);
  const listener: Listener = {
    core, // @since 7
    // @until 6: epoll,
    host,
    port,
    server,
    backend, // @since 13
    // @since 10 begin
    // @until 12: handler,
    // @since end
  };
  const attached = loopAttach(core.loop, server, listener, listenerConnectionHandler, null, listenerCloseHandler); // @since 8
  // @only 7: const attached = loopAttach(core.loop, server, listener, listenerConnectionHandler);
  // @until 6: const attached = loopAttach(epoll, server);
  if (attached !== OK) {
    server.close();
    return null;
  }
  core.listeners.add(listener); // @since 7
  // @until 6: listeners.add(listener);
  logger("DEBUG", "listenerCreate()", `created listener on port ${port}`);
  return listener;
  // @solution end
}

/** xps_listener_destroy: stop accepting. Connections it accepted live on. */
export function listenerDestroy(listener: Listener): void {
  if (!listener.core.listeners.remove(listener)) return; // @since 7
  loopDetach(listener.core.loop, listener.server); // @since 7
  // @until 6: if (!listeners.remove(listener)) return;
  // @until 6: loopDetach(listener.epoll, listener.server);
  listener.server.close();
  logger("DEBUG", "listenerDestroy()", `destroyed listener on port ${listener.port}`);
}

/**
 * listener_connection_handler: the loop says the accept queue holds a
 * client. A client that cannot be set up costs that client only.
 */
export function listenerConnectionHandler(listener: Listener): void {
  for (;;) { // @since 9
    const socket = socketAccept(listener.server);
    if (socket === E_AGAIN) return;
    let client: Connection | null = null;
    try {
      // @solution stage-06 begin 2: Accept a client
      //> Wrap the accepted socket in a connection (connectionCreate). If
      //> that fails, log an ERROR ("connectionCreate() failed"), destroy
      //> the socket and stop there. Otherwise record the listener on the
      //> connection and log "new connection" at INFO level.
      client = connectionCreate(listener.core, socket); // @since 7
      // @until 6: client = connectionCreate(listener.epoll, socket);
      if (client === null) {
        logger("ERROR", "listenerConnectionHandler()", "connectionCreate() failed");
        socket.destroy();
        continue; // @since 9
        // @until 8: return;
      }
      client.listener = listener;
      // @since 13 begin
      if (sessionCreate(listener.core, client) === null) {
        logger("ERROR", "listenerConnectionHandler()", "sessionCreate() failed");
        connectionDestroy(client);
        continue;
      }
      // @since end
      // @since 10 begin
      // @until 12: listener.handler(client, listener);
      // @since end
      logger("INFO", "listenerConnectionHandler()", "new connection");
      // @solution end
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
  } // @since 9
}

// @since 8 begin
function listenerCloseHandler(listener: Listener, err?: Error): void {
  logger("ERROR", "listenerCloseHandler()", `listener on port ${listener.port} failed: ${err?.message ?? "closed"}`);
  listenerDestroy(listener);
}
// @since end
