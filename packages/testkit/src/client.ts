// A TCP client for black-box tests: it records what arrives and how the
// connection ended, and never throws on a reset (a reset is a result).
import { randomBytes as cryptoRandomBytes } from "node:crypto";
import net from "node:net";

export type Ending = "open" | "ended" | "closed" | "reset" | "error";

export interface WaitResult {
  /** "complete" when the wanted bytes arrived. */
  outcome: "complete" | "ended" | "closed" | "reset" | "error" | "timeout";
  received: number;
}

export class TestClient {
  readonly socket: net.Socket;
  readonly port: number;
  private chunks: Buffer[] = [];
  received = 0;
  ending: Ending = "open";
  errorCode: string | null = null;
  /** Keep the bytes (false: count them and hand them to onData only). */
  keep: boolean;
  onData: ((chunk: Buffer) => void) | null = null;
  private waiters = new Set<() => void>();

  private constructor(socket: net.Socket, port: number, keep: boolean) {
    this.socket = socket;
    this.port = port;
    this.keep = keep;
    socket.on("data", (chunk: Buffer) => {
      this.received += chunk.length;
      if (this.keep) this.chunks.push(chunk);
      this.onData?.(chunk);
      this.wake();
    });
    socket.on("end", () => {
      if (this.ending === "open") this.ending = "ended";
      this.wake();
    });
    socket.on("error", (err: NodeJS.ErrnoException) => {
      this.errorCode = err.code ?? err.message;
      this.ending = err.code === "ECONNRESET" || err.code === "EPIPE" ? "reset" : "error";
      this.wake();
    });
    socket.on("close", () => {
      if (this.ending === "open" || this.ending === "ended") this.ending = this.ending === "ended" ? "ended" : "closed";
      this.wake();
    });
  }

