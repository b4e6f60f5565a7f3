// stage-05: your copy of stages/stage-05-tcp-proxy/reference/tcp-proxy.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-05` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-05` restores this version.

// Stage 5: a TCP proxy (phase_0/tcp_proxy.c in the C course). Every client
// that connects to 8080 gets a connection of its own to the upstream,
// 127.0.0.1:3000 (python3 -m http.server), and whatever one of the two sends
// is written across to the other. A browser pointed at 8080 sees python's
// file listing. This is the first proxy, and it has no flow control: when a
// client reads slowly, everything the upstream sends piles up in this
// process. Stages 10 and 11 fix that with pipes.
import net from "node:net";
import type { HostPort } from "@xps/utils/net";
import { todo } from "@xps/utils/todo";

export interface Options {
  host: string;
  port: number;
  upstream: HostPort;
}

/** A client and the upstream connection made for it: one row of the C program's route_table. */
export interface Route {
  client: net.Socket;
  upstream: net.Socket;
}

/** The routes open right now. */
export const routes: Route[] = [];

let upstreamAddress: HostPort = { host: "127.0.0.1", port: 3000 };

/** Listen on opts.host:opts.port; every client that connects goes to acceptConnection(). */
export function main(opts: Options): net.Server {
  upstreamAddress = opts.upstream;
  const server = net.createServer(acceptConnection);
  server.on("error", (err: NodeJS.ErrnoException) => {
    console.log(`[ERROR] cannot listen on ${opts.host}:${opts.port}: ${err.code ?? err.message}`);
    process.exit(1);
  });
  server.listen(opts.port, opts.host, 5, () => {
    console.log(`[INFO] Server listening on http://${opts.host}:${opts.port}`);
  });
  return server;
}

/** A client has connected: give it an upstream connection and a route. */
function acceptConnection(client: net.Socket): void {
  // TODO(stage-05 #1): Connect the client's upstream
  // Open a new connection to upstreamAddress for this client alone (in C,
  // connect_upstream()). Node's connect does not block as C's does: the
  // socket comes back at once and connects in the background, and what you
  // write to it before then is queued and sent once it is connected. Make
  // the route of the two sockets, append it to `routes`, print
  // "[INFO] new route (N open)" with the number of routes, and set up both
  // directions: handleClient(route), then handleUpstream(route).
  throw todo("stage-05", 1, "Connect the client's upstream");
}

/** What the client sends, and what happens when it leaves. */
function handleClient(route: Route): void {
  // TODO(stage-05 #2): From the client to the upstream
  // Write every chunk the client sends to its own upstream, as it is.
  // Print the first line of the chunk as "[CLIENT MESSAGE] <line>" (for a
  // browser, the request line). socket.write() takes the whole chunk, so
  // there is no loop over partial sends as in C; what the kernel cannot take
  // yet waits in Node.
  throw todo("stage-05", 2, "From the client to the upstream");
  // TODO(stage-05 #3): The client leaves
  // When the client's connection is over ('close', after a FIN or a reset),
  // its upstream connection has no purpose left: destroy it, and take the
  // route out of the table with removeRoute(). Listen for 'error' on the
  // client too, or a reset crashes the proxy.
  throw todo("stage-05", 3, "The client leaves");
}

/** What the upstream sends, and what happens when it ends or fails. */
function handleUpstream(route: Route): void {
  // TODO(stage-05 #4): From the upstream to the client
  // Write every chunk the upstream sends to its client, as it is, without
  // waiting: this first proxy ignores what write() returns, so a client that
  // reads slowly makes these chunks pile up in the proxy's memory.
  throw todo("stage-05", 4, "From the upstream to the client");
  // TODO(stage-05 #5): The upstream ends or fails
  // python closes its connection once it has sent a response: when the
  // upstream ends, end the client's connection too. end() sends the FIN only
  // after everything already written, so the end of the response is not
  // lost (destroy() would throw it away). When the upstream fails (nothing
  // listens there: ECONNREFUSED), print "[ERROR] upstream HOST:PORT: CODE"
  // and destroy the client. Without an 'error' listener, Node throws the
  // error and the whole proxy dies with it.
  throw todo("stage-05", 5, "The upstream ends or fails");
}

/** Take a route out of the table (once) and print how many are left. */
export function removeRoute(route: Route): void {
  const i = routes.indexOf(route);
  if (i < 0) return;
  routes.splice(i, 1);
  console.log(`[INFO] route closed (${routes.length} open)`);
}
