// The upstream module (xps_upstream.c, stage 11): open a TCP connection to
// the server we proxy for, and return it as an ordinary connection with its
// own source and sink.
//
// The connect is non-blocking. In C, connect() on a non-blocking socket
// usually returns -1 with errno EINPROGRESS: the handshake is under way, and
// that is normal. net.connect() is the same: it returns a socket that is still
// `connecting`. Its sink is not ready until the handshake completes ('connect',
// our first writable edge), so the request waits in its pipe until then. A
// connect that fails later
// (nothing listens, the host is unreachable) arrives as an 'error' event, which
// the loop delivers as a close of this connection, so the pipe rules then close
// the client too. Only what fails at once (an invalid address) returns null.
import net from "node:net";
import { isValidPort, logger } from "@xps/utils";
import type { Core } from "@xps/core/core";
import { connectionCreate, type Connection } from "@xps/connection/connection";
import { SOCKET_OPTIONS } from "@xps/connection/socket";

/** What to tell someone whose upstream does not answer. */
export function upstreamAdvice(host: string, port: number): string {
  return `is an upstream running there? Start one with: python3 -m http.server ${port} --bind ${host}`;
}

/** xps_upstream_create: a connection to host:port, or null when the address is unusable. */
export function upstreamCreate(core: Core, host: string, port: number): Connection | null {
  // @solution stage-11 begin 1: Open the upstream connection
  //> Refuse (ERROR log, null) an empty host or an invalid port. Otherwise
  //> start a non-blocking connect with net.connect (with SOCKET_OPTIONS, the
  //> options every socket of the server gets) and wrap the socket with
  //> connectionCreate. The connect is still in progress when
  //> you return, and that is fine. Until it completes, log a clear ERROR if it
  //> fails (refused or unreachable): the loop turns that failure into a close
  //> of the connection on its own.
  if (host === "" || !isValidPort(port) || port === 0) {
    logger("ERROR", "upstreamCreate()", `invalid upstream address ${host}:${port}`);
    return null;
  }
  const socket = net.connect({ host, port, ...SOCKET_OPTIONS });
  const onConnectError = (err: NodeJS.ErrnoException): void => {
    logger("ERROR", "upstreamCreate()", `connect() to ${host}:${port} failed (${err.code ?? err.message}): ${upstreamAdvice(host, port)}`);
  };
  socket.once("error", onConnectError);
  socket.once("connect", () => socket.off("error", onConnectError));
  const connection = connectionCreate(core, socket);
  if (connection === null) {
    socket.destroy();
    return null;
  }
  return connection;
  // @solution end
}
