// The two workloads that are client behaviours rather than load: a client
// that reads a big body slowly, and connections that sit idle. Neither
// generates load, so each is a few lines of Node in the bench process (the
// measured proxy is always another process).
import net from "node:net";
import { rssBytes } from "./proc.ts";

export interface SlowReadResult {
  /** Bytes the clients read, all together. */
  bytesRead: number;
  seconds: number;
  /** The proxy's RSS before the clients connected. */
  rssBefore: number;
  /** The highest RSS sampled (every 100 ms) while the clients read. */
  rssPeak: number;
  rssAfter: number;
  /** Proxy RSS samples, one per 100 ms, in bytes. */
  samples: number[];
  /** The first client error, if any. */
  error: string | null;
}

/**
 * `clients` clients each ask `path` from 127.0.0.1:port and read the answer
 * at `bytesPerSecond` for `seconds`, while the RSS of `pid` is sampled every
 * 100 ms. `beforeEnd` runs just before they let go (the stats line is read
 * then, while every pipe is still full). Each socket is kept in paused mode,
 * so Node stops taking bytes from the kernel once its small buffer is full:
 * the kernel's windows fill and the proxy must hold back.
 */
export function slowRead(
  port: number,
  path: string,
  bytesPerSecond: number,
  seconds: number,
  pid: number,
  clients = 1,
  beforeEnd: () => Promise<void> = async () => undefined,
): Promise<SlowReadResult> {
  return new Promise((resolve) => {
    const rssBefore = rssBytes(pid);
    const samples: number[] = [];
    let bytesRead = 0;
    let error: string | null = null;
    const TICK_MS = 50;
    const readers = Array.from({ length: clients }, () => {
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
      return { socket, tokens: 0 };
    });
    const started = Date.now();
    const take = setInterval(() => {
      for (const r of readers) {
        r.tokens = Math.min(r.tokens + (bytesPerSecond * TICK_MS) / 1000, (bytesPerSecond * TICK_MS * 2) / 1000);
        while (r.tokens >= 1 && r.socket.readableLength > 0) {
          const chunk = r.socket.read(Math.min(Math.floor(r.tokens), r.socket.readableLength)) as Buffer | null;
          if (chunk === null) break;
          bytesRead += chunk.length;
          r.tokens -= chunk.length;
        }
      }
    }, TICK_MS);
    const sample = setInterval(() => samples.push(rssBytes(pid)), 100);
    setTimeout(() => {
      void beforeEnd().finally(() => {
        clearInterval(take);
        clearInterval(sample);
        const rssAfter = rssBytes(pid);
        for (const r of readers) r.socket.destroy();
        resolve({
          bytesRead,
          seconds: (Date.now() - started) / 1000,
          rssBefore,
          rssPeak: Math.max(rssBefore, ...samples, rssAfter),
          rssAfter,
          samples,
          error,
        });
      });
    }, seconds * 1000);
  });
}

export interface EagerCloseResult {
  /** Connections that got a whole answer. */
  connections: number;
  /** Of those, how many ended with a FIN, and how many with a reset (ECONNRESET, EPIPE). */
  clean: number;
  resets: number;
  /** Connections that ended before their whole answer came (reset or not). */
  truncated: number;
}

/**
 * The eager client, again and again for `seconds` on each of
 * `parallel` connections: ask for /small with `Connection: close`, read the
 * whole answer, and write the next request on the same socket at once, as
 * autocannon and any pipelining client may; then see how the connection
 * ends. A proxy that closes while such bytes are still coming resets it.
 */
export function eagerClose(port: number, parallel: number, seconds: number): Promise<EagerCloseResult> {
  const REQUEST = "GET /small HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
  const out: EagerCloseResult = { connections: 0, clean: 0, resets: 0, truncated: 0 };
  const deadline = Date.now() + seconds * 1000;
  const one = (): Promise<void> =>
    new Promise((resolve) => {
      const socket = net.connect({ host: "127.0.0.1", port });
      let got = 0;
      let head = "";
      let whole = false;
      let done = false;
      const finish = (reset: boolean): void => {
        if (done) return;
        done = true;
        clearTimeout(timer);
        if (!whole) out.truncated++;
        else {
          out.connections++;
          if (reset) out.resets++;
          else out.clean++;
        }
        socket.destroy();
        resolve();
      };
      const timer = setTimeout(() => finish(false), 10_000);
      socket.on("error", (err: NodeJS.ErrnoException) => finish(err.code === "ECONNRESET" || err.code === "EPIPE"));
      socket.on("end", () => finish(false));
      socket.once("connect", () => socket.write(REQUEST));
      socket.on("data", (d: Buffer) => {
        if (whole) return;
        got += d.length;
        if (head.length < 4096) head += d.toString("latin1");
        const end = head.indexOf("\r\n\r\n");
        const length = Number(/content-length: *(\d+)/i.exec(head)?.[1] ?? NaN);
        if (end >= 0 && got - end - 4 >= length) {
          whole = true;
          socket.write(REQUEST); // the next request, before the close is read
        }
      });
    });
  const loop = async (): Promise<void> => {
    while (Date.now() < deadline) await one();
  };
  return Promise.all(Array.from({ length: parallel }, loop)).then(() => out);
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
