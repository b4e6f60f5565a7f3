// Stage 2: a TCP client (phase_0/tcp_client.c in the C course). It connects
// to the server, then reads lines from its input; it sends each line and
// prints the server's reply as "[SERVER MESSAGE] ...". When nothing listens
// it says so and exits with code 1.
//
// The C client is one loop of blocking calls: getline() waits for a line,
// send() sends it, recv() waits for the reply. In Node the input and the
// socket are both event sources, and nothing waits: "wait for the reply
// before reading the next line" has to be written down, with a promise.
import { once } from "node:events";
import net from "node:net";
import readline from "node:readline";

export interface Options {
  host: string;
  port: number;
}

/** Connect to opts.host:opts.port; once connected, converse() runs the conversation. */
export function main(opts: Options): net.Socket {
  // @solution stage-02 begin 1: Connect to the server
  //> Connect with net.connect. Node's connect does not block as C's does: it
  //> returns the socket at once, and reports later. On 'connect', print
  //> "[INFO] Connected to tcp server" and call converse(socket). If the
  //> connection fails before that ('error' with ECONNREFUSED when nothing
  //> listens), print
  //>   [ERROR] Failed to connect to tcp server at HOST:PORT: CODE
  //> and exit with code 1. An 'error' after the connection was made belongs to
  //> the conversation (TODO 3): leave it alone here. Return the socket.
  const socket = net.connect({ host: opts.host, port: opts.port });
  let connected = false;
  socket.once("connect", () => {
    connected = true;
    console.log("[INFO] Connected to tcp server");
    converse(socket);
  });
  socket.on("error", (err: NodeJS.ErrnoException) => {
    if (connected) return;
    console.log(`[ERROR] Failed to connect to tcp server at ${opts.host}:${opts.port}: ${err.code ?? err.message}`);
    process.exit(1);
  });
  return socket;
  // @solution end
}

/**
 * C's getline() / send() / recv() loop: each line of `input` goes to the
 * server with its newline, and the next line is read only once the reply has
 * been printed. Resolves when the input ends.
 */
export async function talk(socket: net.Socket, input: NodeJS.ReadableStream): Promise<void> {
  // @solution stage-02 begin 2: One line, one reply
  //> Read the input line by line (node:readline, whose interface can be
  //> iterated with for await). For each line: send it with a "\n" (readline
  //> strips it; getline() keeps it), wait for the next 'data' event of the
  //> socket, and print it as "[SERVER MESSAGE] <reply without its final
  //> newline>". Only then take the next line: the server reverses what one
  //> read brings, so two lines sent together would come back as one reversed
  //> block. events.once() turns the next 'data' event into a promise; ask for
  //> it before you write, so the reply cannot come first.
  const lines = readline.createInterface({ input, crlfDelay: Infinity });
  for await (const line of lines) {
    const reply = once(socket, "data") as Promise<[Buffer]>;
    socket.write(`${line}\n`);
    const [chunk] = await reply;
    console.log(`[SERVER MESSAGE] ${chunk.toString().replace(/\n$/, "")}`);
  }
  // @solution end
}

/** The whole conversation, and how it ends. */
function converse(socket: net.Socket): void {
  // @solution stage-02 begin 3: The end of the conversation
  //> Two things end it. When the input ends (talk() resolves; Ctrl+D in a
  //> terminal), end the connection: the server closes its side in turn. When
  //> the connection closes ('close'), exit with code 0, and print
  //> "[INFO] Server closed the connection" first, unless it closes because
  //> the input ended. Unlike the C client, which only finds out at its next
  //> recv(), this one notices at once, even while it waits for a line.
  //> Listen for 'error' as well (a reset), which 'close' follows, and do
  //> not let a talk() that fails with it go unhandled.
  let leaving = false;
  socket.on("error", () => {
    // 'close' follows.
  });
  socket.on("close", () => {
    if (!leaving) console.log("[INFO] Server closed the connection");
    process.exit(0);
  });
  talk(socket, process.stdin).then(
    () => {
      leaving = true;
      socket.end();
    },
    () => {
      // The connection failed while waiting for a reply: 'close' ends the program.
    },
  );
  // @solution end
}
