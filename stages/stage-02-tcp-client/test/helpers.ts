// What stage 2's tests run around the learner's programs: a reversing server
// in the test process (for the clients), and a way to start a client with a
// stdin the test writes to.
import net from "node:net";
import path from "node:path";
import { freePorts, sleep, type MilestoneContext, type StageServer } from "@xps/testkit";
import { reversed } from "@xps/testkit";

export const STAGE_DIR = path.join(import.meta.dirname, "..");

export interface TestServer {
  port: number;
  /** Every connection's received chunks, in the order the connections came. */
  chunks: Buffer[][];
  /** The most connections open at once. */
  maxOpen: number;
  /** Connections open now. */
  open(): number;
  close(): Promise<void>;
}

export interface TestServerOptions {
  /** Wait this long before each reply, so that a client which does not wait for it is caught sending early. */
  delayMs?: number;
  /** Close a connection after replying to this many of its messages. */
  closeAfter?: number;
  /** Hold every reply until this many connections are open at once (or `holdMs` has passed). */
  holdUntil?: number;
  holdMs?: number;
  /** Close every connection on its first message, without a reply. */
  hangUp?: boolean;
}

/** A server on a free port that replies to each chunk with the chunk reversed (stage 1's rule). */
export async function testServer(t: MilestoneContext, opts: TestServerOptions = {}): Promise<TestServer> {
  const [port] = await freePorts(1);
  const sockets = new Set<net.Socket>();
  const state = { maxOpen: 0 };
  const chunks: Buffer[][] = [];
  let released = opts.holdUntil === undefined;
  const held: (() => void)[] = [];
  const release = (): void => {
    released = true;
    for (const f of held.splice(0)) f();
  };
  if (!released) setTimeout(release, opts.holdMs ?? 3000).unref();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    state.maxOpen = Math.max(state.maxOpen, sockets.size);
    if (opts.holdUntil !== undefined && sockets.size >= opts.holdUntil) release();
    const mine: Buffer[] = [];
    chunks.push(mine);
    let replied = 0;
    socket.on("data", (chunk: Buffer) => {
      mine.push(chunk);
      if (opts.hangUp) {
        socket.end();
        return;
      }
      const reply = async (): Promise<void> => {
        if (opts.delayMs) await sleep(opts.delayMs);
        if (socket.destroyed) return;
        socket.write(reversed(chunk));
        replied++;
        if (opts.closeAfter !== undefined && replied >= opts.closeAfter) socket.end();
      };
      if (released) void reply();
      else held.push(() => void reply());
    });
    socket.on("error", () => {});
    socket.on("close", () => sockets.delete(socket));
  });
  await new Promise<void>((resolve) => server.listen(port, "127.0.0.1", () => resolve()));
  const close = async (): Promise<void> => {
    for (const s of sockets) s.destroy();
    await new Promise<void>((resolve) => server.close(() => resolve()));
  };
  t.cleanup(close);
  return {
    port: port!,
    chunks,
    get maxOpen() {
      return state.maxOpen;
    },
    open: () => sockets.size,
    close,
  };
}

/** One of the stage's programs (client.ts, multi-client.ts), started with `args` and not waited for. */
export function startProgram(t: MilestoneContext, script: string, args: string[], stdin = false): Promise<StageServer> {
  return t.server({ script: path.join(STAGE_DIR, script), ports: 0, stdin, args });
}

/** The program's output so far, for failure messages. */
export function output(program: StageServer, n = 12): string {
  const lines = program.log().slice(-n);
  return lines.length ? lines.map((l) => `    ${l}`).join("\n") : "    (nothing)";
}
