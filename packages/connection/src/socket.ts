// @stages 6-
// The system calls of the C course, as Node offers them on a net.Socket.
//
//   C                         here                   Node underneath
//   accept(fd)                socketAccept(server)   a socket Node accepted, kept
//     a new fd                  a Socket               in the server's accept queue
//     -1, errno EAGAIN          E_AGAIN                the queue is empty
//   recv(fd, buf, n, 0)       socketRecv(s, n)       bytes libuv already read, kept
//     > 0 bytes                 a Buffer               in the socket's receive queue
//     -1, errno EAGAIN          E_AGAIN                the queue is empty
//     0 (peer closed)           E_EOF                  empty, and the stream has ended
//   send(fd, buf, n, ...)     socketSend(s, buf)     socket.write(buf)
//     n (all taken)             true                   below the write high-water mark
//     -1, errno EAGAIN          false                  above it: wait for 'drain'
//   non-blocking send()       socketSendSome(s, buf) socket.write() of what fits // @since 8
//     n (maybe fewer)           n                      below the high-water mark // @since 8
//     -1, errno EAGAIN          E_AGAIN                at it: wait for 'drain' // @since 8
//   shutdown(fd, SHUT_WR)     socketShutdown(s)      socket.end()
//   close(fd)                 socketClose(s)         socket.destroy(), after a flush
//
// In C the bytes a peer sent wait in the kernel until recv() takes them. In
// Node, libuv reads them as soon as they arrive and hands each chunk to the
// socket's 'data' listeners. socketOpen gives every socket of the server a
// receive queue that keeps those chunks until the source handler asks for
// them: it plays the kernel's receive buffer. When the queue holds
// RECV_WINDOW bytes the socket is paused, so libuv stops reading and the rest
// waits in the kernel, exactly as it would in C; socketRecv resumes it once
// the queue has room again. A listening server gets an accept queue the same
// way (serverOpen): Node accepts every client at once and emits
// 'connection'; the queue keeps those sockets until socketAccept takes them.
//
// Node's write never refuses bytes: a false return means "stop for now", and
// the bytes are already queued.
import type { Server, Socket } from "node:net";
import { BufferList, E_AGAIN, E_EOF } from "@xps/utils";
import { DEFAULT_BUFFER_SIZE, DEFAULT_PIPE_BUFF_THRESH } from "@xps/utils"; // @since 10
// @until 7: import { E_FAIL } from "@xps/utils";

/**
 * How many bytes Node itself queues for writing per socket before write()
 * asks us to wait (think SO_SNDBUF), and how much it reads ahead into its own
 * buffer while a socket is paused. Node's default is 16 KiB.
 */
export const SOCKET_HIGH_WATER_MARK = 256 * 1024;

/**
 * The most a socket's receive queue holds before the socket is paused (the
 * kernel's receive window, in C terms): a pipe's worth, 1,000,000 bytes, the
 * default pipe threshold of stage 10. So a source holds its peer back only
 * once its pipe is full and as much again waits to go into it, not at Node's
 * 16 KiB mark.
 */
export const RECV_WINDOW = 1_000_000;

// @since 10 begin
/** The most libuv reads from a socket at a time: one received chunk. */
export const READ_CHUNK = 64 * 1024;

/**
 * The most bytes the server holds for one flow of one connection, from the
 * socket it reads to the socket it writes: the receive queue (RECV_WINDOW,
 * overshot by at most one chunk), what Node reads ahead while the socket is
 * paused (the high-water mark), the pipe (its threshold), and the write
 * buffer (the high-water mark, overshot by at most one pipe chunk, since
 * socketSend queues a chunk before it says "wait"). About 2.7 MB. The stats
 * line's buffered, received and unsent count these bytes; stage 10's M3 and
 * the bench check the bound.
 */
export const HELD_PER_FLOW = RECV_WINDOW + READ_CHUNK + SOCKET_HIGH_WATER_MARK + DEFAULT_PIPE_BUFF_THRESH + SOCKET_HIGH_WATER_MARK + DEFAULT_BUFFER_SIZE;
// @since end

/**
 * The options every socket of the server is made with, accepted or dialled:
 * allowHalfOpen (a FIN ends only the peer's direction; the close rules decide
 * the rest), noDelay (send small replies at once, as nginx does), and the
 * high-water mark above.
 */
export const SOCKET_OPTIONS = {
  allowHalfOpen: true,
  noDelay: true,
  highWaterMark: SOCKET_HIGH_WATER_MARK,
} as const;

interface Received {
  /** Chunks Node read for us that socketRecv has not taken yet. */
  queue: BufferList;
  /** The queue was full and the socket is paused. */
  paused: boolean;
}

