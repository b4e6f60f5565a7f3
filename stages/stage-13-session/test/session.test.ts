// Stage 13 milestones, black-box: the stage's server runs as its own process
// on free ports, in front of a real python3 -m http.server (and, for one
// milestone, a small Node upstream), and every client goes through a session.
import crypto from "node:crypto";
import fs from "node:fs";
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { afterAll } from "vitest";
import {
  TestClient,
  countBytes,
  defineStage,
  describeOutcome,
  freePorts,
  httpGet,
  parseResponse,
  requestBytes,
  sleep,
  startPythonUpstream,
  statsUntil,
  type MilestoneContext,
  type RawResponse,
  type SessionStats,
  type StageServer,
} from "@xps/testkit";
import { HUGE, HUGE_SIZE, MiB, REPO_PUBLIC, THRESHOLD, getSite, removeSite } from "./site.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));
afterAll(removeSite);

async function python(t: MilestoneContext, port?: number) {
  const up = await startPythonUpstream(getSite().upstream, port);
  t.cleanup(() => up.stop());
  return up;
}

function serve(t: MilestoneContext, opts: { upstream?: number; publicDir?: string } = {}): Promise<StageServer> {
  const args = ["--public", opts.publicDir ?? REPO_PUBLIC];
  if (opts.upstream !== undefined) args.push("--upstream", `127.0.0.1:${opts.upstream}`);
  return t.server({ args });
}

const zeroed = (s: SessionStats): boolean => s.sessions === 0 && s.connections === 0 && s.pipes === 0;

/** Connect to `port` and read until the server ends the connection (or `ms` pass). */
async function fetchAll(port: number, ms = 3000): Promise<{ client: TestClient; got: Buffer; outcome: string }> {
  const client = await TestClient.connect(port);
  const r = await client.waitForEnd(ms);
  client.destroy();
  return { client, got: client.bytes(), outcome: r.outcome };
}

function expectFile(t: MilestoneContext, what: string, r: { client: TestClient; got: Buffer; outcome: string }, want: Buffer, ms = 3000): void {
  if (r.got.equals(want) && r.outcome === "ended") return;
  t.fail({
    problem: `${what}: the client did not get the file, then a close`,
    expected: want,
    got: r.got,
    ending: r.outcome === "ended" ? "the server closed the connection" : describeOutcome({ outcome: r.outcome as never, received: r.got.length }, ms, r.client.errorCode),
    notes: r.outcome === "timeout" && r.got.length > 0 ? ["the file stopped part-way: does every buffer the session hands on make the next one possible (the ready flags)?"] : [],
  });
}

/** Status line, every header but Date, and the body must be python's. */
function sameResponse(t: MilestoneContext, what: string, got: RawResponse, want: RawResponse): void {
  const headers = (r: RawResponse): string => JSON.stringify([...r.headers].filter(([k]) => k !== "date").sort());
  const problems: string[] = [];
  if (got.statusLine !== want.statusLine) problems.push(`status line ${JSON.stringify(got.statusLine)}, python's ${JSON.stringify(want.statusLine)}`);
  if (headers(got) !== headers(want)) problems.push(`headers ${headers(got)}, python's ${headers(want)}`);
  if (!got.body.equals(want.body)) problems.push(`a body of ${countBytes(got.body.length)}, python's ${countBytes(want.body.length)}`);
  if (problems.length === 0) return;
  t.fail({
    problem: `${what} through the first port is not what python returns`,
    expected: want.body,
    got: got.raw.length === 0 ? got.raw : got.body,
    ending: got.result.outcome === "ended" || got.result.outcome === "complete" ? undefined : describeOutcome(got.result, 10_000, got.client.errorCode),
    notes: problems,
  });
}

stage.milestone("m1", async (t: MilestoneContext) => {
  const up = await python(t);
  const server = await serve(t, { upstream: up.port });
  const names = ["/", "/hello.txt", "/big.bin"];
  const direct = await Promise.all(names.map((n) => httpGet(up.port, n, { timeoutMs: 10_000 })));
  for (const d of direct) d.client.destroy();
  const proxied = await Promise.all(names.map((n) => httpGet(server.ports[0]!, n, { timeoutMs: 10_000 })));
  proxied.forEach((p, i) => {
    p.client.destroy();
    sameResponse(t, `GET ${names[i]} (one of three at once)`, p, direct[i]!);
    if (p.result.outcome !== "ended") t.fail(`GET ${names[i]}: after the response the client's connection was not closed (${describeOutcome(p.result, 10_000, p.client.errorCode)})`);
  });
  if (!server.alive()) t.fail("the server exited while proxying");
});

