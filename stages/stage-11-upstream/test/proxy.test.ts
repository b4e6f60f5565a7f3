// Stage 11 milestones, black-box: the stage's server runs as its own process
// on free ports, in front of a real python3 -m http.server (and, for two
// milestones, a small Node upstream), and is spoken to over real TCP.
import { execFile } from "node:child_process";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll } from "vitest";
import {
  TestClient,
  countBytes,
  defineStage,
  describeOutcome,
  expectEcho,
  freePorts,
  httpGet,
  parseResponse,
  randomBytes,
  requestBytes,
  sleep,
  startPythonUpstream,
  type MilestoneContext,
  type RawResponse,
  type StageServer,
} from "@xps/testkit";
import { getSite, removeSite } from "./site.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));
const MiB = 1024 * 1024;
const THRESHOLD = 1_000_000;
afterAll(removeSite);

async function python(t: MilestoneContext, port?: number) {
  const up = await startPythonUpstream(getSite().dir, port);
  t.cleanup(() => up.stop());
  return up;
}

async function proxyFor(t: MilestoneContext, upstreamPort: number): Promise<StageServer> {
  return t.server({ args: ["--upstream", `127.0.0.1:${upstreamPort}`] });
}

/** The response through the proxy must be `expected` (a body, or the upstream's own response). */
function expectBody(t: MilestoneContext, what: string, got: RawResponse, expected: Buffer, statusLine?: string): void {
  const ok = got.body.equals(expected) && (statusLine === undefined || got.statusLine === statusLine) && got.status === 200;
  if (ok) return;
  got.client.destroy();
  t.fail({
    problem: `${what}: the response through the proxy is not what the upstream sent`,
    expected,
    got: got.raw.length === 0 ? got.raw : got.body,
    ending: got.result.outcome === "ended" || got.result.outcome === "complete" ? undefined : describeOutcome(got.result, 10_000, got.client.errorCode),
    notes: [
      got.raw.length === 0
        ? "nothing at all came back (not even a status line)"
        : `status line: ${JSON.stringify(got.statusLine)}${statusLine ? ` (the upstream's: ${JSON.stringify(statusLine)})` : ""}; body compared above`,
    ],
  });
}

async function settledStats(server: StageServer, want: { connections: number; pipes: number }, ms = 3000) {
  const deadline = Date.now() + ms;
  let stats = await server.stats();
  while ((stats.connections !== want.connections || stats.pipes !== want.pipes) && Date.now() < deadline) {
    await sleep(100);
    stats = await server.stats();
  }
  return stats;
}

stage.milestone("m1", async (t) => {
  const site = getSite();
  const up = await python(t);
  const server = await proxyFor(t, up.port);
  const direct = await httpGet(up.port, "/");
  direct.client.destroy();
  if (direct.status !== 200) t.fail(`python's server itself answered ${JSON.stringify(direct.statusLine)} for / (is the test folder readable?)`);
  const listing = await httpGet(server.ports[0]!, "/");
  expectBody(t, "GET / (the directory listing)", listing, direct.body, direct.statusLine);
  for (const name of ["/hello.txt", "/big.bin"]) {
    const got = await httpGet(server.ports[0]!, name, { timeoutMs: 20_000 });
    expectBody(t, `GET ${name} (${countBytes(site.files.get(name)!.length)})`, got, site.files.get(name)!);
  }
});

stage.milestone("m2", async (t) => {
  const site = getSite();
  const up = await python(t);
  const server = await proxyFor(t, up.port);
  const names = [...site.files.keys()].filter((n) => n.startsWith("/files/"));
  // All requests are sent before any response is read; python answers each and closes.
  const results = await Promise.all(names.map((n) => httpGet(server.ports[0]!, n, { timeoutMs: 20_000 })));
  results.forEach((r, i) => expectBody(t, `client ${i + 1} of ${names.length}, GET ${names[i]}`, r, site.files.get(names[i]!)!));
  if (!server.alive()) t.fail("the server exited while serving concurrent clients");
});

stage.milestone("m3", async (t) => {
  const site = getSite();
  const up = await python(t);
  const server = await proxyFor(t, up.port);
  const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "xps-curl-")), "big.bin");
  t.cleanup(() => fs.rmSync(path.dirname(out), { recursive: true, force: true }));
  const url = `http://127.0.0.1:${server.ports[0]}/big.bin`;
  let code = "";
  try {
    ({ stdout: code } = await promisify(execFile)("curl", ["-s", "--max-time", "20", "-o", out, "-w", "%{http_code}", url]));
  } catch (err) {
    const e = err as { code?: string | number; stdout?: string };
    t.fail(
      e.code === "ENOENT"
        ? "curl is not installed (apt-get install curl)"
        : `curl -s ${url} failed (curl exit code ${e.code}; 52 = empty reply, 56 = connection reset, 28 = timed out)`,
    );
  }
  const got = fs.existsSync(out) ? fs.readFileSync(out) : Buffer.alloc(0);
  if (code !== "200" || !got.equals(site.files.get("/big.bin")!)) {
    t.fail({ problem: `curl -s ${url} got HTTP status ${code || "(none)"} and a file that differs from the upstream's`, expected: site.files.get("/big.bin")!, got });
  }
});

