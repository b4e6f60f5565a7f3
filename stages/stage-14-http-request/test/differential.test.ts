// Stage 14, milestone 8: checked against a parser the course did not write.
// Every request of corpus.ts goes to your parser (in-process: your
// http.ts and http-request.ts) and to Node's own, llhttp, behind a plain
// http.createServer on a free port. Where both accept, they must agree on
// the method, the target, the version and the headers; the corpus says
// where the course's grammar is stricter, and why. Then property tests
// (fast-check): a valid request split at any bytes parses as it does whole,
// and random bytes never throw and never make a request hold more than the
// head limit.
import http from "node:http";
import net from "node:net";
import path from "node:path";
import fc from "fast-check";
import { E_AGAIN, E_FAIL, OK, resultName } from "@xps/utils";
import { HTTP_HEAD_LIMIT } from "@xps/http/http";
import { httpReqCreate, httpReqFeed, type HttpRequest } from "@xps/http/http-request";
import { defineStage, type MilestoneContext } from "@xps/testkit";
import { ensure } from "./observe.ts";
import { CORPUS, type CorpusEntry } from "./corpus.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));

interface Parsed {
  method: string;
  target: string;
  version: string;
  headers: string[];
}

/** llhttp's reading of each request: what Node's server hands its handler, or the error it reports. */
type Llhttp = { ok: true; parsed: Parsed } | { ok: false; error: string };

let pending: ((r: Llhttp) => void) | null = null;

