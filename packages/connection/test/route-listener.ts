// A listening socket as stages 10 to 12 have it: each new client goes to a
// route (a ConnectionHandler such as echo). From stage 13 on the server's
// listener hands every client to a session instead, so the tests of the
// connection's own close rules through a route accept their clients here.
import net from "node:net";
import { describeError, logger } from "@xps/utils";
import type { Core } from "@xps/core/core";
import { loopRun } from "@xps/core/loop";
import { connectionCreate, connectionDestroy } from "../src/connection.ts";
import type { ConnectionHandler, Listener } from "../src/listener.ts";
import { SOCKET_OPTIONS } from "../src/socket.ts";

/** Accept on a free loopback port and give each client to `route`; a route that throws costs that client only. */
export async function routeListener(core: Core, route: ConnectionHandler): Promise<{ port: number; close: () => void }> {
  const server = net.createServer(SOCKET_OPTIONS);
  const owner = { core, host: "127.0.0.1", port: 0, server } as unknown as Listener;
  server.on("connection", (socket: net.Socket) => {
    const conn = connectionCreate(core, socket);
    if (conn === null) return void socket.destroy();
    conn.listener = owner;
    try {
      route(conn, owner);
    } catch (err) {
      logger("ERROR", "routeListener()", `${describeError(err)}; closing this client`);
      connectionDestroy(conn);
    }
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", () => resolve()));
  loopRun(core.loop);
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}
