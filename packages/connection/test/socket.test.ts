// The receive queue of socket.ts on a real loopback socket: it keeps every
// byte, holds the peer back once it is full, and gives the bytes back in
// order, one chunk at a time, then E_EOF.
import { randomBytes } from "node:crypto";
import net from "node:net";
import { expect, test } from "vitest";
import { E_AGAIN, E_EOF } from "@xps/utils";
import { RECV_WINDOW, SOCKET_OPTIONS, socketClose, socketOpen, socketPending, socketRecv, socketShutdown } from "../src/socket.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function pair(senderOptions: net.SocketConstructorOpts = {}): Promise<{ server: net.Server; receiver: net.Socket; sender: net.Socket }> {
  const server = net.createServer(SOCKET_OPTIONS);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const sender = net.connect({ port, host: "127.0.0.1", ...senderOptions });
  const receiver = await accepted;
  socketOpen(receiver);
  return { server, receiver, sender };
}

test("a full receive queue pauses the socket, and draining it loses and reorders nothing", async () => {
  const { server, receiver, sender } = await pair();
  const body = randomBytes(16 * 1024 * 1024);
  sender.end(body);
  // Nobody takes the bytes: the queue stops at the window (plus the chunk that crossed it).
  await sleep(300);
  const held = socketPending(receiver);
  expect(held).toBeGreaterThanOrEqual(RECV_WINDOW);
  expect(held).toBeLessThanOrEqual(RECV_WINDOW + 64 * 1024);
  expect(receiver.isPaused()).toBe(true);

  const got: Buffer[] = [];
  let biggest = 0;
  for (let waited = 0; waited < 10_000; ) {
    const r = socketRecv(receiver, 100_000);
    if (r === E_EOF) break;
    if (r === E_AGAIN) {
      await sleep(5);
      waited += 5;
      continue;
    }
    biggest = Math.max(biggest, r.length);
    got.push(r);
  }
  expect(biggest).toBeLessThanOrEqual(100_000);
  const all = Buffer.concat(got);
  expect(all.length).toBe(body.length);
  expect(all.equals(body)).toBe(true);
  expect(socketRecv(receiver, 100_000)).toBe(E_EOF);
  receiver.destroy();
  server.close();
});

test("socketRecv returns part of a chunk when asked for less, and the rest next", async () => {
  const { server, receiver, sender } = await pair();
  sender.write("hello world");
  while (socketPending(receiver) < 11) await sleep(5);
  expect(String(socketRecv(receiver, 5))).toBe("hello");
  expect(String(socketRecv(receiver, 100))).toBe(" world");
  expect(socketRecv(receiver, 100)).toBe(E_AGAIN);
  sender.destroy();
  receiver.destroy();
  server.close();
});

test("an abortive close after a half-close still closes, and the peer that still sends sees a reset", async () => {
  // The proxy can half-close a socket (its client's FIN passed on) and then
  // pass on a reset from the other side. libuv refuses a reset once the FIN
  // is asked for; done naively, the socket stayed open for good, and the
  // peer (half-open, as a proxy's upstream may be) saw nothing more.
  const { server, receiver, sender } = await pair({ allowHalfOpen: true });
  const chunk = Buffer.alloc(64 * 1024);
  const how = new Promise<string>((r) => {
    sender.on("error", (e: NodeJS.ErrnoException) => r(e.code ?? "error"));
    sender.on("close", () => r("close without an error"));
  });
  const pump = (): void => {
    while (!sender.destroyed && sender.write(chunk));
    if (!sender.destroyed) sender.once("drain", pump);
  };
  pump();
  while (socketPending(receiver) === 0) await sleep(5);
  const closed = new Promise<boolean>((r) => receiver.once("close", () => r(true)));
  socketShutdown(receiver);
  socketClose(receiver, true);
  expect(await Promise.race([closed, sleep(3000).then(() => false)])).toBe(true);
  expect(["ECONNRESET", "EPIPE"]).toContain(await Promise.race([how, sleep(3000).then(() => "nothing within 3 s")]));
  sender.destroy();
  server.close();
});

test("an abortive close with bytes still queued is a reset even after a half-close: the cut stream never looks whole", async () => {
  // The peer reads nothing yet, so what the receiver writes stays queued in
  // Node and the FIN waits behind it. A plain close here would throw the
  // queue away and end with a FIN: the peer would take a truncated stream
  // for a complete one.
  const { server, receiver, sender } = await pair({ allowHalfOpen: true });
  sender.pause();
  const body = Buffer.alloc(8 * 1024 * 1024);
  receiver.write(body);
  expect(receiver.writableLength).toBeGreaterThan(0);
  socketShutdown(receiver);
  socketClose(receiver, true);
  const how = new Promise<string>((r) => {
    sender.on("error", (e: NodeJS.ErrnoException) => r(e.code ?? "error"));
    sender.on("end", () => r("a clean end"));
  });
  sender.on("data", () => {});
  sender.resume();
  expect(await Promise.race([how, sleep(3000).then(() => "nothing within 3 s")])).toBe("ECONNRESET");
  sender.destroy();
  server.close();
});