const RECEIVED: unique symbol = Symbol("xps received bytes");
type WithQueue = Socket & { [RECEIVED]?: Received };

/** The socket's 'data' listener (one function for every socket): keep the chunk, pause when full. */
function onData(this: WithQueue, chunk: Buffer): void {
  const rx = this[RECEIVED]!;
  rx.queue.append(chunk);
  if (!rx.paused && rx.queue.len >= RECV_WINDOW) {
    rx.paused = true;
    this.pause();
  }
}

/**
 * Give the socket its receive queue, once, before anything listens for its
 * 'data' (the loop does, as its read edge): from then on every byte that
 * arrives is kept until socketRecv takes it.
 */
export function socketOpen(socket: Socket): void {
  const s = socket as WithQueue;
  if (s[RECEIVED] !== undefined) return;
  s[RECEIVED] = { queue: new BufferList(), paused: false };
  s.on("data", onData);
}

/** Bytes received and not yet taken by socketRecv. */
export function socketPending(socket: Socket): number {
  return (socket as WithQueue)[RECEIVED]?.queue.len ?? 0;
}

/**
 * Read at most `max` bytes (max > 0). Returns the bytes, E_AGAIN when none are
 * there yet (a 'data' event follows when some arrive), or E_EOF when the peer
 * has finished sending and everything it sent was taken. Like recv(), it may
 * return fewer bytes than `max`: at most one received chunk, never a copy.
 */
export function socketRecv(socket: Socket, max: number): Buffer | typeof E_AGAIN | typeof E_EOF { // @since 8
// @until 7: export function socketRecv(socket: Socket, max: number): Buffer | typeof E_AGAIN | typeof E_EOF | typeof E_FAIL {
  const s = socket as WithQueue;
  if (s[RECEIVED] === undefined) socketOpen(socket);
  const rx = s[RECEIVED]!;
  const queue = rx.queue;
  let chunk = queue.first();
  // Before stage 8 a loop has no close callback: a socket that failed
  // (a reset) reaches the read callback, and recv() reports the failure.
  // @until 7: if (chunk === null && socket.destroyed && !socket.readableEnded) return E_FAIL;
  // An empty queue is never paused: the take that brought it below the window resumed it.
  if (chunk === null) return socket.readableEnded ? E_EOF : E_AGAIN;
  if (chunk.length > max) chunk = chunk.subarray(0, max);
  queue.clear(chunk.length);
  if (rx.paused && queue.len < RECV_WINDOW) {
    rx.paused = false;
    socket.resume();
  }
  return chunk;
}

/** Hand bytes to the socket. False means "the send queue is full: wait for 'drain'". */
export function socketSend(socket: Socket, bytes: Buffer): boolean {
  return socket.write(bytes);
}

// @since 8 begin
/**
 * A non-blocking send(), as stages 8 and 9 use it: hand the socket only what
 * fits below its high-water mark (think: the free space of the kernel's send
 * buffer) and say how much that was, or E_AGAIN when nothing fits ('drain'
 * comes once it has room). The caller keeps the rest.
 */
export function socketSendSome(socket: Socket, bytes: Buffer): number | typeof E_AGAIN {
  const room = socket.writableHighWaterMark - socket.writableLength;
  if (room <= 0 || socket.destroyed) return E_AGAIN;
  const n = Math.min(room, bytes.length);
  socket.write(n === bytes.length ? bytes : bytes.subarray(0, n));
  return n;
}
// @since end

const ACCEPTED: unique symbol = Symbol("xps accept queue");
type WithAcceptQueue = Server & { [ACCEPTED]?: Socket[] };

function ignoreSocketError(): void {}

function onConnection(this: WithAcceptQueue, socket: Socket): void {
  // A client that resets while it waits in the queue must not crash the process.
  socket.on("error", ignoreSocketError);
  this[ACCEPTED]!.push(socket);
}

/**
 * Give a listening server its accept queue, once, before the loop listens
 * for 'connection' (its read edge): from then on every client Node accepts
 * waits there until socketAccept takes it.
 */
export function serverOpen(server: Server): void {
  const s = server as WithAcceptQueue;
  if (s[ACCEPTED] !== undefined) return;
  s[ACCEPTED] = [];
  s.on("connection", onConnection);
}

/** Clients waiting in the server's accept queue. */
export function acceptPending(server: Server): number {
  return (server as WithAcceptQueue)[ACCEPTED]?.length ?? 0;
}