stage.milestone("m2", async (t: MilestoneContext) => {
  const site = getSite();
  const server = await serve(t, { publicDir: site.mediumPublic });
  const many = await Promise.all(Array.from({ length: 10 }, () => fetchAll(server.ports[1]!, 4000)));
  many.forEach((r, i) => expectFile(t, `client ${i + 1} of 10, a sample.txt of ${countBytes(site.medium.length)}`, r, site.medium, 4000));
  // Without sample.txt the session cannot be made: that client is closed, the server goes on.
  // (The file is looked up anew for each client.)
  const sample = path.join(site.mediumPublic, "sample.txt");
  fs.renameSync(sample, `${sample}.away`);
  let r: Awaited<ReturnType<typeof fetchAll>>;
  try {
    r = await fetchAll(server.ports[1]!, 3000);
  } finally {
    fs.renameSync(`${sample}.away`, sample);
  }
  if (r.outcome === "timeout" || r.got.length > 0) t.fail({ problem: "with no sample.txt in the public folder, a client of the second port should be closed at once, with nothing sent", got: r.got, ending: r.outcome });
  if (!server.alive()) t.fail("the server exited when sample.txt was missing");
  const stats = await statsUntil(server, zeroed);
  if (!zeroed(stats)) t.fail(`after a session that could not be made, the server holds ${stats.sessions} session(s), ${stats.connections} connection(s) and ${stats.pipes} pipe(s)`);
  expectFile(t, "the next client, once sample.txt is back", await fetchAll(server.ports[1]!, 4000), site.medium, 4000);
});

stage.milestone("m3", async (t: MilestoneContext) => {
  // An upstream that reads the whole body, late, and answers with its size and SHA-256
  // (one request: upN is what it has received so far).
  let upN = 0;
  const upstream = http.createServer((req, res) => {
    // It takes its time to start reading, so the pipe towards it fills first.
    req.pause();
    setTimeout(() => req.resume(), 1000);
    const hash = crypto.createHash("sha256");
    req.on("data", (c: Buffer) => {
      upN += c.length;
      hash.update(c);
    });
    req.on("end", () => {
      res.setHeader("Connection", "close");
      res.end(`${upN} ${hash.digest("hex")}\n`);
    });
  });
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  t.cleanup(() => {
    upstream.closeAllConnections();
    upstream.close();
  });
  const upPort = (upstream.address() as net.AddressInfo).port;
  const server = await serve(t, { upstream: upPort });
  const body = crypto.randomBytes(24 * MiB);
  const want = `${body.length} ${crypto.createHash("sha256").update(body).digest("hex")}\n`;
  const client = await TestClient.connect(server.ports[0]!);
  t.cleanup(() => client.destroy());
  await client.send(`POST /upload HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: ${body.length}\r\nConnection: close\r\n\r\n`);
  // The upstream starts reading after 1 s; a write that waits 6 s means the server stopped reading.
  const upload = await client.sendAll(body, 64 * 1024, 6000);
  if (upload.outcome === "stalled") {
    t.fail({
      problem: `the server stopped taking the 24 MiB request body through the first port: after ${countBytes(upload.sent)} had been written, nothing more went in for 6 s, while the upstream had received ${countBytes(upN)}`,
      notes: [
        "the request direction: client -> session (clientSink) -> upstream (upstreamSource); the client's source reads only while the pipe has room",
        upN > upload.sent ? "the upstream got more bytes than the client sent: the same buffer is handed on again and again, and never taken from the pipe" : "every buffer handed on must free the sink for the next",
      ],
    });
  }
  // The upstream must get the whole body; if what it got stops growing short of it for 3 s, part
  // of the body was lost on the way (the reply, which it sends at the end, would never come).
  let last = upN;
  let grewAt = Date.now();
  while (upN < body.length && Date.now() - grewAt < 3000) {
    await sleep(100);
    if (upN !== last) {
      last = upN;
      grewAt = Date.now();
    }
  }
  if (upN < body.length) {
    t.fail({
      problem: `of the ${countBytes(body.length)} of request body that the client sent through the first port, the upstream got ${countBytes(upN)}, and nothing more came for 3 s: part of the body was lost on the way`,
      notes: ["the request direction: client -> session (clientSink) -> upstream (upstreamSource); what did not fit into the upstream's pipe must be kept and handed on later, not dropped"],
    });
  }
  const r = await client.waitForEnd(8000);
  const parsed = parseResponse(client.bytes());
  const got = parsed?.body.toString() ?? "";
  if (got !== want) {
    t.fail({
      problem: "a 24 MiB request body sent through the first port did not reach the upstream whole (it answers with the size and SHA-256 of what it got)",
      expected: Buffer.from(want),
      got: parsed?.body ?? client.bytes(),
      ending: describeOutcome(r, 8000, client.errorCode),
      notes: ["the request direction: client -> session (clientSink) -> upstream (upstreamSource); every buffer handed on must free the sink for the next"],
    });
  }
});

