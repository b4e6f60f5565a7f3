// @stages 10-12
// What a listener does with a new client: the handlers that stages give
// their listeners (ConnectionHandler in listener.ts).
// From stage 13 on the session chooses what serves a client (session.ts), // @since 12
// and this module is gone. // @since 12
import { DEFAULT_PIPE_BUFF_THRESH, logger } from "@xps/utils";
import { resultName } from "@xps/utils"; // @since 12
import { pipeCreate } from "@xps/core/pipe";
import type { HostPort } from "@xps/utils"; // @since 11
import { connectionDestroy, type Connection } from "@xps/connection/connection";
import { connectionClose } from "@xps/connection/connection"; // @since 12
import type { ConnectionHandler } from "@xps/connection/listener";
import { upstreamCreate } from "@xps/connection/upstream"; // @since 11
import { fileCreate, fileDestroy } from "@xps/disk/file"; // @since 12

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
// @since 12 begin

/**
 * Stage 12: send the file at `filePath` to every client as soon as it
 * connects, if it may be served from `publicDir` (see fileCreate). One pipe:
 *   file.source -> client.sink
 * What the client sends is never read. Once the file has been read to its
 * end it leaves the pipe, and when the pipe has drained the client is closed.
 */
export function serveFileAt(filePath: string, publicDir: string): ConnectionHandler {
  return (client: Connection): void => {
    serveFile(client, filePath, publicDir);
  };
}

/** The file route for one client (the C course's "if (port == 8002)" branch). */
export function serveFile(client: Connection, filePath: string, publicDir: string): void {
  // @solution stage-12 begin 7: Send a file to a client
  //> Create the file (fileCreate, with the client's core). When it cannot be
  //> served, fileCreate has already said why: close the client
  //> (connectionClose, not peer-closed, with resultName(error) as the
  //> reason) and stop. Otherwise create one pipe with the default threshold
  //> from the file's source to the client's sink; if that fails, log an
  //> ERROR and destroy both the file and the client.
  const { file, error } = fileCreate(client.core, filePath, publicDir);
  if (file === null) {
    connectionClose(client, false, resultName(error), `${filePath} cannot be served`);
    return;
  }
  if (pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, file.source, client.sink) === null) {
    logger("ERROR", "serveFile()", "pipeCreate() failed");
    fileDestroy(file);
    connectionDestroy(client);
  }
  // @solution end
}
// @since end