/** Node's HTTP server with llhttp's limit set to the course's, on a free port; each request is reported to `pending`. */
async function startLlhttp(): Promise<{ port: number; close: () => Promise<void> }> {
  const server = http.createServer({ maxHeaderSize: HTTP_HEAD_LIMIT, requireHostHeader: true }, (req, res) => {
    pending?.({ ok: true, parsed: { method: req.method ?? "", target: req.url ?? "", version: req.httpVersion, headers: req.rawHeaders } });
    res.setHeader("Connection", "close");
    res.end();
  });
  server.on("connect", (req, socket: net.Socket) => {
    pending?.({ ok: true, parsed: { method: req.method ?? "", target: req.url ?? "", version: req.httpVersion, headers: req.rawHeaders } });
    socket.destroy();
  });
  server.on("clientError", (err: NodeJS.ErrnoException, socket: net.Socket) => {
    pending?.({ ok: false, error: err.code ?? err.message });
    socket.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  return { port, close: () => new Promise<void>((r) => server.close(() => r())) };
}

/** Send one request to llhttp and see what it makes of it. */
function llhttp(port: number, bytes: Buffer): Promise<Llhttp> {
  return new Promise((resolve) => {
    let settled = false;
    const done = (r: Llhttp): void => {
      if (settled) return;
      settled = true;
      pending = null;
      clearTimeout(timer);
      socket.destroy();
      resolve(r);
    };
    pending = done;
    const socket = net.connect(port, "127.0.0.1");
    socket.on("error", () => {});
    socket.on("data", () => {});
    // Node answers some refusals itself (a missing Host) and closes.
    socket.on("close", () => setTimeout(() => done({ ok: false, error: "closed without a request" }), 50));
    const timer = setTimeout(() => done({ ok: false, error: "no request within 2 s" }), 2000);
    socket.write(bytes, () => socket.end());
  });
}

function ours(bytes: Buffer): { r: number; req: HttpRequest } {
  const req = httpReqCreate();
  const r = httpReqFeed(req, bytes);
  return { r, req };
}

function fieldsOf(req: HttpRequest): Parsed {
  return { method: req.method, target: req.uri, version: req.httpVersion, headers: req.headers.flatMap((h) => [h.key, h.val]) };
}

const show = (e: CorpusEntry): string => JSON.stringify(e.request.length > 90 ? `${e.request.slice(0, 90)}...` : e.request);

stage.check("m8", "the corpus against llhttp", async (t: MilestoneContext) => {
  const node0 = await startLlhttp();
  t.cleanup(node0.close);
  const problems: string[] = [];
  for (const entry of CORPUS) {
    const bytes = Buffer.from(entry.request, "latin1");
    const node = await llhttp(node0.port, bytes);
    const { r, req } = ours(bytes);
    const accepted = r === OK;
    if (r !== OK && r !== E_FAIL) {
      problems.push(`${show(entry)}: your parser gave ${resultName(r)} for a whole request; it must accept (OK) or refuse (E_FAIL) it`);
      continue;
    }
    if (accepted && !node.ok) {
      problems.push(`${show(entry)} (${entry.why}): your parser accepts it, and llhttp refuses it (${node.error}); a request the server accepts must be one Node's parser reads too`);
      continue;
    }
    const wantOurs = entry.verdict === "both";
    const wantNode = entry.verdict !== "neither";
    if (node.ok !== wantNode) problems.push(`${show(entry)}: the corpus says llhttp ${wantNode ? "accepts" : "refuses"} it (${entry.why}), but it ${node.ok ? "accepts" : `refuses (${node.error})`}: the corpus needs fixing`);
    if (accepted !== wantOurs) {
      problems.push(`${show(entry)} (${entry.why}): your parser ${accepted ? "accepts" : `refuses (${req.problem ?? "no reason"})`} it; it should ${wantOurs ? "accept" : "refuse"} it`);
      continue;
    }
    if (accepted && node.ok) {
      const a = JSON.stringify(fieldsOf(req));
      const b = JSON.stringify(node.parsed);
      if (a !== b) problems.push(`${show(entry)}: your parser and llhttp read it differently:\n      yours  ${a}\n      llhttp ${b}`);
    }
  }
  if (problems.length > 0) t.fail({ problem: `${problems.length} of ${CORPUS.length} corpus requests went wrong; the first: ${problems[0]}`, notes: problems.slice(1, 12) });
  ensure(t, "the corpus against llhttp", true, "");
});

// ------------------------------------------------------------ properties

const METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE"];
const PATH_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._~!$&'()*+,;=:@/%";
const TOKEN_CHARS = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789!#$%&'*+-.^_`|~";
const VALUE_CHARS = "abcdefghijklmnopqrstuvwxyz ABC 0123456789 \t!\"#$%&'()*+,-./:;<=>?@[\\]^_`{|}~\u00e9\u00ff";
const str = (chars: string, min: number, max: number) => fc.string({ unit: fc.constantFrom(...chars), minLength: min, maxLength: max });

/** A valid request: a method, an origin-form target with an optional query, a version, a Host and a few headers. */
const validRequest = fc
  .record({
    method: fc.constantFrom(...METHODS),
    path: str(PATH_CHARS, 0, 40),
    query: fc.option(str(PATH_CHARS + "?=&", 0, 20), { nil: undefined }),
    version: fc.constantFrom("1.0", "1.1"),
    headers: fc.array(fc.tuple(str(TOKEN_CHARS, 1, 16), str(VALUE_CHARS, 0, 40)), { maxLength: 8 }),
  })
  .map((r) => {
    const headers = [["Host", "example.com"], ...r.headers.filter(([k]) => !/^(host|content-length|transfer-encoding)$/i.test(k))];
    const target = `/${r.path}${r.query === undefined ? "" : `?${r.query}`}`;
    return Buffer.from(`${r.method} ${target} HTTP/${r.version}\r\n${headers.map(([k, v]) => `${k}:${v}`).join("\r\n")}\r\n\r\n`, "latin1");
  });

/** Cut `bytes` at these positions (any numbers; taken modulo its length) and feed the pieces in turn. */
function feedCut(bytes: Buffer, cuts: number[]): { r: number; req: HttpRequest; results: number[] } {
  const at = [...new Set(cuts.map((c) => c % (bytes.length + 1)))].sort((a, b) => a - b);
  const req = httpReqCreate();
  const results: number[] = [];
  let from = 0;
  for (const to of [...at, bytes.length]) {
    results.push(httpReqFeed(req, bytes.subarray(from, to)));
    from = to;
  }
  return { r: results.at(-1)!, req, results };
}

stage.check("m8", "property: a valid request split at any bytes parses as it does whole", (t: MilestoneContext) => {
  const failure = fc.check(
    fc.property(validRequest, fc.array(fc.nat(), { maxLength: 12 }), (bytes, cuts) => {
      const whole = ours(bytes);
      if (whole.r !== OK) throw new Error(`the request does not parse whole: ${resultName(whole.r)} (${whole.req.problem ?? ""})`);
      const cut = feedCut(bytes, cuts);
      if (cut.r !== OK) throw new Error(`split, it gave ${resultName(cut.r)} (${cut.req.problem ?? ""})`);
      if (cut.results.slice(0, -1).some((x) => x !== E_AGAIN && x !== OK)) throw new Error(`a piece before the last gave ${cut.results.map(resultName).join(", ")}`);
      const a = JSON.stringify({ ...fieldsOf(whole.req), path: whole.req.path, pathname: whole.req.pathname, len: whole.req.headerLen });
      const b = JSON.stringify({ ...fieldsOf(cut.req), path: cut.req.path, pathname: cut.req.pathname, len: cut.req.headerLen });
      if (a !== b) throw new Error(`whole ${a}\n  split ${b}`);
    }),
    { numRuns: 300, seed: 14 },
  );
  if (failure.failed) t.fail({ problem: `a valid request, split, did not parse as it does whole: ${(failure.errorInstance as Error | undefined)?.message ?? ""}`, notes: [`counterexample: ${JSON.stringify(failure.counterexample?.map((x) => (Buffer.isBuffer(x) ? x.toString("latin1") : x)))}`] });
  ensure(t, "property: a valid request split at any bytes parses as it does whole", true, "");
});

stage.check("m8", "property: random bytes never throw, and a request never holds more than the limit", (t: MilestoneContext) => {
  const junk = fc.oneof(
    fc.uint8Array({ maxLength: 3 * HTTP_HEAD_LIMIT }).map((a) => Buffer.from(a)),
    // a valid request with bytes changed at random
    fc.tuple(validRequest, fc.array(fc.tuple(fc.nat(), fc.integer({ min: 0, max: 255 })), { maxLength: 6 })).map(([b, edits]) => {
      const copy = Buffer.from(b);
      for (const [at, v] of edits) copy[at % copy.length] = v;
      return copy;
    }),
    // a valid start that never ends
    fc.integer({ min: 1, max: 4 * HTTP_HEAD_LIMIT }).map((n) => Buffer.concat([Buffer.from("GET / HTTP/1.1\r\nX: "), Buffer.alloc(n, 0x61)])),
  );
  const failure = fc.check(
    fc.property(junk, fc.array(fc.nat(), { maxLength: 10 }), (bytes, cuts) => {
      let cut: ReturnType<typeof feedCut>;
      try {
        cut = feedCut(bytes, cuts);
      } catch (err) {
        throw new Error(`httpReqFeed threw: ${(err as Error).message}`);
      }
      if (![OK, E_AGAIN, E_FAIL].includes(cut.r)) throw new Error(`it gave ${resultName(cut.r)}`);
      if (cut.req.buff.len > HTTP_HEAD_LIMIT) throw new Error(`the request holds ${cut.req.buff.len} bytes, more than the limit of ${HTTP_HEAD_LIMIT}`);
      if (cut.req.buff.size > HTTP_HEAD_LIMIT) throw new Error(`the request's buffer has room for ${cut.req.buff.size} bytes, more than the limit of ${HTTP_HEAD_LIMIT}`);
      if (bytes.length > HTTP_HEAD_LIMIT + 16 && bytes.indexOf("\r\n\r\n") < 0 && cut.r === E_AGAIN) throw new Error(`${bytes.length} bytes with no end of head are still E_AGAIN: past the limit it is E_FAIL (431)`);
      if (cut.r === E_FAIL && cut.req.status !== 400 && cut.req.status !== 431) throw new Error(`a refused request has status ${cut.req.status}; it is 400 or 431`);
    }),
    { numRuns: 300, seed: 41 },
  );
  if (failure.failed) t.fail({ problem: `random bytes broke the parser: ${(failure.errorInstance as Error | undefined)?.message ?? ""}`, notes: [`counterexample (first 200 bytes): ${JSON.stringify((failure.counterexample?.[0] as Buffer | undefined)?.subarray(0, 200).toString("latin1"))}`] });
  ensure(t, "property: random bytes never throw, and a request never holds more than the limit", true, "");
});