stage.milestone("m4", async (t) => {
  const [deadPort] = await freePorts(1);
  const server = await proxyFor(t, deadPort!);
  const warning = await server.waitForLine(new RegExp(`nothing is listening on 127\\.0\\.0\\.1:${deadPort}`), 3000, true);
  if (warning === null) t.fail(`with no upstream on 127.0.0.1:${deadPort}, the server did not say so at start-up`);
  const started = Date.now();
  const r = await httpGet(server.ports[0]!, "/", { timeoutMs: 3000 });
  r.client.destroy();
  const took = Date.now() - started;
  if (r.result.outcome === "timeout" || took > 2000) {
    t.fail(`with the upstream down, a client of the proxy port was left waiting ${took} ms; it should be closed (or reset) at once`);
  }
  if (r.raw.length > 0) t.fail({ problem: "with the upstream down the proxy sent the client bytes; it should send nothing and close", got: r.raw });
  if (!server.alive()) t.fail("the server exited when the upstream refused a connection");
  (await expectEcho(t, server.ports[1]!, randomBytes(100_000), { what: "the echo port, while the upstream is down" })).destroy();
  // Now an upstream comes up where the proxy points: the next request works.
  await python(t, deadPort);
  const direct = await httpGet(deadPort!, "/");
  direct.client.destroy();
  const after = await httpGet(server.ports[0]!, "/");
  expectBody(t, "GET / once the upstream is up", after, direct.body, direct.statusLine);
});

stage.milestone("m5", async (t) => {
  const site = getSite();
  const up = await python(t);
  const server = await proxyFor(t, up.port);
  const client = await TestClient.connect(server.ports[0]!);
  t.cleanup(() => client.destroy());
  await client.send(requestBytes("/huge.bin"));
  const first = await client.waitForBytes(2 * MiB, 10_000);
  if (first.outcome !== "complete") {
    t.fail({ problem: "GET /huge.bin through the proxy did not even deliver its first 2 MiB", got: client.bytes(), ending: describeOutcome(first, 10_000, client.errorCode) });
  }
  client.socket.pause(); // python fills every buffer on the way and blocks
  await sleep(300);
  up.child.kill("SIGKILL"); // the upstream dies mid-response
  await sleep(200);
  client.socket.resume();
  const end = await client.waitForEnd(5000);
  if (end.outcome === "timeout") t.fail("after the upstream died mid-response, the client's connection stayed open for 5 s; it should be closed once what was sent has arrived");
  client.destroy(); // like curl or a browser, the client closes once the server has

  const parsed = parseResponse(client.bytes());
  if (parsed === null || parsed.status !== 200) return t.fail({ problem: "the response that arrived has no HTTP 200 status line", got: client.bytes() });
  const body = parsed.body;
  const bad = site.huge.mismatch(0, body);
  if (bad >= 0) t.fail(`the client received ${countBytes(body.length)} of /huge.bin, but they differ from the file at byte ${bad.toLocaleString("en-US")}`);
  if (body.length >= site.hugeSize) t.fail("the whole file arrived although the upstream was killed mid-response (the test could not stop it in time)");
  if (!server.alive()) t.fail("the server exited when its upstream died");
  const stats = await settledStats(server, { connections: 0, pipes: 0 });
  if (stats.connections !== 0 || stats.pipes !== 0) t.fail(`after the upstream died and the client left, the server still holds ${stats.connections} connection(s) and ${stats.pipes} pipe(s)`);
});

