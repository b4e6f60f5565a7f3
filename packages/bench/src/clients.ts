// The two workloads that are client behaviours rather than load: a client
// that reads a big body slowly, and connections that sit idle. Neither
// generates load, so each is a few lines of Node in the bench process (the
// measured proxy is always another process).
import net from "node:net";
import { rssBytes } from "./proc.ts";

export interface SlowReadResult {
  /** Bytes the client read. */
  bytesRead: number;
  seconds: number;
  /** The proxy's RSS before the client connected. */
  rssBefore: number;
  /** The highest RSS sampled (every 100 ms) while the client read. */
  rssPeak: number;
  rssAfter: number;
  /** Proxy RSS samples, one per 100 ms, in bytes. */
  samples: number[];
  error: string | null;
}

/**
 * Ask `path` from 127.0.0.1:port and read the answer at `bytesPerSecond` for
 * `seconds`, sampling the RSS of `pid` every 100 ms. The socket is kept in
 * paused mode, so Node stops taking bytes from the kernel once its small
 * buffer is full: the kernel's windows fill and the proxy must hold back.
 */
export function slowRead(port: number, path: string, bytesPerSecond: number, seconds: number, pid: number): Promise<SlowReadResult> {
  return new Promise((resolve) => {
    const rssBefore = rssBytes(pid);
    const samples: number[] = [];
    let bytesRead = 0;
    let tokens = 0;
    let error: string | null = null;
    const TICK_MS = 50;
    const socket = net.connect({ host: "127.0.0.1", port });
    socket.on("error", (err) => {
      error ??= err.message;
    });
    socket.on("readable", () => undefined); // paused mode: bytes wait until read()
    socket.on("end", () => {
      error ??= "the proxy ended the response early";
    });
    socket.once("connect", () => {
      socket.write(`GET ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n`);
    });
    const started = Date.now();
    const take = setInterval(() => {
      tokens = Math.min(tokens + (bytesPerSecond * TICK_MS) / 1000, (bytesPerSecond * TICK_MS * 2) / 1000);
      while (tokens >= 1 && socket.readableLength > 0) {
        const chunk = socket.read(Math.min(Math.floor(tokens), socket.readableLength)) as Buffer | null;
        if (chunk === null) break;
        bytesRead += chunk.length;
        tokens -= chunk.length;
      }
    }, TICK_MS);
    const sample = setInterval(() => samples.push(rssBytes(pid)), 100);
    setTimeout(() => {
      clearInterval(take);
      clearInterval(sample);
      const rssAfter = rssBytes(pid);
      socket.destroy();
      resolve({
        bytesRead,
        seconds: (Date.now() - started) / 1000,
        rssBefore,
        rssPeak: Math.max(rssBefore, ...samples, rssAfter),
        rssAfter,
        samples,
        error,
      });
    }, seconds * 1000);
  });
}

/** A set of idle keep-alive connections: each asked for /small once, read its answer, and went quiet. */
export class IdleClients {
  readonly sockets: net.Socket[] = [];
  failures = 0;
  lastError: string | null = null;

  constructor(readonly port: number) {}

  /** Open `n` more, `batch` at a time; resolves once every one has had its answer. */
  async open(n: number, batch = 50): Promise<void> {
    for (let done = 0; done < n; done += batch) {
      const k = Math.min(batch, n - done);
      await Promise.all(Array.from({ length: k }, () => this.openOne()));
    }
  }

  private openOne(): Promise<void> {
    return new Promise((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port: this.port });
      let got = "";
      const timer = setTimeout(() => fail("no answer within 10 s"), 10_000);
      const fail = (why: string): void => {
        clearTimeout(timer);
        this.failures++;
        this.lastError = why;
        socket.destroy();
        resolve();
      };
      socket.on("error", (err) => fail(err.message));
      socket.once("connect", () => socket.write("GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"));
      const onData = (d: Buffer): void => {
        got += d.toString("latin1");
        const head = got.indexOf("\r\n\r\n");
        if (head >= 0 && got.length - head - 4 >= 100) {
          clearTimeout(timer);
          socket.off("data", onData);
          socket.removeAllListeners("error");
          socket.on("error", (err) => {
            this.failures++;
            this.lastError = `an idle connection failed later: ${err.message}`;
          });
          this.sockets.push(socket);
          resolve();
        }
      };
      socket.on("data", onData);
    });
  }

  /** Connections still open (the proxy closed none of them). */
  openCount(): number {
    return this.sockets.filter((s) => !s.destroyed && !s.readableEnded).length;
  }

  closeAll(): void {
    for (const s of this.sockets) s.destroy();
    this.sockets.length = 0;
  }
}
