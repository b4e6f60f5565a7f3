// The system calls of the C course, as Node offers them on a net.Socket.
//
//   C                         here                Node underneath
//   recv(fd, buf, n, 0)       socketRecv(s, n)    socket.read(k) in paused mode
//     > 0 bytes                 a Buffer            bytes libuv already read
//     -1, errno EAGAIN          E_AGAIN             nothing buffered yet
//     0 (peer closed)           E_EOF               the stream has ended
//   send(fd, buf, n, ...)     socketSend(s, buf)  socket.write(buf)
//     n (all taken)             true                below the write high-water mark
//     -1, errno EAGAIN          false               above it: wait for 'drain'
//   shutdown(fd, SHUT_WR)     socketShutdown(s)   socket.end()
//   close(fd)                 socketClose(s)      socket.destroy(), after a flush
//
// Two differences matter. Node's write never refuses bytes: a false return
// means "stop for now", and the bytes are already queued. And Node's read
// returns null when asked for more bytes than it holds, so socketRecv asks
// for at most what is there.
import type { Socket } from "node:net";
import { E_AGAIN, E_EOF } from "@xps/utils";

/**
 * How many bytes Node itself buffers per socket and direction before it stops
 * reading from the kernel, or before write() asks us to wait (the stream
 * high-water marks; think SO_RCVBUF and SO_SNDBUF). Node's default, 16 KiB,
 * would make it stop and restart reading for every 64 KiB that libuv reads;
 * at 256 KiB a busy socket is read in large batches, and the pipe threshold
 * still bounds what the server holds.
 */
export const SOCKET_HIGH_WATER_MARK = 256 * 1024;

/**
 * The options every socket of the server is made with, accepted or dialled:
 * allowHalfOpen (a FIN ends only the peer's direction; the close rules decide
 * the rest), noDelay (send small replies at once, as nginx does), and the
 * high-water mark above.
 */
export const SOCKET_OPTIONS = { allowHalfOpen: true, noDelay: true, highWaterMark: SOCKET_HIGH_WATER_MARK } as const;

/**
 * libuv reads a socket in chunks of up to 64 KiB, and Node keeps them as they
 * came. A read that spans two chunks makes Node copy both into a new buffer,
 * so socketRecv takes at most the first chunk Node holds: like recv(), it may
 * return fewer bytes than `max`. The chunk's size comes from
 * readable.readableBuffer, a getter Node has long had but does not document;
 * where it is missing, socketRecv asks for at most RECV_CHUNK bytes.
 */
export const RECV_CHUNK = 64 * 1024;

interface StreamInternals {
  readableBuffer?: unknown;
  _readableState?: { bufferIndex?: number };
}

/** Bytes in the first chunk Node holds for this socket (RECV_CHUNK when it cannot tell). */
function firstChunkLength(socket: Socket): number {
  const s = socket as unknown as StreamInternals;
  const buffer = s.readableBuffer;
  if (Array.isArray(buffer)) {
    // Node 20.13+ and 22: an array whose consumed slots are null.
    const start = s._readableState?.bufferIndex ?? 0;
    for (let i = start; i < buffer.length; i++) {
      const chunk = buffer[i] as Buffer | null;
      if (chunk) return chunk.length;
    }
  } else if (buffer && typeof buffer === "object" && "head" in buffer) {
    // Older Node: a linked list.
    const head = (buffer as { head: { data: Buffer } | null }).head;
    if (head) return head.data.length;
  }
  return RECV_CHUNK;
}

/**
 * Read at most `max` bytes (max > 0). Returns the bytes, E_AGAIN when none are
 * there yet (the socket says 'readable' when some arrive), or E_EOF when the
 * peer has finished sending.
 */
export function socketRecv(socket: Socket, max: number): Buffer | typeof E_AGAIN | typeof E_EOF {
  const available = socket.readableLength;
  if (available === 0) {
    if (socket.readableEnded) return E_EOF;
    // Nothing buffered: this read() returns null and asks Node to tell us
    // ('readable' or 'end') when that changes. That is the edge we wait for.
    socket.read();
    return E_AGAIN;
  }
  const chunk: Buffer | null = socket.read(Math.min(available, max, firstChunkLength(socket)));
  return chunk ?? E_AGAIN;
}

/** Hand bytes to the socket. False means "the send queue is full: wait for 'drain'". */
export function socketSend(socket: Socket, bytes: Buffer): boolean {
  return socket.write(bytes);
}

/** Tell the peer we will send nothing more (a FIN), after what is queued. */
export function socketShutdown(socket: Socket): void {
  if (!socket.writableEnded && !socket.destroyed) socket.end();
}

/** How long a closing socket may take to flush what Node still queues for it. */
export const CLOSE_FLUSH_MS = 10_000;

function ignoreError(): void {}

/**
 * close(2): let the peer have what was already sent, then release the socket.
 * Bytes still queued inside Node (not yet in the kernel) are flushed first,
 * for at most CLOSE_FLUSH_MS, so closing behaves like C's close(), which
 * leaves sent bytes to the kernel.
 */
export function socketClose(socket: Socket): void {
  // Errors after this point concern nobody, but must not crash the process.
  if (socket.listenerCount("error") === 0) socket.on("error", ignoreError);
  if (socket.destroyed) return;
  if (socket.writableLength === 0 || socket.connecting) {
    socket.destroy();
    return;
  }
  const timer = setTimeout(() => socket.destroy(), CLOSE_FLUSH_MS);
  timer.unref();
  const done = (): void => {
    clearTimeout(timer);
    socket.destroy();
  };
  socket.once("finish", done);
  socket.once("close", () => clearTimeout(timer));
  socketShutdown(socket);
}