stage.check("m4", "the upstream is down", async (t: MilestoneContext) => {
  const [dead] = await freePorts(1);
  const server = await serve(t, { upstream: dead });
  const sample = fs.readFileSync(path.join(REPO_PUBLIC, "sample.txt"));
  expectFile(t, "the second port", await fetchAll(server.ports[1]!), sample);
  const started = Date.now();
  const r = await httpGet(server.ports[0]!, "/", { timeoutMs: 3000 });
  r.client.destroy();
  if (r.result.outcome === "timeout" || Date.now() - started > 2000) t.fail(`with the upstream down, a client of the first port was left waiting ${Date.now() - started} ms; it should be closed at once`);
  if (r.raw.length > 0) t.fail({ problem: "with the upstream down the first port sent the client bytes; it should send nothing and close", got: r.raw });
  if (!server.alive()) t.fail("the server exited when the upstream refused");
  const stats = await statsUntil(server, zeroed);
  if (!zeroed(stats)) t.fail(`after the refused client, the server holds ${stats.sessions} session(s), ${stats.connections} connection(s) and ${stats.pipes} pipe(s)`);
  expectFile(t, "the second port, after the upstream refused", await fetchAll(server.ports[1]!), sample);
  // Once an upstream listens there, the next client is proxied.
  await python(t, dead);
  const after = await httpGet(server.ports[0]!, "/hello.txt");
  after.client.destroy();
  if (!after.body.equals(getSite().files.get("/hello.txt")!)) t.fail({ problem: "once the upstream is up, GET /hello.txt through the first port does not work", got: after.raw });
});

stage.check("m4", "the upstream is killed mid-response", async (t: MilestoneContext) => {
  const up = await python(t);
  const server = await serve(t, { upstream: up.port });
  const client = await TestClient.connect(server.ports[0]!);
  t.cleanup(() => client.destroy());
  await client.send(requestBytes("/huge.bin"));
  const first = await client.waitForBytes(2 * MiB, 10_000);
  if (first.outcome !== "complete") t.fail({ problem: "GET /huge.bin through the first port did not deliver its first 2 MiB", got: client.bytes().subarray(0, 200), ending: describeOutcome(first, 10_000, client.errorCode) });
  client.socket.pause();
  await sleep(300);
  up.child.kill("SIGKILL");
  await sleep(200);
  client.socket.resume();
  const end = await client.waitForEnd(5000);
  if (end.outcome === "timeout") t.fail("after the upstream died mid-response, the client's connection stayed open for 5 s; it should be closed once what was sent has arrived");
  client.destroy();
  const parsed = parseResponse(client.bytes());
  if (parsed === null || parsed.status !== 200) return t.fail({ problem: "what arrived has no HTTP 200 status line", got: client.bytes().subarray(0, 200) });
  const bad = HUGE.mismatch(0, parsed.body);
  if (bad >= 0) t.fail(`the client got ${countBytes(parsed.body.length)} of /huge.bin, differing from the file at byte ${bad.toLocaleString("en-US")}`);
  if (parsed.body.length >= HUGE_SIZE) t.fail("the whole file arrived although the upstream was killed (the test could not stop it in time)");
  if (!server.alive()) t.fail("the server exited when its upstream died");
  const stats = await statsUntil(server, zeroed);
  if (!zeroed(stats)) t.fail(`after the upstream died and the client left, the server holds ${stats.sessions} session(s), ${stats.connections} connection(s) and ${stats.pipes} pipe(s)`);
  expectFile(t, "the second port, after the upstream died", await fetchAll(server.ports[1]!), fs.readFileSync(path.join(REPO_PUBLIC, "sample.txt")));
});

