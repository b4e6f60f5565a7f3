// The black-box milestones of the HTTP stages: the stage's server runs as
// its own process on free ports and serves a public folder; the tests talk
// to it over raw TCP, with Node's fetch, and with curl when this machine has
// it. Stage 14 and stage 15 run the same checks (the tester's tests are the
// same for both), under their own milestone ids.
import { execFile } from "node:child_process";
import fs from "node:fs";
import net from "node:net";
import path from "node:path";
import { TestClient, countBytes, describeOutcome, sleep, type MilestoneContext, type Stage } from "@xps/testkit";
import { REPO_PUBLIC, TESTER_FILES, exchange, expectReply as expectStd, get, refusalSite, replyProblems as checkReply, splitReply, type Reply, type Want } from "./exchange.ts";

export interface ServingIds {
  /** 200 for files, every port, raw TCP, fetch, curl */
  files: string;
  /** 404 and 403 */
  refusals: string;
  /** the tester's 400s and the smuggling shapes */
  malformed: string;
  /** split requests and the head limit */
  limits: string;
  /** early answers to clients still sending */
  early: string;
}

/** curl's path, or null: the checks that use it run only where it is installed. */
function findCurl(): string | null {
  for (const dir of (process.env.PATH ?? "").split(path.delimiter)) {
    const p = path.join(dir, "curl");
    try {
      fs.accessSync(p, fs.constants.X_OK);
      return p;
    } catch {
      // not here
    }
  }
  return null;
}

function curl(bin: string, url: string): Promise<{ code: number | null; head: string; body: Buffer; err: string }> {
  return new Promise((resolve) => {
    execFile(bin, ["-s", "-S", "-i", "--max-time", "10", "--path-as-is", url], { encoding: "buffer", maxBuffer: 16 << 20 }, (err, stdout, stderr) => {
      const raw = stdout as Buffer;
      const end = raw.indexOf("\r\n\r\n");
      resolve({
        code: err ? ((err as { code?: number }).code ?? 1) : 0,
        head: end < 0 ? raw.toString("latin1") : raw.subarray(0, end).toString("latin1"),
        body: end < 0 ? Buffer.alloc(0) : raw.subarray(end + 4),
        err: (stderr as Buffer).toString(),
      });
    });
  });
}

export const MALFORMED: readonly { what: string; bytes: string }[] = [
  // The official tester's five.
  { what: "no version (the tester's first)", bytes: "GET /sample.txt\r\nHost: 127.0.0.1\r\n\r\n" },
  { what: "the method GOT (the tester's second)", bytes: "GOT /sample.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" },
  { what: "no header at all (the tester's third)", bytes: "GET /sample.txt HTTP/1.1\r\n\r\n" },
  { what: "the version HTTX/2.0 (the tester's fourth)", bytes: "GET /sample.txt HTTX/2.0\r\nHost: 127.0.0.1\r\n\r\n" },
  { what: "Host without its colon (the tester's fifth)", bytes: "GET /sample.txt HTTP/1.1\r\nHost 127.0.0.1\r\n\r\n" },
  // The shapes RFC 9112 tells a server to reject.
  { what: "a bare CR inside a header value", bytes: "GET /sample.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\rb\r\n\r\n" },
  { what: "a space before a header's colon", bytes: "GET /sample.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A : b\r\n\r\n" },
  { what: "a control byte in a header value", bytes: "GET /sample.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\u0001b\r\n\r\n" },
  { what: "obs-fold (a header continued on the next line)", bytes: "GET /sample.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nX-A: a\r\n b\r\n\r\n" },
  { what: "bare LF line endings", bytes: "GET /sample.txt HTTP/1.1\nHost: 127.0.0.1\n\n" },
  { what: "Content-Length and Transfer-Encoding together", bytes: "GET /sample.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n" },
  { what: "two Content-Length headers", bytes: "GET /sample.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 0\r\nContent-Length: 5\r\n\r\n" },
  { what: "two Host headers", bytes: "GET /sample.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nHost: evil.example\r\n\r\n" },
  { what: "HTTP/1.1 without Host", bytes: "GET /sample.txt HTTP/1.1\r\nUser-Agent: x\r\n\r\n" },
  { what: "two spaces after the method", bytes: "GET  /sample.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" },
  { what: "a NUL byte in the path", bytes: "GET /sample\u0000.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" },
  { what: "a raw byte from 0x80 on in the path (a client %-escapes it)", bytes: "GET /sample\u00e9.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" },
  { what: "a request line ended by a bare LF", bytes: "GET /sample.txt HTTP/1.1\nHost: 127.0.0.1\r\n\r\n" },
  { what: "a header line ended by a bare LF", bytes: "GET /sample.txt HTTP/1.1\r\nHost: 127.0.0.1\n\r\n" },
  { what: "a bare CR before the request line", bytes: "\rGET /sample.txt HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n" },
  { what: "the version HTTP/1.2", bytes: "GET /sample.txt HTTP/1.2\r\nHost: 127.0.0.1\r\n\r\n" },
];

