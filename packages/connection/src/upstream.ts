// @stages 11-
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
// (nothing listens, the name does not resolve, the host is unreachable) arrives
// as an 'error' event, which the loop delivers as a close of this connection,
// so the pipe rules then close the client too. Only what fails at once (an
// invalid address) returns null.
import net from "node:net";
import { describeNameError, formatHostPort, isNameError, isValidPort, logger } from "@xps/utils";
import type { Core } from "@xps/core/core";
import { connectionCreate, type Connection } from "@xps/connection/connection";
import { SOCKET_OPTIONS } from "@xps/connection/socket";

/** What to tell someone whose upstream does not answer. */
export function upstreamAdvice(host: string, port: number): string {
  return `is an upstream running there? Start one with: python3 -m http.server ${port} --bind ${host}`;
}

/**
 * What a failed connect to the upstream means and what to do about it, in one
 * log line (the start-up check and each client's connect use it):
 *   nothing is listening on 127.0.0.1:3000 (ECONNREFUSED); is an upstream running there? ...
 *   the upstream host name "nosuchhost" could not be resolved (ENOTFOUND); ...
 *   upstream 127.0.0.1:3000 accepted the connection, then reset it ... (ECONNRESET); ...
 */
export function upstreamConnectError(host: string, port: number, err: NodeJS.ErrnoException): string {
  const at = formatHostPort({ host, port });
  const code = err.code ?? err.message;
  if (isNameError(err.code)) {
    return `the upstream host name "${host}" could not be resolved (${describeNameError(code)}); give --upstream an address such as 127.0.0.1:3000`;
  }
  switch (err.code) {
    case "ECONNREFUSED":
      return `nothing is listening on ${at} (ECONNREFUSED); ${upstreamAdvice(host, port)}`;
    case "ECONNRESET":
      // The handshake completed, so something listens there; the reset came
      // before Node reported the connect (on loopback it always does).
      return `upstream ${at} accepted the connection, then reset it before sending anything (ECONNRESET); something listens there but drops its clients: is it the server you meant?`;
    case "ETIMEDOUT":
    case "EHOSTUNREACH":
    case "ENETUNREACH":
      return `upstream ${at} cannot be reached (${code}); check the address, or run an upstream on this machine: python3 -m http.server ${port} --bind 127.0.0.1`;
    default:
      return `the connect to upstream ${at} failed (${code}); ${upstreamAdvice(host, port)}`;
  }
}

/** xps_upstream_create: a connection to host:port, or null when the address is unusable. */
export function upstreamCreate(core: Core, host: string, port: number): Connection | null {
  // @solution stage-11 begin 1: Open the upstream connection
  //> Refuse (ERROR log, null) an empty host or an invalid port. Otherwise
  //> start a non-blocking connect with net.connect (with SOCKET_OPTIONS, the
  //> options every socket of the server gets) and wrap the socket with
  //> connectionCreate. The connect is still in progress when
  //> you return, and that is fine. Until it completes, log an ERROR if it
  //> fails, with upstreamConnectError (it tells a refusal, a name that does
  //> not resolve and a reset apart): the loop turns that failure into a close
  //> of the connection on its own.
  if (host === "" || !isValidPort(port)) {
    logger("ERROR", "upstreamCreate()", `invalid upstream address ${formatHostPort({ host, port })}: it needs a host and a port from 1 to 65535`);
    return null;
  }
  const socket = net.connect({ host, port, ...SOCKET_OPTIONS });
  const onConnectError = (err: NodeJS.ErrnoException): void => {
    logger("ERROR", "upstreamCreate()", upstreamConnectError(host, port, err));
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
