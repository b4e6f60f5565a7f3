// Stage 4: the stage 1 server, made to serve any number of clients at once on
// one thread (the C course's epoll server). In C you build the loop yourself:
// epoll_create1, epoll_ctl to register the listening socket and each client,
// and a loop around epoll_wait that dispatches every ready file descriptor.
// In Node that loop already exists (libuv's, around epoll_wait too); what
// you write are the functions it dispatches to. `strace` shows it working
// (see the stage guide).
import net from "node:net";

export interface Options {
  host: string;
  port: number;
}

/**
 * The clients connected right now. In C the loop needs a table to tell what a
 * ready file descriptor is; in Node every handler already holds its socket,
 * so the table is only the program's own account of who is connected.
 */
export const clients = new Set<net.Socket>();

/** Listen on opts.host:opts.port (stage 1's TODO 1, without pauseOnConnect: every client is read at once). */
export function main(opts: Options): net.Server {
  const server = net.createServer(accept);
  server.on("error", (err: NodeJS.ErrnoException) => {
    console.log(`[ERROR] cannot listen on ${opts.host}:${opts.port}: ${err.code ?? err.message}`);
    process.exit(1);
  });
  server.listen(opts.port, opts.host, 5, () => {
    console.log(`[INFO] Server listening on http://${opts.host}:${opts.port}`);
  });
  return server;
}

/** A client has connected: what the C loop does when the listening socket is ready. */
function accept(socket: net.Socket): void {
  // @solution stage-04 begin 1: Accept every client
  //> Every client is served now, whoever else is connected: add the socket to
  //> `clients`, print "[INFO] Client connected to server (N connected)" with
  //> the number of clients now in the table, and give the socket to watch(),
  //> which is what epoll_ctl(EPOLL_CTL_ADD) does for it in C.
  clients.add(socket);
  console.log(`[INFO] Client connected to server (${clients.size} connected)`);
  watch(socket);
  // @solution end
}

/** The handlers of one client: what the C loop does when its file descriptor is ready. */
function watch(socket: net.Socket): void {
  // Stage 1's TODO 3: each chunk (one 'data' event, one recv()) gets its reply.
  // The handler holds this client's own socket, so nothing about one client
  // lives in a variable that the others share.
  socket.on("data", (chunk: Buffer) => {
    console.log(`[CLIENT MESSAGE] ${chunk.toString("latin1").replace(/\n$/, "")}`);
    socket.write(reverse(chunk));
  });
  // @solution stage-04 begin 2: A client leaves
  //> When this client's connection is over ('close', whether it ended with a
  //> FIN or a reset), take it out of `clients` and print
  //> "[INFO] Client disconnected (N connected)". That client's socket is the
  //> only thing that ends: the program, the listening server and every other
  //> client carry on. As in stage 1, a reset also emits 'error', which needs
  //> a listener, or Node throws it.
  socket.on("error", () => {
    // 'close' follows.
  });
  socket.on("close", () => {
    clients.delete(socket);
    console.log(`[INFO] Client disconnected (${clients.size} connected)`);
  });
  // @solution end
}

/** Stage 1's rule: the bytes reversed, a final newline left at the end. */
export function reverse(message: Buffer): Buffer {
  const body = message.length > 0 && message[message.length - 1] === 0x0a ? message.length - 1 : message.length;
  const out = Buffer.from(message);
  out.subarray(0, body).reverse();
  return out;
}
