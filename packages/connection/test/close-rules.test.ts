// The connection close rules of the reference, in-process: a real core, real
// listeners and sockets on loopback, and the counts the core keeps. Echo goes
// through a route (stages 10 to 12, routeListener); the proxy through the
// server's own listeners and their sessions (stage 13 on).
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, expect, test } from "vitest";
import { captureLog } from "@xps/utils";
import { coreCreate, coreStats, type Core } from "@xps/core/core";
import { echo } from "../src/routes.ts";
import { serverStart, serverStop } from "../src/server.ts";
import type { ConnectionHandler } from "../src/listener.ts";
import type { Backend } from "../src/session.ts";
import { routeListener } from "./route-listener.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
let core: Core;
let log: string[];
let restoreLog: () => void;
let closers: (() => void)[] = [];

beforeEach(() => {
  ({ lines: log, restore: restoreLog } = captureLog());
  core = coreCreate();
});
afterEach(() => {
  for (const close of closers) close();
  closers = [];
  serverStop(core);
  restoreLog();
});

async function listen(handler: ConnectionHandler): Promise<number> {
  const { port, close } = await routeListener(core, handler);
  closers.push(close);
  return port;
}

async function listenBackend(backend: Backend): Promise<number> {
  const probe = net.createServer();
  await new Promise<void>((r) => probe.listen(0, "127.0.0.1", () => r()));
  const port = (probe.address() as net.AddressInfo).port;
  await new Promise<void>((r) => probe.close(() => r()));
  const started = await serverStart(core, "127.0.0.1", [{ port, backend }]);
  expect(started).not.toBeNull();
  return port;
}

/** Send `data`, optionally half-close, and collect everything until the server ends the stream. */
function talk(port: number, data: Buffer | string, halfClose = false): Promise<{ got: Buffer; how: string }> {
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    const s = net.connect({ port, host: "127.0.0.1", allowHalfOpen: true });
    s.on("data", (c) => chunks.push(c));
    s.on("end", () => {
      s.destroy();
      resolve({ got: Buffer.concat(chunks), how: "end" });
    });
    s.on("error", (e: NodeJS.ErrnoException) => resolve({ got: Buffer.concat(chunks), how: e.code ?? "error" }));
    s.on("connect", () => {
      s.write(data);
      if (halfClose) s.end();
    });
  });
}

async function settled(): Promise<ReturnType<typeof coreStats>> {
  for (let i = 0; i < 50; i++) {
    const s = coreStats(core);
    if (s.connections === 0 && s.pipes === 0 && s.sessions === 0) return s;
    await sleep(20);
  }
  return coreStats(core);
}

async function upstreamServer(onConnection: (s: net.Socket) => void): Promise<{ port: number; close: () => void }> {
  const server = net.createServer({ allowHalfOpen: true }, onConnection);
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  return { port: (server.address() as net.AddressInfo).port, close: () => server.close() };
}

test("echo: a half-closed client gets every byte, then a FIN; nothing is left behind", async () => {
  const port = await listen(echo);
  const payload = Buffer.alloc(3_000_000, 7);
  const r = await talk(port, payload, true);
  expect(r.how).toBe("end");
  expect(r.got.equals(payload)).toBe(true);
  expect(await settled()).toMatchObject({ connections: 0, pipes: 0, sessions: 0 });
});

test("proxy: the upstream answers and closes; the client gets it all and is closed", async () => {
  const body = Buffer.alloc(2_500_000, 9);
  const up = await upstreamServer((s) => {
    s.once("data", () => s.end(body));
  });
  const port = await listenBackend({ upstream: { host: "127.0.0.1", port: up.port } });
  const r = await talk(port, "GET / HTTP/1.0\r\n\r\n");
  expect(r.how).toBe("end");
  expect(r.got.equals(body)).toBe(true);
  expect(await settled()).toMatchObject({ connections: 0, pipes: 0, sessions: 0 });
  up.close();
});

test("proxy: a client that resets mid-download takes its upstream connection with it", async () => {
  let upstreamClosed = false;
  const up = await upstreamServer((s) => {
    s.on("error", () => {});
    s.on("close", () => (upstreamClosed = true));
    const chunk = Buffer.alloc(64 * 1024);
    const pump = (): void => {
      while (s.writable && s.write(chunk));
      if (s.writable) s.once("drain", pump);
    };
    s.once("data", pump);
  });
  const port = await listenBackend({ upstream: { host: "127.0.0.1", port: up.port } });
  const client = net.connect(port, "127.0.0.1");
  client.on("error", () => {});
  client.write("GET /big HTTP/1.0\r\n\r\n");
  await new Promise<void>((r) => client.once("data", () => r()));
  expect(coreStats(core).connections).toBe(2);
  client.resetAndDestroy();
  expect(await settled()).toMatchObject({ connections: 0, pipes: 0, sessions: 0 });
  // The upstream's side closes once the reset reaches it; on a busy machine
  // that can take longer than a few milliseconds.
  for (let waited = 0; !upstreamClosed && waited < 5000; waited += 50) await sleep(50);
  expect(upstreamClosed).toBe(true);
  up.close();
});

test("proxy: an upstream that refuses closes the client promptly, with a clear error", async () => {
  const dead = await upstreamServer(() => {});
  dead.close(); // nothing listens on this port any more
  await sleep(20);
  const port = await listenBackend({ upstream: { host: "127.0.0.1", port: dead.port } });
  const started = Date.now();
  const r = await talk(port, "GET / HTTP/1.0\r\n\r\n");
  expect(Date.now() - started).toBeLessThan(1000);
  expect(r.got.length).toBe(0);
  expect(["end", "ECONNRESET"]).toContain(r.how);
  expect(log.some((l) => l.includes("ECONNREFUSED") && l.includes("python3 -m http.server"))).toBe(true);
  expect(await settled()).toMatchObject({ connections: 0, pipes: 0, sessions: 0 });
});

test("a handler that throws costs its own client only", async () => {
  let n = 0;
  const port = await listen((client, listener) => {
    if (n++ === 0) throw new Error("bug in a route");
    echo(client, listener);
  });
  const first = await talk(port, "one", true);
  expect(first.got.length).toBe(0);
  const second = await talk(port, "two", true);
  expect(second.got.toString()).toBe("two");
  expect(log.some((l) => l.includes("bug in a route") && l.startsWith("[ERROR]"))).toBe(true);
  expect(await settled()).toMatchObject({ connections: 0, pipes: 0, sessions: 0 });
});

test("a session that cannot be made costs its own client only", async () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xps-close-rules-"));
  const file = path.join(dir, "hello.txt");
  try {
    const port = await listenBackend({ file, publicDir: dir });
    const first = await talk(port, "");
    expect(first.got.length).toBe(0);
    expect(log.some((l) => l.startsWith("[ERROR]") && l.includes("sessionCreate() failed"))).toBe(true);
    fs.writeFileSync(file, "hello\n");
    fs.chmodSync(file, 0o644);
    const second = await talk(port, "");
    expect(second.got.toString()).toBe("hello\n");
    expect(await settled()).toMatchObject({ connections: 0, pipes: 0, sessions: 0 });
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
});
