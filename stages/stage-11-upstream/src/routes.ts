// stage-11: your copy of packages/connection/src/routes.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-11` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-11` restores this version.

// What a listener does with a new client: the handlers that stages give
// their listeners (ConnectionHandler in listener.ts).
import { DEFAULT_PIPE_BUFF_THRESH, logger } from "@xps/utils";
import { pipeCreate } from "@xps/core/pipe";
import type { HostPort } from "@xps/utils";
import { connectionDestroy, type Connection } from "@xps/connection/connection";
import type { ConnectionHandler } from "@xps/connection/listener";
import { upstreamCreate } from "@xps/connection/upstream";
import { todo } from "@xps/utils/todo";

/** Stage 10: one pipe from the client's source to its own sink, so every byte comes back. */
export const echo: ConnectionHandler = (client: Connection): void => {
  if (pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, client.source, client.sink) === null) {
    logger("ERROR", "echo()", "pipeCreate() failed");
    connectionDestroy(client);
  }
};

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
  // TODO(stage-11 #2): Route a client to the upstream
  // Create the upstream connection. If that fails, log an ERROR and destroy
  // the client. Otherwise create the two pipes, both with the default
  // threshold: client source -> upstream sink, and upstream source -> client
  // sink. If a pipe cannot be made, destroy both connections.
  throw todo("stage-11", 2, "Route a client to the upstream");
}
