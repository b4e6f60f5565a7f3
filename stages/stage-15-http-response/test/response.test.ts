// Stage 15, milestones 1 and 2: the response module on its own, in-process,
// with your http-response.ts ("@xps/http/http-response" is your
// src/http-response.ts in the learner variant). What it serializes is read
// back by Node's own HTTP parser (llhttp, through http.get against a tiny
// TCP server that sends those bytes), and checked byte by byte.
import http from "node:http";
import net from "node:net";
import path from "node:path";
import { OK, resultName } from "@xps/utils";
import { httpResCreate, httpResSerialize, httpResSetBody, httpResSetHeader, imfDate } from "@xps/http/http-response";
import { defineStage, type MilestoneContext } from "@xps/testkit";
import { IMF_FIXDATE } from "../../stage-14-http-request/test/exchange.ts";
import { ensure } from "../../stage-14-http-request/test/observe.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));

interface NodeRead {
  status: number;
  reason: string;
  version: string;
  raw: string[];
  body: Buffer;
}

/** Serve `bytes` once on a free port and read them with http.get: what Node's parser makes of them. */
async function nodeReads(bytes: Buffer): Promise<NodeRead | string> {
  const server = net.createServer((s) => {
    s.on("error", () => {});
    s.end(bytes);
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  try {
    return await new Promise<NodeRead | string>((resolve) => {
      const req = http.get({ host: "127.0.0.1", port, path: "/", agent: false, timeout: 5000 }, (res) => {
        const chunks: Buffer[] = [];
        res.on("data", (c: Buffer) => chunks.push(c));
        res.on("end", () => resolve({ status: res.statusCode ?? 0, reason: res.statusMessage ?? "", version: res.httpVersion, raw: res.rawHeaders, body: Buffer.concat(chunks) }));
        res.on("error", (err) => resolve(`Node's parser failed in the body: ${(err as NodeJS.ErrnoException).code ?? err.message}`));
      });
      req.on("timeout", () => req.destroy(new Error("no complete response within 5 s")));
      req.on("error", (err) => resolve(`Node's parser refused it: ${(err as NodeJS.ErrnoException).code ?? ""} ${err.message}`));
    });
  } finally {
    server.close();
  }
}

const FIXED = new Date(Date.UTC(1994, 10, 6, 8, 49, 37));

async function expectRoundTrip(t: MilestoneContext, code: 200 | 404 | 413 | 431 | 500, headers: [string, string][], body: Buffer | null): Promise<void> {
  const res = httpResCreate(code, FIXED);
  for (const [k, v] of headers) {
    const r = httpResSetHeader(res, k, v);
    if (r !== OK) t.fail(`httpResSetHeader(res, ${JSON.stringify(k)}, ${JSON.stringify(v)}) gave ${resultName(r)}`);
  }
  httpResSetBody(res, body);
  const bytes = httpResSerialize(res);
  const what = `a ${code} response with ${headers.length} header(s) set and ${body === null ? "no body" : `a body of ${body.length} bytes`}`;
  const end = bytes.indexOf("\r\n\r\n");
  if (end < 0) t.fail({ problem: `${what}: the bytes hold no empty line (CRLF CRLF) to end the header block`, got: bytes.subarray(0, 300) });
  const head = bytes.subarray(0, end).toString("latin1");
  if (/\r(?!\n)|(?<!\r)\n/.test(head)) t.fail({ problem: `${what}: a line of the header block ends with a bare CR or LF; every line ends with CRLF`, got: bytes.subarray(0, 300) });
  const lines = head.split("\r\n");
  const reason = { 200: "OK", 404: "Not Found", 413: "Content Too Large", 431: "Request Header Fields Too Large", 500: "Internal Server Error" }[code];
  const want = [`HTTP/1.1 ${code} ${reason}`, `Date: ${imfDate(FIXED)}`, "Server: eXpServer", "Access-Control-Allow-Origin: *", ...headers.map(([k, v]) => `${k}: ${v}`)];
  if (JSON.stringify(lines) !== JSON.stringify(want)) {
    t.fail({ problem: `${what}: the header block is not the status line, Date, Server, Access-Control-Allow-Origin, then the headers set, in order`, expected: Buffer.from(want.join("\r\n")), got: Buffer.from(head, "latin1") });
  }
  const rest = bytes.subarray(end + 4);
  if (!rest.equals(body ?? Buffer.alloc(0))) t.fail({ problem: `${what}: after the empty line come ${rest.length} bytes, not the body`, expected: body ?? Buffer.alloc(0), got: rest });
  const node = await nodeReads(bytes);
  if (typeof node === "string") t.fail({ problem: `${what}: ${node}`, got: bytes.subarray(0, 300) });
  const problems: string[] = [];
  if (node.status !== code || node.reason !== reason || node.version !== "1.1") problems.push(`Node reads the status line as HTTP/${node.version} ${node.status} ${JSON.stringify(node.reason)}`);
  const pairs = new Map<string, string>();
  for (let i = 0; i < node.raw.length; i += 2) pairs.set(node.raw[i]!.toLowerCase(), node.raw[i + 1]!);
  if (pairs.get("date") !== "Sun, 06 Nov 1994 08:49:37 GMT") problems.push(`Node reads Date as ${JSON.stringify(pairs.get("date"))}`);
  if (pairs.get("server") !== "eXpServer") problems.push(`Node reads Server as ${JSON.stringify(pairs.get("server"))}`);
  if (pairs.get("access-control-allow-origin") !== "*") problems.push(`Node reads Access-Control-Allow-Origin as ${JSON.stringify(pairs.get("access-control-allow-origin"))}`);
  for (const [k, v] of headers) if (pairs.get(k.toLowerCase()) !== v) problems.push(`Node reads ${k} as ${JSON.stringify(pairs.get(k.toLowerCase()))}`);
  if (!node.body.equals(body ?? Buffer.alloc(0))) problems.push(`Node reads a body of ${node.body.length} bytes, not the ${body?.length ?? 0} set`);
  if (problems.length > 0) t.fail({ problem: `${what}: ${problems[0]}`, got: bytes.subarray(0, 300), notes: problems.slice(1) });
}

stage.check("m1", "a 200 with a file's headers and a body, read back by Node's parser", async (t: MilestoneContext) => {
  await expectRoundTrip(t, 200, [["Content-Length", "5"], ["Content-Type", "text/plain"], ["Connection", "close"]], Buffer.from("hello"));
  const bytes = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
  await expectRoundTrip(t, 200, [["Content-Length", "256"], ["Content-Type", "application/octet-stream"]], bytes);
  await expectRoundTrip(t, 200, [["Content-Length", "0"]], null);
  ensure(t, "a 200 with a file's headers and a body, read back by Node's parser", true, "");
});

stage.check("m1", "error responses: 404, 413, 431, 500", async (t: MilestoneContext) => {
  for (const code of [404, 413, 431, 500] as const) {
    const body = Buffer.from(`${code} why\n`);
    await expectRoundTrip(t, code, [["Content-Length", String(body.length)], ["Content-Type", "text/plain; charset=utf-8"], ["Connection", "close"]], body);
  }
  ensure(t, "error responses: 404, 413, 431, 500", true, "");
});

stage.check("m1", "a new response: its status line, its three default headers, no body", (t: MilestoneContext) => {
  const before = Date.now();
  const res = httpResCreate(404);
  const after = Date.now();
  if (res.responseLine !== "HTTP/1.1 404 Not Found") t.fail(`httpResCreate(404).responseLine is ${JSON.stringify(res.responseLine)}, not "HTTP/1.1 404 Not Found"`);
  const keys = res.headers.map((h) => h.key);
  if (JSON.stringify(keys) !== JSON.stringify(["Date", "Server", "Access-Control-Allow-Origin"])) t.fail(`a new response's headers are ${JSON.stringify(keys)}; they are Date, Server and Access-Control-Allow-Origin, in that order`);
  const date = Date.parse(res.headers[0]?.val ?? "");
  if (!(date >= Math.floor(before / 1000) * 1000 - 1000 && date <= after + 1000)) t.fail(`without a date given, Date is ${JSON.stringify(res.headers[0]?.val)}, not the time now`);
  if (res.body !== null) t.fail("a new response has no body (null)");
  ensure(t, "a new response: its status line, its three default headers, no body", true, "");
});

stage.check("m2", "IMF-fixdate for fixed instants, in UTC, in any time zone", (t: MilestoneContext) => {
  const cases: [Date, string][] = [
    [FIXED, "Sun, 06 Nov 1994 08:49:37 GMT"],
    [new Date(Date.UTC(2000, 0, 1, 0, 0, 0)), "Sat, 01 Jan 2000 00:00:00 GMT"],
    [new Date(Date.UTC(2024, 1, 29, 23, 59, 59)), "Thu, 29 Feb 2024 23:59:59 GMT"],
    [new Date(Date.UTC(2026, 11, 31, 5, 4, 3)), "Thu, 31 Dec 2026 05:04:03 GMT"],
    [new Date(Date.UTC(2031, 6, 9, 13, 7, 9)), "Wed, 09 Jul 2031 13:07:09 GMT"],
  ];
  const saved = process.env.TZ;
  try {
    for (const zone of ["UTC", "America/Los_Angeles", "Asia/Kolkata", "Pacific/Kiritimati"]) {
      process.env.TZ = zone;
      for (const [date, want] of cases) {
        const got = imfDate(date);
        if (got !== want) t.fail(`imfDate(${date.toISOString()}) with TZ=${zone} gives ${JSON.stringify(got)}, not ${JSON.stringify(want)}`);
        if (!IMF_FIXDATE.test(got)) t.fail(`${JSON.stringify(got)} is not IMF-fixdate`);
      }
    }
  } finally {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  }
  const res = httpResCreate(200, cases[2]![0]);
  if (res.headers.find((h) => h.key === "Date")?.val !== cases[2]![1]) t.fail(`httpResCreate(200, date) has Date ${JSON.stringify(res.headers.find((h) => h.key === "Date")?.val)}, not imfDate(date)`);
  ensure(t, "IMF-fixdate for fixed instants, in UTC, in any time zone", true, "");
});