/** accept(): the next client in the server's accept queue, or E_AGAIN when there is none. */
export function socketAccept(server: Server): Socket | typeof E_AGAIN {
  const queue = (server as WithAcceptQueue)[ACCEPTED];
  for (let socket = queue?.shift(); socket !== undefined; socket = queue!.shift()) {
    socket.off("error", ignoreSocketError);
    // A client that gave up while it waited is not worth accepting.
    if (!socket.destroyed) return socket;
  }
  return E_AGAIN;
}

/** Tell the peer we will send nothing more (a FIN), after what is queued. */
export function socketShutdown(socket: Socket): void {
  if (!socket.writableEnded && !socket.destroyed) socket.end();
}

/** How long a closing socket may take to flush what Node still queues for it. */
export const CLOSE_FLUSH_MS = 10_000;

/**
 * The lingering close (nginx's lingering_close, lingering_time and
 * lingering_timeout, whose defaults are 30 s and 5 s): after our FIN, a
 * socket whose peer has not finished sending reads and throws away what
 * still comes, until the peer's FIN, for at most LINGER_TIME_MS in all, at
 * most LINGER_TIMEOUT_MS between two reads, and at most LINGER_BYTES; then
 * it is released. Closed at once instead, a socket with unread bytes makes
 * the kernel send a reset, and a reset can make the peer's kernel drop what
 * we sent it before the peer read it (RFC 9112, section 9.6).
 */
export const LINGER_TIME_MS = 30_000;
export const LINGER_TIMEOUT_MS = 5_000;
/**
 * nginx bounds lingering by time alone. The byte bound here is large on
 * purpose: a client that uploads a 100 MB body and reads only once it has
 * sent it (HTTP stages: an early 413 or 400) must still find the answer;
 * with 4 MiB, the socket was released within about 100 ms and the reset
 * took the answer with it.
 */
export const LINGER_BYTES = 256 * 1024 * 1024;

function ignoreError(): void {}

/**
 * close(2), without losing what was sent: stop taking received bytes, send
 * FIN after what Node still queues, and, while the peer is still sending,
 * linger (see LINGER_TIME_MS) before releasing the socket. With `abort`, a
 * reset at once instead (Node's resetAndDestroy): passing on a reset that
 * cut a stream, so that the peer knows it was cut.
 */
export function socketClose(socket: Socket, abort = false): void {
  // Nobody will take what is still received: let it go with the socket.
  const rx = (socket as WithQueue)[RECEIVED];
  if (rx !== undefined) {
    rx.queue.clear(rx.queue.len);
    socket.off("data", onData);
  }
  // Errors after this point concern nobody, but must not crash the process.
  if (socket.listenerCount("error") === 0) socket.on("error", ignoreError);
  if (socket.destroyed) return;
  if (abort) {
    // Once the shutdown that sends our FIN has gone to libuv, it refuses the
    // reset (uv_tcp_close_reset: EINVAL) and Node leaves the socket open for
    // good. Node hands that shutdown over only when nothing is queued, so
    // then, and only then, a plain close does: the peer already has the
    // whole stream, and the kernel answers what it still sends with a reset.
    if (socket.writableEnded && socket.writableLength === 0) socket.destroy();
    else socket.resetAndDestroy();
    return;
  }
  if (socket.connecting) {
    socket.destroy();
    return;
  }
  const timers: ReturnType<typeof setTimeout>[] = [];
  const release = (): void => {
    for (const t of timers) clearTimeout(t);
    socket.destroy();
  };
  const later = (ms: number): ReturnType<typeof setTimeout> => {
    const t = setTimeout(release, ms);
    t.unref();
    timers.push(t);
    return t;
  };
  socket.once("close", () => timers.forEach((t) => clearTimeout(t)));
  // Our FIN goes out after what Node still queues, within CLOSE_FLUSH_MS.
  const flush = later(CLOSE_FLUSH_MS);
  let idle: ReturnType<typeof setTimeout> | null = null;
  let discarded = 0;
  socket.once("finish", () => {
    clearTimeout(flush);
    // The peer has finished too: done. Else linger, within the bounds.
    if (socket.readableEnded) return release();
    idle = later(LINGER_TIMEOUT_MS);
    later(LINGER_TIME_MS);
  });
  if (!socket.readableEnded) {
    // Read and throw away what the peer still sends, until its FIN.
    socket.on("data", (chunk: Buffer) => {
      discarded += chunk.length;
      if (discarded > LINGER_BYTES) return release();
      if (idle !== null) {
        clearTimeout(idle);
        idle = later(LINGER_TIMEOUT_MS);
      }
    });
    socket.once("end", () => {
      if (socket.writableFinished) release();
    });
    socket.resume();
  }
  socketShutdown(socket);
}
