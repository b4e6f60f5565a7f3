// stage-02: your copy of stages/stage-02-tcp-client/reference/tcp-server.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-02` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-02` restores this version.

// Stage 2's server: stage 1's server, made to loop (the C course's second
// experiment wraps accept() and the recv()/send() loop in an outer loop).
// It still serves one client at a time, but when that client leaves it
// serves the next one instead of exiting. The clients that connect in the
// meantime wait their turn, in the order they came.
//
// In C they wait in the kernel's accept queue, and the next accept() takes
// the oldest. Node has accepted them already, so the queue is yours: an
// array of sockets that are still paused (pauseOnConnect), whose bytes wait
// unread in the kernel until their turn.
import net from "node:net";
import { todo } from "@xps/utils/todo";

export interface Options {
  host: string;
  port: number;
}

/** The clients waiting for their turn, oldest first. */
export const waiting: net.Socket[] = [];

/** The client being served, or null when nobody is. */
let current: net.Socket | null = null;

/** Listen on opts.host:opts.port (stage 1's TODO 1). */
export function main(opts: Options): net.Server {
  const server = net.createServer({ pauseOnConnect: true }, onConnection);
  server.on("error", (err: NodeJS.ErrnoException) => {
    console.log(`[ERROR] cannot listen on ${opts.host}:${opts.port}: ${err.code ?? err.message}`);
    process.exit(1);
  });
  server.listen(opts.port, opts.host, 5, () => {
    console.log(`[INFO] Server listening on http://${opts.host}:${opts.port}`);
  });
  return server;
}

/** A client has connected (Node has already accepted it; it is paused). */
function onConnection(socket: net.Socket): void {
  // TODO(stage-02 #4): Wait in line
  // Put the new client at the end of `waiting`, paused as it came. If
  // nobody is being served, serve the next client now.
  throw todo("stage-02", 4, "Wait in line");
}

/** What the C program's outer loop does: take the next client and serve it until it leaves. */
function serveNext(): void {
  // TODO(stage-02 #5): Serve the next client
  // Take the oldest client out of `waiting`. When there is none, nobody is
  // being served any more: set `current` to null and stop. Otherwise it
  // becomes `current`: print "[INFO] Client connected to server", give it
  // to serve() with serveNext as what to do once it has left, and let Node
  // read it. A client that left while it was waiting is served like any
  // other: its bytes, then its end, are still waiting in the kernel, and it
  // leaves at once.
  throw todo("stage-02", 5, "Serve the next client");
}

/** Stage 1's reply loop: answer every message; when the client leaves, call `done`. */
function serve(socket: net.Socket, done: () => void): void {
  socket.on("data", (chunk: Buffer) => {
    console.log(`[CLIENT MESSAGE] ${chunk.toString("latin1").replace(/\n$/, "")}`);
    socket.write(reverse(chunk));
  });
  socket.on("error", () => {
    // 'close' follows.
  });
  socket.on("close", () => {
    console.log("[INFO] Client disconnected");
    done();
  });
}

/** Stage 1's rule: the bytes reversed, a final newline left at the end. */
export function reverse(message: Buffer): Buffer {
  const body = message.length > 0 && message[message.length - 1] === 0x0a ? message.length - 1 : message.length;
  const out = Buffer.from(message);
  out.subarray(0, body).reverse();
  return out;
}
