// Stage 1: a TCP server that serves exactly one client (phase_0/tcp_server.c
// in the C course). It listens, takes the first client that connects, sends
// back every message it receives reversed, and exits with code 1 when that
// client leaves. Clients that connect while the first one is being served
// are never served.
//
// In C, accept() and recv() block: the program waits inside them. In Node
// nothing blocks. You register functions that Node calls when something
// happens ('connection', 'data', 'close'), main() returns at once, and the
// process stays alive because a listening server keeps Node's event loop
// running.
import net from "node:net";

export interface Options {
  host: string;
  port: number;
}

/** The client being served, once there is one. */
let client: net.Socket | null = null;

/** Listen on opts.host:opts.port; every client that connects goes to onConnection. */
export function main(opts: Options): net.Server {
  // @solution stage-01 begin 1: Listen on the port
  //> Make a net.Server whose clients start paused (the server option
  //> pauseOnConnect), so that Node reads nothing from a client until you say
  //> so, and hand every new socket to onConnection. If listening fails (the
  //> 'error' event, EADDRINUSE when the port is taken), print an [ERROR] line
  //> that names the address and the error's code, and exit with code 1.
  //> Listen on opts.port and opts.host with a backlog of 5, and once the
  //> server listens print exactly:
  //>   [INFO] Server listening on http://HOST:PORT
  //> with the host and port it listens on (the tests wait for that line).
  //> Return the server.
  const server = net.createServer({ pauseOnConnect: true }, onConnection);
  server.on("error", (err: NodeJS.ErrnoException) => {
    console.log(`[ERROR] cannot listen on ${opts.host}:${opts.port}: ${err.code ?? err.message}`);
    process.exit(1);
  });
  server.listen(opts.port, opts.host, 5, () => {
    console.log(`[INFO] Server listening on http://${opts.host}:${opts.port}`);
  });
  return server;
  // @solution end
}

/** A client has connected (Node has already accepted it). */
function onConnection(socket: net.Socket): void {
  // @solution stage-01 begin 2: Serve exactly one client
  //> The first client that connects is the one this program serves: keep it
  //> in `client`, print "[INFO] Client connected to server", give it to serve()
  //> and let Node start reading from it. Every later client stays as it
  //> arrived: paused, never read and never answered, the way a client waits
  //> in the kernel's accept queue while the C program never calls accept()
  //> again. Do not close it either: in C it just waits.
  if (client !== null) return;
  client = socket;
  console.log("[INFO] Client connected to server");
  serve(socket);
  socket.resume();
  // @solution end
}

/** Answer every message of the client, and exit when it leaves. */
function serve(socket: net.Socket): void {
  // @solution stage-01 begin 3: Reply to each message
  //> Each 'data' event brings one chunk, what one recv() returns in C. Print
  //> it as "[CLIENT MESSAGE] <the text, without its final newline>" and write
  //> back reverse() of the bytes, unchanged otherwise: work on the Buffer,
  //> not on a string, so that bytes that are not text come back intact.
  socket.on("data", (chunk: Buffer) => {
    console.log(`[CLIENT MESSAGE] ${chunk.toString("latin1").replace(/\n$/, "")}`);
    socket.write(reverse(chunk));
  });
  // @solution end
  // @solution stage-01 begin 4: Exit when the client leaves
  //> When the connection is over, however it ended (the client closed it,
  //> sending a FIN, or reset it), print
  //> "[INFO] Client disconnected. Closing server" and exit with code 1, as the
  //> C program does when recv() returns 0 or less. One event covers every
  //> way a connection ends. A reset also emits 'error': without a listener
  //> for it, Node would throw it and crash the program instead.
  socket.on("error", () => {
    // 'close' follows; that is where the program ends.
  });
  socket.on("close", () => {
    console.log("[INFO] Client disconnected. Closing server");
    process.exit(1);
  });
  // @solution end
}

/**
 * The reply to a message: its bytes in reverse order, except that a final
 * newline stays at the end ("hello\n" becomes "olleh\n", "abc" becomes "cba").
 */
export function reverse(message: Buffer): Buffer {
  // @solution stage-01 begin 5: Reverse a message
  //> Return a new Buffer and leave `message` as it is. When the last byte is
  //> a newline (0x0a) it stays last and only the bytes before it are
  //> reversed; otherwise every byte is. Reverse bytes, not characters, as the
  //> C helper does. An empty message gives an empty reply.
  const keep = message.at(-1) === 0x0a ? 1 : 0;
  const head = Buffer.from(message.subarray(0, message.length - keep)).reverse();
  return Buffer.concat([head, message.subarray(message.length - keep)]);
  // @solution end
}