export function defineServingChecks(stage: Stage, ids: ServingIds, opts: { date?: boolean } = {}): void {
  // Every reply is checked for the standard headers of the stage (stage 15: Date and Access-Control-Allow-Origin too).
  const replyProblems = (r: Parameters<typeof checkReply>[0], want: Want, closed?: boolean) => checkReply(r, { ...want, date: opts.date }, closed);
  const expectReply = (t: MilestoneContext, what: string, sent: Buffer | string, r: Reply, want: Want) => expectStd(t, what, sent, r, { ...want, date: opts.date });
  const serve = (t: MilestoneContext, publicDir = REPO_PUBLIC) => t.server({ args: ["--public", publicDir] });

  stage.check(ids.files, "raw TCP on every port: each file byte-exact with its type and length, then a close", async (t: MilestoneContext) => {
    const server = await serve(t);
    for (const port of server.ports) {
      for (const f of TESTER_FILES) {
        const want = fs.readFileSync(path.join(REPO_PUBLIC, f.name));
        const r = await exchange(port, get(f.name));
        expectReply(t, `GET ${f.name} on port ${port}`, get(f.name), r, { status: 200, type: f.type, body: want });
      }
    }
    // A query is not part of the file's name.
    const query = await exchange(server.ports[0]!, get("/sample.txt?v=1&x=y"));
    expectReply(t, "GET /sample.txt?v=1&x=y (the file is the pathname, without the query)", get("/sample.txt?v=1&x=y"), query, { status: 200, type: "text/plain", body: fs.readFileSync(path.join(REPO_PUBLIC, "sample.txt")) });
    // Ten clients at once, and a HEAD: the header block alone.
    const many = await Promise.all(Array.from({ length: 10 }, () => exchange(server.ports[1]!, get("/cat.jpg"))));
    const cat = fs.readFileSync(path.join(REPO_PUBLIC, "cat.jpg"));
    many.forEach((r, i) => expectReply(t, `client ${i + 1} of 10 at once, GET /cat.jpg`, get("/cat.jpg"), r, { status: 200, type: "image/jpeg", body: cat }));
    const head = await exchange(server.ports[0]!, get("/cat.jpg").replace("GET", "HEAD"));
    const p = replyProblems({ ...head, body: Buffer.alloc(cat.length) }, { status: 200, type: "image/jpeg" });
    if (p.length > 0 || head.body.length !== 0) t.fail({ problem: `HEAD /cat.jpg: ${p[0] ?? `${head.body.length} bytes of body came; HEAD gets the header block alone`}`, got: head.raw.subarray(0, 300) });
  });

  stage.check(ids.files, "Node's fetch and curl get sample.txt, the JPEG and the PDF", async (t: MilestoneContext) => {
    const server = await serve(t);
    for (const f of TESTER_FILES.slice(0, 3)) {
      const url = `http://127.0.0.1:${server.ports[0]}${f.name}`;
      const want = fs.readFileSync(path.join(REPO_PUBLIC, f.name));
      let res: Response | null = null;
      try {
        res = await fetch(url, { signal: AbortSignal.timeout(10_000) });
      } catch (err) {
        const cause = (err as { cause?: { code?: string; message?: string } }).cause;
        t.fail(`fetch(${url}) failed: ${(err as Error).message}${cause ? ` (${cause.code ?? cause.message})` : ""}; Node's fetch refuses a reply that is not well-formed HTTP`);
      }
      if (res === null) return;
      const body = Buffer.from(await res.arrayBuffer());
      const problems: string[] = [];
      if (res.status !== 200) problems.push(`status ${res.status}`);
      if (res.headers.get("content-type") !== f.type) problems.push(`Content-Type ${JSON.stringify(res.headers.get("content-type"))}, not ${JSON.stringify(f.type)}`);
      if (res.headers.get("content-length") !== String(want.length)) problems.push(`Content-Length ${JSON.stringify(res.headers.get("content-length"))}, not "${want.length}"`);
      if (res.headers.get("server") !== "eXpServer") problems.push(`Server ${JSON.stringify(res.headers.get("server"))}`);
      if (!body.equals(want)) problems.push(`a body of ${countBytes(body.length)} that is not the file`);
      if (problems.length > 0) t.fail(`fetch(${url}): ${problems.join("; ")}`);
    }
    const bin = findCurl();
    if (bin === null) return; // no curl on this machine: fetch and raw TCP cover it
    for (const f of TESTER_FILES.slice(0, 3)) {
      const url = `http://127.0.0.1:${server.ports[2]}${f.name}`;
      const want = fs.readFileSync(path.join(REPO_PUBLIC, f.name));
      const r = await curl(bin, url);
      if (r.code !== 0) t.fail(`curl ${url} failed (exit ${r.code}): ${r.err.trim()}`);
      const { status, headers } = splitReply(Buffer.from(`${r.head}\r\n\r\n`, "latin1"));
      if (status !== 200 || headers.get("content-type") !== f.type || headers.get("content-length") !== String(want.length) || !r.body.equals(want)) {
        t.fail({ problem: `curl ${url}: expected 200, ${f.type}, Content-Length ${want.length} and the file`, got: Buffer.from(r.head, "latin1") });
      }
    }
  });

  stage.milestone(ids.refusals, async (t: MilestoneContext) => {
    const site = refusalSite();
    t.cleanup(site.cleanup);
    const server = await serve(t, site.publicDir);
    const port = server.ports[3]!;
    const cases: { path: string; status: number; why: string }[] = [
      { path: "/missing.txt", status: 404, why: "a file that does not exist is a 404 (not a 500, and not a silent close)" },
      { path: "/dir/missing/deeper.txt", status: 404, why: "a path through a folder that does not hold it is a 404" },
      { path: "/dir", status: 404, why: "a folder is not a file: 404" },
      { path: "/secret.txt", status: 403, why: "a file others may not read (mode 600) is a 403" },
      { path: "/link.txt", status: 403, why: "a link to a file outside public/ is a 403" },
      { path: "/../outside.txt", status: 403, why: "a path that climbs out of public/ is a 403" },
      { path: "/%2e%2e/outside.txt", status: 403, why: "a path that climbs out of public/ with %-escapes is a 403" },
    ];
    for (const c of cases) {
      const r = await exchange(port, get(c.path));
      const problems = replyProblems(r, { status: c.status });
      if (problems.length > 0) t.fail({ problem: `GET ${c.path}: ${problems[0]}; ${c.why}`, sent: Buffer.from(get(c.path)), got: r.raw.subarray(0, 300), notes: problems.slice(1) });
      if (r.body.includes("not for others") || r.body.includes("outside the public folder")) t.fail(`GET ${c.path}: the reply holds the file's content`);
    }
    const eq = await exchange(port, get("/a=b.txt"));
    expectReply(t, "GET /a=b.txt (a file whose name has an equals sign)", get("/a=b.txt"), eq, { status: 200, type: "text/plain", body: Buffer.from("equals\n") });
    const ok = await exchange(port, get("/a%20b.txt"));
    expectReply(t, "GET /a%20b.txt (a file named with a space, %-escaped as browsers send it)", get("/a%20b.txt"), ok, { status: 200, type: "text/plain", body: Buffer.from("a space\n") });
    if (!server.alive()) t.fail("the server exited on a refused request");
  });

  stage.milestone(ids.malformed, async (t: MilestoneContext) => {
    const server = await serve(t);
    for (const [i, m] of MALFORMED.entries()) {
      const port = server.ports[i % 4]!;
      const r = await exchange(port, m.bytes);
      const problems = replyProblems(r, { status: 400 });
      if (problems.length > 0) t.fail({ problem: `${m.what}: ${problems[0]}; a request the server cannot read two ways gets a complete 400 block, then a close`, sent: Buffer.from(m.bytes, "latin1"), got: r.raw.subarray(0, 300), notes: problems.slice(1) });
    }
    // After all that, a good request still works.
    const good = await exchange(server.ports[0]!, get("/sample.txt"));
    expectReply(t, "GET /sample.txt after the malformed ones", get("/sample.txt"), good, { status: 200, type: "text/plain", body: fs.readFileSync(path.join(REPO_PUBLIC, "sample.txt")) });
  });

  stage.milestone(ids.limits, async (t: MilestoneContext) => {
    const server = await serve(t);
    // A request split at every byte, and at random places, parses.
    const want = fs.readFileSync(path.join(REPO_PUBLIC, "sample.txt"));
    const req = Buffer.from(get("/sample.txt", ["X-Note: sent one byte at a time"]));
    const bytes = [...req].map((b) => Buffer.from([b]));
    const one = await exchange(server.ports[0]!, bytes, { gapMs: 2, timeoutMs: 10_000 });
    expectReply(t, `GET /sample.txt sent one byte at a time (${req.length} writes, 2 ms apart)`, req, one, { status: 200, type: "text/plain", body: want });
    for (let k = 0; k < 5; k++) {
      const cuts = [...new Set(Array.from({ length: 3 }, () => 1 + Math.floor(Math.random() * (req.length - 1))))].sort((a, b) => a - b);
      const parts = [0, ...cuts].map((c, i) => req.subarray(c, [...cuts, req.length][i]));
      const r = await exchange(server.ports[1]!, parts, { gapMs: 20 });
      expectReply(t, `GET /sample.txt in ${parts.length} writes, cut at bytes ${cuts.join(", ")}`, req, r, { status: 200, type: "text/plain", body: want });
    }
    // A head over 8 KiB gets a complete 431 block; one just under it is served.
    const under = get("/sample.txt", [`X-Pad: ${"a".repeat(8192 - get("/sample.txt").length - 12)}`]);
    if (Buffer.byteLength(under) > 8192) throw new Error("test bug: the head under the limit is over it");
    const r1 = await exchange(server.ports[0]!, under);
    expectReply(t, `a head of ${Buffer.byteLength(under)} bytes (within 8 KiB)`, under.slice(0, 120), r1, { status: 200, type: "text/plain" });
    const over = get("/sample.txt", Array.from({ length: 40 }, (_, i) => `X-Pad-${i}: ${"b".repeat(250)}`));
    const r2 = await exchange(server.ports[1]!, over);
    const p2 = replyProblems(r2, { status: 431 });
    if (p2.length > 0) t.fail({ problem: `a head of ${countBytes(over.length)} (over 8 KiB): ${p2[0]}; a head that does not end within the limit is answered 431 (Request Header Fields Too Large), then a close`, got: r2.raw.subarray(0, 300) });
    // A head that never ends: 32 MiB of header bytes, sent as fast as the server takes them.
    const client = await TestClient.connect(server.ports[2]!);
    t.cleanup(() => client.destroy());
    const before = server.rssBytes();
    const flood = Buffer.alloc(64 * 1024, "c");
    let sent = 0;
    await client.send("GET /sample.txt HTTP/1.1\r\nX-Flood: ");
    while (sent < 32 * 1024 * 1024 && client.ending === "open" && client.received === 0) {
      if (!(await client.send(flood))) break;
      sent += flood.length;
    }
    const end = await client.waitForEnd(10_000);
    const r3 = splitReply(client.bytes());
    if (r3.status !== 431) t.fail({ problem: `a head that never ends (${countBytes(sent)} sent before the server answered): no 431 came (${describeOutcome(end, 10_000, client.errorCode)})`, got: client.bytes().subarray(0, 300) });
    const grew = server.rssBytes() - before;
    if (grew > 48 * 1024 * 1024) t.fail(`while a client sent a head that never ends, the server's memory grew by ${countBytes(grew)}: a request may hold no more than the limit`);
  });

  stage.milestone(
    ids.early,
    async (t: MilestoneContext) => {
      const server = await serve(t);
      const BODY = 100 * 1024 * 1024;
      const chunk = Buffer.alloc(64 * 1024, "x");
      const one = (i: number): Promise<{ raw: Buffer; ending: string }> =>
        new Promise((resolve) => {
          // onread: the bytes are read only while the socket is not paused,
          // so a paused client leaves the reply in its kernel, as a C client
          // that has not called recv() yet does (a plain paused Node socket
          // still reads into its own buffer).
          const got: Buffer[] = [];
          let ending = "open";
          const socket = net.connect({
            host: "127.0.0.1",
            port: server.ports[i % 4]!,
            onread: { buffer: Buffer.alloc(64 * 1024), callback: (n: number, buf: Uint8Array) => (got.push(Buffer.from(buf.subarray(0, n))), true) },
          });
          socket.setMaxListeners(0);
          const timer = setTimeout(() => socket.destroy(), 20_000);
          socket.on("error", (err: NodeJS.ErrnoException) => (ending = err.code ?? "error"));
          socket.on("end", () => {
            ending = "ended";
            setTimeout(() => socket.destroy(), 100);
          });
          socket.on("close", () => {
            clearTimeout(timer);
            resolve({ raw: Buffer.concat(got), ending: ending === "open" ? "closed" : ending });
          });
          socket.on("connect", async () => {
            socket.pause();
            setTimeout(() => socket.resume(), 300);
            const head = `POST /sample.txt HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/octet-stream\r\nContent-Length: ${BODY}\r\n\r\n`;
            socket.write(head);
            for (let off = 0; off < BODY && !socket.destroyed; off += chunk.length) {
              if (!socket.write(chunk)) await new Promise((r) => (socket.once("drain", r), socket.once("close", r)));
              // Once the whole reply is in, the client stops sending and leaves.
              const r = splitReply(Buffer.concat(got));
              if (r.head !== null && r.body.length >= Number(r.headers.get("content-length") ?? 0)) break;
            }
            // Then it waits for the server's FIN: nothing more may come.
            setTimeout(() => socket.destroy(), 3000);
          });
        });
      const replies = await Promise.all(Array.from({ length: 30 }, (_, i) => one(i)));
      const parsed = replies.map((r) => ({ ...r, ...splitReply(r.raw), result: { outcome: r.ending === "ended" ? ("ended" as const) : ("closed" as const), received: r.raw.length } }));
      const good = parsed.filter((r) => r.status === 413 && replyProblems(r, { status: 413 }).length === 0);
      if (good.length < 30) {
        const bad = parsed.find((r) => !good.includes(r))!;
        t.fail({
          problem: `of 30 clients that each sent a POST with a 100 MB body (64 KiB writes, reading only after 300 ms), ${good.length} got one complete 413 reply and then the server's FIN; every one should`,
          expected: Buffer.from(replyProblems(bad, { status: 413 })[0] ?? ""),
          got: bad.raw.subarray(0, 300),
          ending: bad.ending === "ended" ? "the server closed the connection" : `the connection ended with ${bad.ending}`,
          notes: ["a server that closes a socket whose peer is still sending makes the kernel send a reset, and the reset can make the client's kernel drop the reply it has not read yet: the close must linger (socketClose does)"],
        });
      }
    },
    { timeout: 90_000 },
  );
}
