// The listener (xps_listener.c): a listening socket that accepts clients.
//
// Each accepted socket becomes a connection, and the connection is handed to
// the listener's handler. The handler is what a stage decides: echo the bytes
// back (stage 10), proxy them to an upstream (stage 11), serve a file (12)...
// so the C course's temporary "if (port == 8001)" branches live in the stage's
// routing, not here.
//
// Node accepts for us: libuv drains the accept queue (what stage 9's accept
// loop does by hand) and emits one 'connection' event per client.
import net from "node:net";
import { DEFAULT_BACKLOG, OK, describeError, logger } from "@xps/utils";
import type { Core } from "@xps/core/core";
import { loopAttach, loopDetach } from "@xps/core/loop";
import { connectionCreate, connectionDestroy, type Connection } from "@xps/connection/connection";
import { SOCKET_OPTIONS } from "@xps/connection/socket";

/** What a listener does with each new client. */
export type ConnectionHandler = (client: Connection, listener: Listener) => void;

export interface Listener {
  core: Core;
  host: string;
  port: number;
  server: net.Server;
  handler: ConnectionHandler;
}

/**
 * xps_listener_create: bind and listen on host:port and attach to the loop.
 * Resolves to null (with an ERROR line that says why) when the port cannot
 * be bound.
 */
export async function listenerCreate(
  core: Core,
  host: string,
  port: number,
  handler: ConnectionHandler,
): Promise<Listener | null> {
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
  const listener: Listener = { core, host, port, server, handler };
  if (loopAttach(core.loop, server, listener, listenerConnectionHandler, null, listenerCloseHandler) !== OK) {
    server.close();
    return null;
  }
  core.listeners.add(listener);
  logger("DEBUG", "listenerCreate()", `created listener on port ${port}`);
  return listener;
}

/** xps_listener_destroy: stop accepting. Connections it accepted live on. */
export function listenerDestroy(listener: Listener): void {
  if (!listener.core.listeners.remove(listener)) return;
  loopDetach(listener.core.loop, listener.server);
  listener.server.close();
  logger("DEBUG", "listenerDestroy()", `destroyed listener on port ${listener.port}`);
}

/** listener_connection_handler: one accepted client. */
function listenerConnectionHandler(listener: Listener, socket: net.Socket): void {
  let client: Connection | null = null;
  try {
    client = connectionCreate(listener.core, socket);
    if (client === null) {
      logger("ERROR", "listenerConnectionHandler()", "connectionCreate() failed");
      socket.destroy();
      return;
    }
    client.listener = listener;
    listener.handler(client, listener);
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
    return;
  }
  logger("INFO", "listenerConnectionHandler()", "new connection");
}

function listenerCloseHandler(listener: Listener, err?: Error): void {
  logger("ERROR", "listenerCloseHandler()", `listener on port ${listener.port} failed: ${err?.message ?? "closed"}`);
  listenerDestroy(listener);
}