  /** Connect (allowHalfOpen, so a FIN from the server is seen as "ended" while we may still write). */
  static connect(port: number, opts: { host?: string; keep?: boolean; timeoutMs?: number } = {}): Promise<TestClient> {
    const host = opts.host ?? "127.0.0.1";
    return new Promise((resolve, reject) => {
      const socket = net.connect({ host, port, allowHalfOpen: true });
      const timer = setTimeout(() => {
        socket.destroy();
        reject(new Error(`could not connect to ${host}:${port} within ${opts.timeoutMs ?? 3000} ms`));
      }, opts.timeoutMs ?? 3000);
      socket.once("connect", () => {
        clearTimeout(timer);
        resolve(new TestClient(socket, port, opts.keep ?? true));
      });
      socket.once("error", (err) => {
        clearTimeout(timer);
        reject(new Error(`could not connect to ${host}:${port}: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      });
    });
  }

  private wake(): void {
    for (const w of [...this.waiters]) w();
  }

  /** Everything received so far (when keep is on). */
  bytes(): Buffer {
    if (this.chunks.length > 1) this.chunks = [Buffer.concat(this.chunks)];
    return this.chunks[0] ?? Buffer.alloc(0);
  }

  /** Write, waiting for 'drain' when the socket asks for it. Resolves false if the connection broke. */
  async send(data: Buffer | string): Promise<boolean> {
    if (this.socket.destroyed || this.socket.writableEnded) return false;
    const ok = this.socket.write(data);
    if (ok) return true;
    return new Promise((resolve) => {
      const done = (v: boolean): void => {
        this.socket.off("drain", onDrain);
        this.socket.off("close", onClose);
        resolve(v);
      };
      const onDrain = (): void => done(true);
      const onClose = (): void => done(false);
      this.socket.once("drain", onDrain);
      this.socket.once("close", onClose);
    });
  }

  /**
   * Send `data` in `chunk`-byte writes, giving up when one write has waited `stallMs` for the
   * socket to drain: a server that stops reading makes the test fail with what was sent,
   * instead of hanging until vitest's timeout.
   */
  async sendAll(data: Buffer, chunk: number, stallMs: number): Promise<{ outcome: "complete" | "stalled" | "closed"; sent: number }> {
    let sent = 0;
    while (sent < data.length) {
      let timer: NodeJS.Timeout | undefined;
      const stalled = new Promise<"stalled">((r) => (timer = setTimeout(() => r("stalled"), stallMs)));
      const piece = data.subarray(sent, sent + chunk);
      const ok = await Promise.race([this.send(piece), stalled]);
      clearTimeout(timer);
      if (ok === "stalled") return { outcome: "stalled", sent };
      if (!ok) return { outcome: "closed", sent };
      sent += piece.length;
    }
    return { outcome: "complete", sent };
  }

  /** Half-close: we send nothing more, but keep reading. */
  end(): void {
    this.socket.end();
  }

  /** Abort with a TCP reset. */
  reset(): void {
    this.socket.resetAndDestroy();
  }

  destroy(): void {
    this.socket.destroy();
  }

  /**
   * Wait until `n` bytes in total have arrived, the connection ends, or the time is up; with
   * `stallMs`, also give up as soon as nothing has arrived for that long.
   */
  waitForBytes(n: number, timeoutMs: number, stallMs?: number): Promise<WaitResult> {
    return this.waitUntil(() => this.received >= n, timeoutMs, "complete", stallMs);
  }

  /** Wait for the server to end or close the connection. */
  waitForEnd(timeoutMs: number): Promise<WaitResult> {
    return this.waitUntil(() => this.ending !== "open", timeoutMs, null);
  }

  private waitUntil(done: () => boolean, timeoutMs: number, success: "complete" | null, stallMs?: number): Promise<WaitResult> {
    return new Promise((resolve) => {
      let stall: NodeJS.Timeout | undefined;
      let seen = this.received;
      const arm = (): void => {
        if (stallMs === undefined) return;
        clearTimeout(stall);
        stall = setTimeout(() => finish("timeout"), stallMs);
      };
      const check = (): boolean => {
        if (success !== null && done()) {
          finish("complete");
          return true;
        }
        if (this.ending !== "open") {
          finish(this.ending === "ended" ? "ended" : this.ending);
          return true;
        }
        return false;
      };
      const finish = (outcome: WaitResult["outcome"]): void => {
        clearTimeout(timer);
        clearTimeout(stall);
        this.waiters.delete(waiter);
        resolve({ outcome, received: this.received });
      };
      const waiter = (): void => {
        if (check()) return;
        if (this.received !== seen) {
          seen = this.received;
          arm();
        }
      };
      const timer = setTimeout(() => finish("timeout"), timeoutMs);
      this.waiters.add(waiter);
      if (!check()) arm();
    });
  }
}

/** How an exchange ended, in words for a failure message. */
export function describeOutcome(r: WaitResult, timeoutMs: number, code?: string | null): string {
  switch (r.outcome) {
    case "complete":
      return "everything arrived";
    case "ended":
      return "the server closed the connection (FIN)";
    case "closed":
      return "the connection closed";
    case "reset":
      return `the server reset the connection${code ? ` (${code})` : ""}`;
    case "error":
      return `the connection failed${code ? ` (${code})` : ""}`;
    case "timeout":
      return `nothing more arrived within ${(timeoutMs / 1000).toFixed(1)} s`;
  }
}

/** Deterministic test data: byte i is block[i % block.length] of a seeded random block. */
export class Pattern {
  readonly block: Buffer;

  constructor(seed: number, blockSize = 65_521) {
    this.block = Buffer.allocUnsafe(blockSize);
    let x = seed >>> 0 || 1;
    for (let i = 0; i < blockSize; i++) {
      x ^= x << 13;
      x ^= x >>> 17;
      x ^= x << 5;
      this.block[i] = x & 0xff;
    }
  }

  /** `len` bytes of the pattern starting at `offset`. */
  slice(offset: number, len: number): Buffer {
    const out = Buffer.allocUnsafe(len);
    let filled = 0;
    let pos = offset % this.block.length;
    while (filled < len) {
      const n = Math.min(len - filled, this.block.length - pos);
      this.block.copy(out, filled, pos, pos + n);
      filled += n;
      pos = 0;
    }
    return out;
  }

  /** Index of the first byte of `chunk` (which should be pattern bytes from `offset`) that differs, or -1. */
  mismatch(offset: number, chunk: Buffer): number {
    let pos = offset % this.block.length;
    let i = 0;
    while (i < chunk.length) {
      const n = Math.min(chunk.length - i, this.block.length - pos);
      if (chunk.compare(this.block, pos, pos + n, i, i + n) !== 0) {
        for (let j = 0; j < n; j++) if (chunk[i + j] !== this.block[pos + j]) return i + j;
      }
      i += n;
      pos = 0;
    }
    return -1;
  }
}

/** Random printable text of `len` bytes ending in a newline, as netcat would send. */
export function randomText(len: number): Buffer {
  const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789 ";
  const out = Buffer.allocUnsafe(len);
  for (let i = 0; i < len - 1; i++) out[i] = alphabet.charCodeAt(Math.floor(Math.random() * alphabet.length));
  if (len > 0) out[len - 1] = 0x0a;
  return out;
}

export function randomBytes(len: number): Buffer {
  return cryptoRandomBytes(len);
}

export const sleep = (ms: number): Promise<void> => new Promise((r) => setTimeout(r, ms));
