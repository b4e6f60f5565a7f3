// Stage 14, milestones 1 and 2: the parser on its own, in-process, with
// your http.ts and http-request.ts ("@xps/http/http-request" is your
// src/http-request.ts in the learner variant, and it imports your http.ts).
import path from "node:path";
import { E_AGAIN, E_FAIL, OK, resultName } from "@xps/utils";
import { httpGetHeader } from "@xps/http/http";
import { httpReqCreate, httpReqFeed, type HttpRequest } from "@xps/http/http-request";
import { defineStage, type MilestoneContext } from "@xps/testkit";
import { ensure } from "./observe.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));

/** Feed `text` to a new request in the given pieces (whole by default). */
export function parse(text: string | Buffer, cuts: number[] = []): { r: number; req: HttpRequest } {
  const bytes = Buffer.isBuffer(text) ? text : Buffer.from(text, "latin1");
  const req = httpReqCreate();
  let r = E_AGAIN;
  let from = 0;
  for (const at of [...cuts, bytes.length]) {
    r = httpReqFeed(req, bytes.subarray(from, at));
    from = at;
  }
  return { r, req };
}

const FIELDS = ["method", "uri", "schema", "host", "port", "path", "pathname", "httpVersion", "requestLine"] as const;
type Fields = Partial<Record<(typeof FIELDS)[number], string | number>>;

function expectLine(t: MilestoneContext, line: string, want: Fields): void {
  const text = `${line}\r\nHost: example.com\r\n\r\n`;
  const { r, req } = parse(text);
  if (r !== OK) t.fail({ problem: `the request ${JSON.stringify(line)} did not parse: ${resultName(r)}${req.problem ? ` (${req.problem})` : ""}`, sent: Buffer.from(text) });
  const wrong = FIELDS.filter((k) => k in want && req[k] !== want[k]).map((k) => `${k} is ${JSON.stringify(req[k])}, expected ${JSON.stringify(want[k])}`);
  if (wrong.length > 0) t.fail({ problem: `${JSON.stringify(line)}: ${wrong[0]}`, sent: Buffer.from(text), notes: wrong.slice(1) });
}