stage.milestone("m5", async (t: MilestoneContext) => {
  const site = getSite();
  const up = await python(t);
  const server = await serve(t, { upstream: up.port, publicDir: site.hugePublic });
  const clients: TestClient[] = [];
  t.cleanup(() => clients.forEach((c) => c.destroy()));
  // Three downloads through the proxy and three of the file, all paused part-way, and four clients of the last two ports.
  for (let i = 0; i < 3; i++) {
    const c = await TestClient.connect(server.ports[0]!, { keep: false });
    await c.send(requestBytes("/huge.bin"));
    clients.push(c);
  }
  for (let i = 0; i < 3; i++) clients.push(await TestClient.connect(server.ports[1]!, { keep: false }));
  for (const port of [server.ports[2]!, server.ports[2]!, server.ports[3]!, server.ports[3]!]) {
    const c = await TestClient.connect(port, { keep: false });
    await c.send("hello\n");
    clients.push(c);
  }
  const r = await Promise.all(clients.slice(0, 6).map((c) => c.waitForBytes(MiB, 10_000)));
  if (r.some((x) => x.outcome !== "complete")) t.fail(`not every download got its first MiB (${r.map((x) => countBytes(x.received)).join(", ")})`);
  for (const c of clients) c.socket.pause();
  const during = await statsUntil(server, (s) => s.sessions === 10 && s.connections === 13);
  if (during.sessions !== 10 || during.connections !== 13) {
    t.fail(`with 10 clients connected (3 of them proxied) the server should hold 10 sessions and 13 connections; the stats show ${during.sessions} session(s) and ${during.connections} connection(s)`);
  }
  for (const c of clients) c.destroy();
  const after = await statsUntil(server, zeroed, 3000);
  if (!zeroed(after)) {
    t.fail(`3 s after every client left, the stats show ${after.sessions} session(s), ${after.connections} connection(s) and ${after.pipes} pipe(s); all three should be 0`);
  }
});

stage.milestone("m6", async (t: MilestoneContext) => {
  const server = await serve(t);
  for (const [name, port] of [["third", server.ports[2]!], ["fourth", server.ports[3]!]] as const) {
    // A client that sends a line and then more than a pipe's worth, and then half-closes.
    for (const size of [0, 2_000_000]) {
      const c = await TestClient.connect(port);
      t.cleanup(() => c.destroy());
      await c.send("hello\n");
      if (size > 0) void c.send(crypto.randomBytes(size)); // not awaited: a server that stops reading must not hang the test
      const quiet = await c.waitForEnd(1000);
      if (c.received > 0) t.fail({ problem: `the ${name} port sent the client bytes; from stage 13 it has no backend and sends nothing`, got: c.bytes() });
      if (quiet.outcome !== "timeout") t.fail(`the ${name} port closed the connection within 1 s (${describeOutcome(quiet, 1000, c.errorCode)}); it should accept, keep it open and send nothing`);
      const during = await server.stats();
      if ((during as SessionStats).sessions !== 1) t.fail(`with one client on the ${name} port the stats show ${(during as SessionStats).sessions} session(s); every client gets one`);
      c.end(); // the client leaves: FIN
      const gone = await c.waitForEnd(3000);
      c.destroy();
      if (gone.outcome === "timeout") t.fail(`after the client of the ${name} port half-closed${size > 0 ? ` (having sent ${countBytes(size + 6)})` : ""}, the server did not close its side within 3 s`);
      const stats = await statsUntil(server, zeroed);
      if (!zeroed(stats)) t.fail(`after the client of the ${name} port left, the stats show ${stats.sessions} session(s), ${stats.connections} connection(s) and ${stats.pipes} pipe(s)`);
    }
  }
});