stage.milestone("m6", async (t) => {
  const up = await python(t);
  const server = await proxyFor(t, up.port);
  const before = await server.stats();
  const client = await TestClient.connect(server.ports[0]!, { keep: false });
  await client.send(requestBytes("/huge.bin"));
  const r = await client.waitForBytes(1 * MiB, 10_000);
  if (r.outcome !== "complete") t.fail({ problem: "GET /huge.bin through the proxy did not deliver its first MiB", ending: describeOutcome(r, 10_000, client.errorCode) });
  const during = await server.stats();
  if (during.connections !== 2) t.fail(`while one client downloads through the proxy the server should hold 2 connections (client and upstream); it holds ${during.connections}`);
  client.destroy(); // the client leaves mid-download
  const after = await settledStats(server, { connections: before.connections, pipes: before.pipes });
  if (after.connections !== before.connections || after.pipes !== before.pipes) {
    t.fail(`after the client left mid-download the server holds ${after.connections} connection(s) and ${after.pipes} pipe(s), not ${before.connections} and ${before.pipes}: the upstream connection was not closed`);
  }
  let sockets = server.socketCount();
  for (let i = 0; i < 20 && sockets > 4; i++) {
    await sleep(100);
    sockets = server.socketCount();
  }
  if (sockets > 4) {
    const open = server.tcpSockets().filter((s) => s.state !== "LISTEN").map((s) => `${s.local} -> ${s.remote} ${s.state}`);
    t.fail(`the server process still has ${sockets} TCP sockets open; only its 4 listeners should be left (others: ${open.join(", ")})`);
  }
});

stage.milestone("m7", async (t) => {
  const site = getSite();
  const up = await python(t);
  const server = await proxyFor(t, up.port);
  const proxied = httpGet(server.ports[0]!, "/big.bin", { timeoutMs: 20_000 });
  const echoes = server.ports.slice(1).map(async (port) => {
    for (let i = 0; i < 3; i++) (await expectEcho(t, port, randomBytes(700_000), { what: `port ${port} (echo)` })).destroy();
  });
  await Promise.all(echoes);
  expectBody(t, "GET /big.bin while the other ports echo", await proxied, site.files.get("/big.bin")!);
});

