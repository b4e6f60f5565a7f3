// Stage 2's multi-client (tcp_multi_client.c in the C course): a parent that
// starts several client processes at once, each of which connects, sends one
// message, prints the reply and exits; the parent waits for all of them.
//
// C's fork() copies the running process, and both copies go on from the
// line after the call. Node has no fork() of that kind: child_process.fork()
// starts a new Node process that runs a file from its first line, with an IPC
// channel to its parent. Here each child runs this very file, which sees
// that it is the program node was asked to run and takes its number from its
// arguments (--child N); the parent's wait() becomes the children's 'exit'
// events. (worker_threads would run the clients as threads of one process
// instead; stage 3 uses them.)
import { fork } from "node:child_process";
import { once } from "node:events";
import net from "node:net";
import { fileURLToPath } from "node:url";
import { parseArgs } from "node:util";
import { isMainModule } from "@xps/utils/args";

export interface Options {
  host: string;
  port: number;
}

export interface ParentOptions extends Options {
  /** How many clients. */
  clients: number;
}

/** The file a child runs: this one. */
export const CHILD_SCRIPT = fileURLToPath(import.meta.url);

/**
 * The node options of a child: the TypeScript loader (tsx), so that it can
 * run this .ts file. fork() would otherwise copy the parent's options, which
 * also set up the course's own loader, and that one is not needed here.
 */
export const CHILD_EXEC_ARGV = ["--import", import.meta.resolve("tsx")];

/** The arguments of child `n`: the same server, and --child N. */
export function childArgs(n: number, opts: Options): string[] {
  return ["--child", String(n), "--host", opts.host, "--port", String(opts.port)];
}

/** The message child `n` sends. */
export function messageOf(n: number): string {
  return `hello from client ${n}\n`;
}

/** The parent: start the clients, wait for every one; the exit code. */
export async function main(opts: ParentOptions): Promise<number> {
  // @solution stage-02 begin 6: Fork the clients and wait for them
  //> Start opts.clients children, numbered from 1, all at once: each one is
  //> fork(CHILD_SCRIPT, childArgs(n, opts), { execArgv: CHILD_EXEC_ARGV }).
  //> Only then wait for every one of
  //> them to exit (the 'exit' event gives its exit code; a child killed by a
  //> signal has none, count that as 1). Print "[INFO] all N clients are done"
  //> and return 0 when every child exited with code 0, 1 otherwise.
  const children = Array.from({ length: opts.clients }, (_, i) => fork(CHILD_SCRIPT, childArgs(i + 1, opts), { execArgv: CHILD_EXEC_ARGV }));
  const codes = await Promise.all(children.map(async (child) => ((await once(child, "exit")) as [number | null])[0] ?? 1));
  console.log(`[INFO] all ${opts.clients} clients are done`);
  return codes.every((code) => code === 0) ? 0 : 1;
  // @solution end
}

/** One child: send messageOf(n), print the reply; the exit code. */
export async function client(n: number, opts: Options): Promise<number> {
  // @solution stage-02 begin 7: One client
  //> Connect to opts.host:opts.port (await the 'connect' event; if the
  //> connection fails, print "[Client N] [ERROR] Failed to connect: CODE" and
  //> return 1). Send messageOf(n) and print "[Client N] Sent: <the message
  //> without its newline>". Then wait for the first reply, or for the
  //> connection to close without one (a promise that either 'data' or 'close'
  //> settles; an 'error' is followed by 'close'). Print the reply as
  //> "[Client N] [SERVER MESSAGE] <the reply without its newline>", end the
  //> connection and return 0; without a reply, print
  //> "[Client N] [ERROR] the connection closed before the reply" and return 1.
  const socket = net.connect({ host: opts.host, port: opts.port });
  try {
    await once(socket, "connect");
  } catch (err) {
    console.log(`[Client ${n}] [ERROR] Failed to connect: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
    return 1;
  }
  socket.on("error", () => {
    // 'close' follows.
  });
  const reply = new Promise<Buffer | null>((resolve) => {
    socket.once("data", resolve);
    socket.once("close", () => resolve(null));
  });
  socket.write(messageOf(n));
  console.log(`[Client ${n}] Sent: ${messageOf(n).trimEnd()}`);
  const chunk = await reply;
  if (chunk === null) {
    console.log(`[Client ${n}] [ERROR] the connection closed before the reply`);
    return 1;
  }
  console.log(`[Client ${n}] [SERVER MESSAGE] ${chunk.toString().replace(/\n$/, "")}`);
  socket.end();
  return 0;
  // @solution end
}

// A child: this file, run by fork() with --child N.
if (isMainModule(import.meta.url)) {
  const { values } = parseArgs({ options: { child: { type: "string" }, host: { type: "string" }, port: { type: "string" } } });
  process.exit(await client(Number(values.child), { host: values.host ?? "127.0.0.1", port: Number(values.port) }));
}