/** A client that reads about 1 MiB/s while `slow.on`, checking what arrives against HUGE (after `skipHead`'s HTTP header). */
function slowReader(client: TestClient, skipHead: boolean): { at: () => number; bad: () => number; slow: { on: boolean }; stop: () => void } {
  let head = skipHead ? Buffer.alloc(0) : null;
  let at = 0;
  let bad = -1;
  let tick = 0;
  const slow = { on: true };
  client.onData = (chunk) => {
    tick += chunk.length;
    if (head !== null) {
      head = Buffer.concat([head, chunk]);
      const end = head.indexOf("\r\n\r\n");
      if (end < 0) return;
      chunk = head.subarray(end + 4);
      head = null;
    }
    if (bad < 0) {
      const m = HUGE.mismatch(at, chunk);
      if (m >= 0) bad = at + m;
    }
    at += chunk.length;
    if (slow.on && tick >= 50 * 1024) client.socket.pause();
  };
  const timer = setInterval(() => {
    tick = 0;
    client.socket.resume();
  }, 50);
  return {
    at: () => at,
    bad: () => bad,
    slow,
    stop: () => {
      clearInterval(timer);
      slow.on = false;
      client.socket.resume();
    },
  };
}

stage.milestone(
  "m8",
  async (t: MilestoneContext) => {
    const site = getSite();
    const up = await python(t);
    const server = await serve(t, { upstream: up.port, publicDir: site.hugePublic });
    const warm = await TestClient.connect(server.ports[1]!, { keep: false });
    const first = await warm.waitForBytes(MiB, 10_000);
    warm.destroy();
    if (first.outcome !== "complete") t.fail({ problem: "the second port did not send the first MiB of a 64 MiB sample.txt", ending: describeOutcome(first, 10_000, warm.errorCode) });
    await statsUntil(server, zeroed);
    await sleep(300);
    const baseline = server.rssBytes();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, server.rssBytes())), 50);
    t.cleanup(() => clearInterval(sampler));
    // Two slow readers: the file through the session, and python's huge.bin through the session.
    // The file port sends as soon as a client connects: its reader is
    // attached before anything else is awaited, or the first bytes go by
    // unseen (the check then found the whole file shifted, "differing at byte 0").
    const proxyClient = await TestClient.connect(server.ports[0]!, { keep: false });
    const b = slowReader(proxyClient, true);
    const fileClient = await TestClient.connect(server.ports[1]!, { keep: false });
    const a = slowReader(fileClient, false);
    t.cleanup(() => {
      fileClient.destroy();
      proxyClient.destroy();
    });
    t.cleanup(() => {
      a.stop();
      b.stop();
    });
    await proxyClient.send(requestBytes("/huge.bin"));
    const check = (peakPipe: number): void => {
      if (peakPipe > THRESHOLD) t.fail(`a pipe held ${countBytes(peakPipe)} at its fullest (peakPipeBuffered), more than its threshold of ${countBytes(THRESHOLD)}: the session must write no more than a pipe's room`);
    };
    const corrupt = (): void => {
      for (const [what, x] of [["the file", a], ["huge.bin through the proxy", b]] as const) {
        if (x.bad() >= 0) t.fail(`the slow reader of ${what} got bytes that differ from the original, first at byte ${x.bad().toLocaleString("en-US")} (bytes lost or repeated on the way)`);
      }
    };
    // 4 s of slow reading, looking every half second: a pipe over its threshold, or bytes lost, fail at once.
    for (let i = 0; i < 8; i++) {
      await sleep(500);
      check((await server.stats()).peakPipeBuffered);
      corrupt();
    }
    clearInterval(sampler);
    const bound = 2 * THRESHOLD + 48 * MiB;
    if (peak - baseline > bound) t.fail(`while two slow clients read through sessions the server's memory grew by ${((peak - baseline) / MiB).toFixed(1)} MiB (bound ${(bound / MiB).toFixed(1)} MiB)`);
    if (a.at() === 0 || b.at() === 0) t.fail(`in 4 s the slow reader of the file got ${countBytes(a.at())} and the slow reader through the proxy ${countBytes(b.at())}`);
    a.stop();
    b.stop();
    const [ra, rb] = await Promise.all([fileClient.waitForEnd(60_000), proxyClient.waitForEnd(60_000)]);
    for (const [what, r, x] of [["the file", ra, a], ["huge.bin through the proxy", rb, b]] as const) {
      if (x.at() !== HUGE_SIZE || x.bad() >= 0) t.fail({ problem: `the client got ${countBytes(x.at())} of ${what} (64 MiB)${x.bad() >= 0 ? `, differing at byte ${x.bad().toLocaleString("en-US")}` : ""}`, ending: describeOutcome(r, 60_000, null) });
    }
    check((await server.stats()).peakPipeBuffered);
  },
  { timeout: 120_000 },
);