stage.milestone("m1", async (t: MilestoneContext) => {
  // origin form: the path with and without its query
  {
    expectLine(t, "GET /sample.txt HTTP/1.1", { method: "GET", uri: "/sample.txt", schema: "", host: "", port: 80, path: "/sample.txt", pathname: "/sample.txt", httpVersion: "1.1", requestLine: "GET /sample.txt HTTP/1.1" });
    expectLine(t, "GET /api/x?k=v&a=b HTTP/1.0", { uri: "/api/x?k=v&a=b", path: "/api/x?k=v&a=b", pathname: "/api/x", httpVersion: "1.0" });
    expectLine(t, "GET /a=b.txt HTTP/1.1", { path: "/a=b.txt", pathname: "/a=b.txt" });
    expectLine(t, "GET /page#part HTTP/1.1", { path: "/page#part", pathname: "/page" });
    expectLine(t, "GET / HTTP/1.1", { path: "/", pathname: "/" });
  }
  // absolute form: schema, host, port, path
  {
    expectLine(t, "GET http://example.com:3000/api/x?k=v HTTP/1.1", { uri: "http://example.com:3000/api/x?k=v", schema: "http", host: "example.com", port: 3000, path: "/api/x?k=v", pathname: "/api/x" });
    expectLine(t, "GET http://localhost:8001/sample.txt HTTP/1.1", { schema: "http", host: "localhost", port: 8001, path: "/sample.txt", pathname: "/sample.txt" });
    expectLine(t, "GET https://example.com/x HTTP/1.1", { schema: "https", host: "example.com", port: 443, path: "/x" });
    expectLine(t, "GET http://example.com/x HTTP/1.1", { port: 80 });
    expectLine(t, "GET http://example.com HTTP/1.1", { host: "example.com", port: 80, path: "/", pathname: "/", uri: "http://example.com" });
    expectLine(t, "GET http://example.com:8080 HTTP/1.1", { host: "example.com", port: 8080, path: "/" });
    expectLine(t, "GET http://[::1]:8001/a?b HTTP/1.1", { host: "[::1]", port: 8001, path: "/a?b", pathname: "/a" });
    expectLine(t, "GET http://127.0.0.1/ HTTP/1.1", { host: "127.0.0.1", port: 80, path: "/" });
  }
  // every method the server knows, and no other
  {
    for (const m of ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT"]) expectLine(t, `${m} /x HTTP/1.1`, { method: m });
    for (const line of ["GOT /x HTTP/1.1", "PATCH /x HTTP/1.1", "get /x HTTP/1.1", "GET", "GET /x HTTP/1.2", "GET /x HTTX/1.1", "GET /x HTTP/2.0", "GET /x", "GET  /x HTTP/1.1", "GET http://exa mple.com/ HTTP/1.1", "GET http://example.com:99999/ HTTP/1.1", "GET * HTTP/1.1", "GET /x HTTP/1.1 "]) {
      const { r, req } = parse(`${line}\r\nHost: example.com\r\n\r\n`);
      if (r !== E_FAIL) t.fail({ problem: `${JSON.stringify(line)} must be refused (E_FAIL), got ${resultName(r)}`, notes: r === OK ? [`it parsed as method ${req.method}, path ${req.path}, version ${req.httpVersion}`] : [] });
    }
  }
  // a request line that has not ended yet: E_AGAIN, and nothing lost
  {
    const text = "GET http://example.com:3000/api/x?k=v HTTP/1.1\r\nHost: example.com\r\n\r\n";
    for (const cut of [1, 4, 10, 25, 30, 40, 47, 48]) {
      const req = httpReqCreate();
      const first = httpReqFeed(req, Buffer.from(text.slice(0, cut)));
      if (first !== E_AGAIN) t.fail(`the first ${cut} bytes of a good request gave ${resultName(first)}; an unfinished request is E_AGAIN`);
      const rest = httpReqFeed(req, Buffer.from(text.slice(cut)));
      if (rest !== OK || req.pathname !== "/api/x" || req.port !== 3000 || req.host !== "example.com") {
        t.fail(`cut after ${cut} bytes, the request gave ${resultName(rest)} with host ${JSON.stringify(req.host)}, port ${req.port}, pathname ${JSON.stringify(req.pathname)}`);
      }
    }
  }
  ensure(t, "the request lines", true, "");
});




stage.milestone("m2", async (t: MilestoneContext) => {
  // headers in order, values without the spaces around them
  {
    const text = "GET /x HTTP/1.1\r\nHost: example.com\r\nUser-Agent:  curl/8.5.0  \r\nAccept: */*\r\nX-Empty:\r\nX-Tab:\tone\ttwo\t\r\nx-lower: 1\r\n\r\n";
    const { r, req } = parse(text);
    if (r !== OK) t.fail({ problem: `the request did not parse: ${resultName(r)}${req.problem ? ` (${req.problem})` : ""}`, sent: Buffer.from(text) });
    const want = [
      ["Host", "example.com"],
      ["User-Agent", "curl/8.5.0"],
      ["Accept", "*/*"],
      ["X-Empty", ""],
      ["X-Tab", "one\ttwo"],
      ["x-lower", "1"],
    ];
    const got = req.headers.map((h) => [h.key, h.val]);
    if (JSON.stringify(got) !== JSON.stringify(want)) t.fail({ problem: "the headers are not the ones sent, in order, with their names as sent and the spaces around each value removed", sent: Buffer.from(text), expected: Buffer.from(JSON.stringify(want)), got: Buffer.from(JSON.stringify(got)) });
    if (req.headerLen !== Buffer.byteLength(text)) t.fail(`headerLen is ${req.headerLen}; the head is ${Buffer.byteLength(text)} bytes`);
  }
  // httpGetHeader finds a header whatever the case
  {
    const { req } = parse("GET /x HTTP/1.1\r\nHost: example.com\r\nContent-Type: text/plain\r\nX-Twice: first\r\nx-twice: second\r\n\r\n");
    const cases: [string, string | null][] = [
      ["Host", "example.com"],
      ["host", "example.com"],
      ["HOST", "example.com"],
      ["content-type", "text/plain"],
      ["X-TWICE", "first"],
      ["Accept", null],
      ["Hos", null],
    ];
    for (const [key, want] of cases) {
      const got = httpGetHeader(req.headers, key);
      if (got !== want) t.fail(`httpGetHeader(headers, ${JSON.stringify(key)}) gave ${JSON.stringify(got)}, expected ${JSON.stringify(want)}`);
    }
  }
  // header lines split anywhere, and the refusals
  {
    const text = "GET /x HTTP/1.1\r\nHost: example.com\r\nAccept: */*\r\n\r\n";
    for (let cut = 17; cut < text.length; cut++) {
      const { r, req } = parse(text, [cut]);
      if (r !== OK || httpGetHeader(req.headers, "accept") !== "*/*" || req.headers.length !== 2) {
        t.fail(`cut after ${cut} bytes (${JSON.stringify(text.slice(0, cut).slice(-6))} | ${JSON.stringify(text.slice(cut, cut + 6))}), the request gave ${resultName(r)} with ${req.headers.length} header(s): ${JSON.stringify(req.headers)}`);
      }
    }
    const bad: [string, string][] = [
      ["no header line", "GET /x HTTP/1.1\r\n\r\n"],
      ["a space before the colon", "GET /x HTTP/1.1\r\nHost : a\r\n\r\n"],
      ["no colon", "GET /x HTTP/1.1\r\nHost a\r\n\r\n"],
      ["a bare CR in a value", "GET /x HTTP/1.1\r\nHost: a\rb\r\n\r\n"],
      ["a bare LF ending a header", "GET /x HTTP/1.1\r\nHost: a\n\r\n"],
      ["obs-fold", "GET /x HTTP/1.1\r\nHost: a\r\n b\r\n\r\n"],
      ["a control byte", "GET /x HTTP/1.1\r\nHost: a\u0007\r\n\r\n"],
      ["DEL in a value", "GET /x HTTP/1.1\r\nHost: a\u007f\r\n\r\n"],
      ["a name with a slash", "GET /x HTTP/1.1\r\nHo/st: a\r\n\r\n"],
      ["HTTP/1.1 without Host", "GET /x HTTP/1.1\r\nAccept: */*\r\n\r\n"],
      ["two Host headers", "GET /x HTTP/1.1\r\nHost: a\r\nhost: b\r\n\r\n"],
      ["two Content-Length headers", "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nContent-Length: 1\r\n\r\n"],
      ["a Content-Length that is not a number", "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1x\r\n\r\n"],
      ["Content-Length and Transfer-Encoding", "GET /x HTTP/1.1\r\nHost: a\r\nContent-Length: 1\r\nTransfer-Encoding: chunked\r\n\r\n"],
    ];
    for (const [what, req] of bad) {
      const { r } = parse(req);
      if (r !== E_FAIL) t.fail({ problem: `${what}: the request must be refused (E_FAIL), got ${resultName(r)}`, sent: Buffer.from(req, "latin1") });
    }
    const ok = parse("GET /x HTTP/1.0\r\nAccept: */*\r\nX-Bin: caf\u00e9\r\n\r\n");
    if (ok.r !== OK || httpGetHeader(ok.req.headers, "x-bin") !== "caf\u00e9") t.fail(`an HTTP/1.0 request without Host, with a byte from 0x80 on in a value (obs-text), must parse: got ${resultName(ok.r)} ${ok.req.problem ?? ""}`);
    const body = parse("POST /x HTTP/1.1\r\nHost: a\r\nContent-Length: 12\r\n\r\nhello");
    if (body.r !== OK || body.req.bodyLen !== 12) t.fail(`Content-Length: 12 gives bodyLen ${body.req.bodyLen} (${resultName(body.r)})`);
  }
  ensure(t, "the header lines", true, "");
});