stage.milestone(
  "m8",
  async (t) => {
    const site = getSite();
    const up = await python(t);
    const server = await proxyFor(t, up.port);
    (await httpGet(server.ports[0]!, "/hello.txt")).client.destroy(); // warm up the code paths
    await sleep(300);
    const baseline = server.rssBytes();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, server.rssBytes())), 50);
    t.cleanup(() => clearInterval(sampler));

    const client = await TestClient.connect(server.ports[0]!, { keep: false });
    t.cleanup(() => client.destroy());
    let head = Buffer.alloc(0);
    let bodyAt = -1;
    let bad = -1;
    client.onData = (chunk) => {
      if (bodyAt < 0) {
        head = Buffer.concat([head, chunk]);
        const end = head.indexOf("\r\n\r\n");
        if (end < 0) return;
        chunk = head.subarray(end + 4);
        bodyAt = 0;
      }
      if (bad < 0) {
        const m = site.huge.mismatch(bodyAt, chunk);
        if (m >= 0) bad = bodyAt + m;
      }
      bodyAt += chunk.length;
    };
    client.socket.pause();
    await client.send(requestBytes("/huge.bin"));
    // Read slowly: one turn's worth of data every 4 ms.
    const reader = setInterval(() => {
      client.socket.resume();
      setImmediate(() => client.socket.pause());
    }, 4);
    t.cleanup(() => clearInterval(reader));
    const r = await client.waitForEnd(90_000);
    clearInterval(reader);
    clearInterval(sampler);
    if (bodyAt !== site.hugeSize || bad >= 0) {
      t.fail({
        problem: `a slow reader got ${countBytes(Math.max(0, bodyAt))} of /huge.bin's ${countBytes(site.hugeSize)}${bad >= 0 ? `, differing from the file at byte ${bad.toLocaleString("en-US")}` : ""}`,
        ending: describeOutcome(r, 90_000, client.errorCode),
      });
    }
    const growth = peak - baseline;
    const bound = 2 * THRESHOLD + 48 * MiB;
    if (growth > bound) {
      t.fail(
        `while a slow client downloaded 64 MiB the server's memory grew by ${(growth / MiB).toFixed(1)} MiB ` +
          `(bound: two pipe thresholds + 48 MiB = ${(bound / MiB).toFixed(1)} MiB): the response pipe must stop reading the upstream when full`,
      );
    }
  },
  { timeout: 120_000 },
);

stage.milestone("m9", async (t) => {
  // A Node upstream that keeps every connection open between requests.
  const upstream = http.createServer((req, res) => {
    res.setHeader("Content-Type", "text/plain");
    res.end(`you asked for ${req.url}\n`);
  });
  upstream.keepAliveTimeout = 60_000;
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  t.cleanup(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  const upPort = (upstream.address() as net.AddressInfo).port;
  const server = await proxyFor(t, upPort);
  const holder = await TestClient.connect(server.ports[0]!);
  t.cleanup(() => holder.destroy());
  const first = await httpGet(server.ports[0]!, "/first", { keepAlive: true, client: holder, timeoutMs: 3000 });
  if (first.result.outcome !== "complete" || !first.body.equals(Buffer.from("you asked for /first\n"))) {
    t.fail({ problem: "a keep-alive request through the proxy did not get its response", expected: Buffer.from("you asked for /first\n"), got: first.raw, ending: describeOutcome(first.result, 3000, holder.errorCode) });
  }
  // The holder now sits idle on its open connection. Everyone else must be served at once.
  for (let i = 0; i < 5; i++) {
    const started = Date.now();
    const r = await httpGet(server.ports[0]!, `/other-${i}`, { timeoutMs: 3000 });
    r.client.destroy();
    const want = Buffer.from(`you asked for /other-${i}\n`);
    if (!r.body.equals(want) || Date.now() - started > 1000) {
      t.fail({ problem: `while one keep-alive client sat idle, another request took ${Date.now() - started} ms or failed`, expected: want, got: r.raw, ending: describeOutcome(r.result, 3000, r.client.errorCode) });
    }
  }
  const started = Date.now();
  (await expectEcho(t, server.ports[1]!, randomBytes(50_000), { what: "the echo port, beside an idle keep-alive client", timeoutMs: 1000 })).destroy();
  if (Date.now() - started > 1000) t.fail("the echo port was slow beside an idle keep-alive client");
  const second = await httpGet(server.ports[0]!, "/second", { keepAlive: true, client: holder, timeoutMs: 3000 });
  if (!second.body.equals(Buffer.from("you asked for /second\n"))) {
    t.fail({ problem: "the idle keep-alive connection no longer works for a second request", expected: Buffer.from("you asked for /second\n"), got: second.raw });
  }
});
