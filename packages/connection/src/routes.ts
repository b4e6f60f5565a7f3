// @stages 10-
// What a listener does with a new client: the handlers that stages give
// their listeners (ConnectionHandler in listener.ts).
import { DEFAULT_PIPE_BUFF_THRESH, logger } from "@xps/utils";
import { pipeCreate } from "@xps/core/pipe";
import type { HostPort } from "@xps/utils"; // @since 11
import { connectionDestroy, type Connection } from "@xps/connection/connection";
import type { ConnectionHandler } from "@xps/connection/listener";
import { upstreamCreate } from "@xps/connection/upstream"; // @since 11

/** Stage 10: one pipe from the client's source to its own sink, so every byte comes back. */
export const echo: ConnectionHandler = (client: Connection): void => {
  if (pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, client.source, client.sink) === null) {
    logger("ERROR", "echo()", "pipeCreate() failed");
    connectionDestroy(client);
  }
};

// @since 11 begin
/**
 * Stage 11: a reverse proxy to `upstream`. The client gets its own upstream
 * connection and two pipes join them:
 *   client.source -> upstream.sink     (the request)
 *   upstream.source -> client.sink     (the response)
 * The proxy only ever dials the address it was configured with.
 */
export function proxyTo(upstream: HostPort): ConnectionHandler {
  return (client: Connection): void => {
    proxy(client, upstream);
  };
}

/** The proxy route for one client (the C course's "if (port == 8001)" branch). */
export function proxy(client: Connection, upstream: HostPort): void {
  // @solution stage-11 begin 2: Route a client to the upstream
  //> Create the upstream connection. If that fails, log an ERROR and destroy
  //> the client. Otherwise create the two pipes, both with the default
  //> threshold: client source -> upstream sink, and upstream source -> client
  //> sink. If a pipe cannot be made, destroy both connections.
  const conn = upstreamCreate(client.core, upstream.host, upstream.port);
  if (conn === null) {
    logger("ERROR", "proxy()", "upstreamCreate() failed; closing the client");
    connectionDestroy(client);
    return;
  }
  const request = pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, client.source, conn.sink);
  const response = pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, conn.source, client.sink);
  if (request === null || response === null) {
    logger("ERROR", "proxy()", "pipeCreate() failed");
    connectionDestroy(conn);
    connectionDestroy(client);
  }
  // @solution end
}
// @since end
