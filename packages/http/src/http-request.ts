// @stages 14-
// The HTTP request (xps_http_req.c, stage 14): the request a client sends,
// as the parser of http.ts reads it, with its parts copied out as strings.
//
// Where the C course differs, and why. xps_http_req_create parses a peek of
// the client's pipe and, when the bytes run out (E_AGAIN), throws the peek
// away: a request split over several TCP segments never parses. Here a
// request gathers its head in a buffer of its own, chunk by chunk
// (httpReqFeed), and the parser goes on from where it stopped, so a request
// that arrives one byte at a time parses as one that arrives whole. That
// buffer never holds more than HTTP_HEAD_LIMIT bytes, whatever the client
// sends: a head that has not ended by then is refused with 431.
import { E_AGAIN, E_FAIL, E_NEXT, OK, XpsBuffer } from "@xps/utils";
import {
  HTTP_HEAD_LIMIT,
  H_START,
  RL_START,
  httpCountHeader,
  httpGetHeader,
  httpParseHeaderLine,
  httpParseRequestLine,
  type HttpMethod,
  type HttpStatus,
  type KeyVal,
} from "@xps/http/http";

export interface HttpRequest {
  /** Where the parser is (an RL_ or H_ state of http.ts). */
  parserState: number;
  /** The method, once the parser has matched it. */
  methodN: HttpMethod | null;
  // The parts, copied out once the request line is complete:
  /** "GET http://example.com:3000/api/x?k=v HTTP/1.1", without its CRLF. */
  requestLine: string;
  method: string;
  /** The whole target: "http://example.com:3000/api/x?k=v" or "/api/x?k=v". */
  uri: string;
  /** "http", or "" in origin form. */
  schema: string;
  /** "example.com" (an IP literal keeps its brackets), or "" in origin form. */
  host: string;
  /** The target's port, or the schema's (443 for https, 80 otherwise) when it has none. */
  port: number;
  /** With the query: "/api/x?k=v". */
  path: string;
  /** Without the query: "/api/x". */
  pathname: string;
  /** "1.0" or "1.1". */
  httpVersion: string;
  /** The header lines in order, names and values as sent (values without the spaces around them). */
  headers: KeyVal[];
  // Where each part lies in buff.data (C keeps pointers into the buffer):
  requestLineStart: number;
  requestLineEnd: number;
  methodStart: number;
  methodEnd: number;
  uriStart: number;
  uriEnd: number;
  schemaStart: number;
  schemaEnd: number;
  hostStart: number;
  hostEnd: number;
  portStart: number;
  portEnd: number;
  pathStart: number;
  pathEnd: number;
  pathnameStart: number;
  pathnameEnd: number;
  /** The major and minor digits of the version. */
  httpMajor: number;
  httpMinor: number;
  headerKeyStart: number;
  headerKeyEnd: number;
  headerValStart: number;
  headerValEnd: number;
  /** Bytes of the head: request line, header lines and the empty line. */
  headerLen: number;
  /** The Content-Length, or 0. */
  bodyLen: number;
  /** The request says Transfer-Encoding: a body of unknown length follows. */
  bodyChunked: boolean;
  // This edition's own:
  /** The head so far; it never holds more than HTTP_HEAD_LIMIT bytes. */
  buff: XpsBuffer;
  /** Where the request stands: E_AGAIN (more bytes wanted), OK (complete) or E_FAIL (refused). */
  result: number;
  /** For a refused request, the status to answer with: 400, or 431 for a head over the limit. */
  status: HttpStatus;
  /** For a refused request, why (for the log and the reply's body). */
  problem: string | null;
}

/** A request with nothing read yet, waiting for its first bytes (the start of xps_http_req_create). */
export function httpReqCreate(): HttpRequest {
  return {
    parserState: RL_START,
    methodN: null,
    requestLine: "",
    method: "",
    uri: "",
    schema: "",
    host: "",
    port: -1,
    path: "",
    pathname: "",
    httpVersion: "",
    headers: [],
    requestLineStart: 0,
    requestLineEnd: 0,
    methodStart: 0,
    methodEnd: 0,
    uriStart: 0,
    uriEnd: 0,
    schemaStart: 0,
    schemaEnd: 0,
    hostStart: 0,
    hostEnd: 0,
    portStart: 0,
    portEnd: 0,
    pathStart: 0,
    pathEnd: 0,
    pathnameStart: 0,
    pathnameEnd: 0,
    httpMajor: 0,
    httpMinor: 0,
    headerKeyStart: 0,
    headerKeyEnd: 0,
    headerValStart: 0,
    headerValEnd: 0,
    headerLen: 0,
    bodyLen: 0,
    bodyChunked: false,
    buff: XpsBuffer.create(1024),
    result: E_AGAIN,
    status: 400,
    problem: null,
  };
}

/** The bytes [start, end) of the request's buffer as a string (str_from_ptrs); one byte is one character. */
export function strFromOffsets(req: HttpRequest, start: number, end: number): string {
  return req.buff.data.toString("latin1", start, end);
}

/** Refuse the request: E_FAIL, with the status and the reason kept. */
export function requestFail(req: HttpRequest, status: HttpStatus, why: string): typeof E_FAIL {
  req.status = status;
  req.problem = why;
  return E_FAIL;
}

/**
 * The next bytes of the request. Takes what fits within HTTP_HEAD_LIMIT
 * and goes on parsing: OK once the head is complete (the fields are
 * filled in; req.headerLen says where the body would start), E_AGAIN while
 * more bytes are wanted, E_FAIL for a request that is refused (req.status
 * and req.problem say how and why). Once the result is OK or E_FAIL, more
 * bytes change nothing.
 */
export function httpReqFeed(req: HttpRequest, chunk: Buffer): number {
  // @solution stage-14 begin 8: Gather the head, within the limit
  //> Once the request is complete or refused (req.result is not E_AGAIN),
  //> return req.result and take nothing. Otherwise append the chunk to
  //> req.buff, but never beyond HTTP_HEAD_LIMIT bytes in all: when its
  //> data is too small, move the bytes into a new Buffer twice as large
  //> (at most the limit), so the offsets the parser marked stay valid.
  //> Then parse on (httpReqParse). A result of E_AGAIN with the buffer at
  //> the limit means the head cannot end within it: refuse it with 431
  //> (requestFail). Keep the result in req.result and return it.
  if (req.result !== E_AGAIN) return req.result;
  const buff = req.buff;
  const take = Math.min(chunk.length, HTTP_HEAD_LIMIT - buff.len);
  if (buff.len + take > buff.size) {
    const bigger = Buffer.allocUnsafe(Math.min(HTTP_HEAD_LIMIT, Math.max(buff.size * 2, buff.len + take)));
    buff.data.copy(bigger, 0, 0, buff.len);
    buff.data = bigger;
  }
  chunk.copy(buff.data, buff.len, 0, take);
  buff.len += take;
  let r = httpReqParse(req);
  if (r === E_AGAIN && buff.len >= HTTP_HEAD_LIMIT) {
    r = requestFail(req, 431, `the request's head did not end within ${HTTP_HEAD_LIMIT} bytes`);
  }
  req.result = r;
  return r;
  // @solution end
}

/** xps_http_req_create's parsing: the request line, then the headers, from where the parser stopped. */
export function httpReqParse(req: HttpRequest): number {
  if (req.parserState < H_START) {
    const r = httpProcessRequestLine(req);
    if (r !== OK) return r;
  }
  const r = httpProcessHeaders(req);
  if (r !== OK) return r;
  req.headerLen = req.buff.pos;
  return OK;
}

/** http_process_request_line: parse on, and once the line is complete copy its parts out. */
export function httpProcessRequestLine(req: HttpRequest): number {
  const r = httpParseRequestLine(req, req.buff);
  if (r !== OK) return r;
  // @solution stage-14 begin 6: Copy out the request line's parts
  //> With the line complete, copy each part out of the buffer between its
  //> marks (strFromOffsets): requestLine, method, uri, schema, host, path,
  //> pathname, and httpVersion, from the major digit to the minor one
  //> ("1.1"). An absolute-form URL with no path ("http://host") has the
  //> path and pathname "/". The port: the digits between its marks, or
  //> when there are none, 443 for the schema "https" and 80 otherwise. A
  //> port outside 1 to 65535 fails with 400 (requestFail). Return OK.
  req.requestLine = strFromOffsets(req, req.requestLineStart, req.requestLineEnd);
  req.method = strFromOffsets(req, req.methodStart, req.methodEnd);
  req.uri = strFromOffsets(req, req.uriStart, req.uriEnd);
  req.schema = strFromOffsets(req, req.schemaStart, req.schemaEnd);
  req.host = strFromOffsets(req, req.hostStart, req.hostEnd);
  req.path = strFromOffsets(req, req.pathStart, req.pathEnd) || "/";
  req.pathname = strFromOffsets(req, req.pathnameStart, req.pathnameEnd) || "/";
  req.httpVersion = strFromOffsets(req, req.httpMajor, req.httpMinor + 1);
  const port = strFromOffsets(req, req.portStart, req.portEnd);
  req.port = port === "" ? (req.schema.toLowerCase() === "https" ? 443 : 80) : Number(port);
  if (!(req.port >= 1 && req.port <= 65535)) return requestFail(req, 400, `port ${port} is not a port (1 to 65535)`);
  return OK;
  // @solution end
}

/** http_process_headers: parse on, keeping each complete header line; then check what the headers say. */
export function httpProcessHeaders(req: HttpRequest): number {
  // @solution stage-14 begin 7: Collect the headers and check them
  //> Call httpParseHeaderLine again and again. On E_NEXT or OK a header
  //> line is complete: push { key, val } with both copied out between the
  //> marks. E_NEXT: go on with the next line; OK: the block is complete;
  //> E_AGAIN: return it (the headers so far stay, the parser goes on
  //> later); E_FAIL: 400.
  //> Then the checks RFC 9112 asks of a server, each a 400: an HTTP/1.1
  //> request has exactly one Host header (HTTP/1.0: at most one); at most
  //> one Content-Length, all digits (it becomes req.bodyLen); and not both
  //> Content-Length and Transfer-Encoding (a body framed two ways is how
  //> requests are smuggled). Transfer-Encoding alone sets req.bodyChunked.
  for (;;) {
    const r = httpParseHeaderLine(req, req.buff);
    if (r === E_AGAIN) return r;
    if (r === E_FAIL) return requestFail(req, 400, req.problem ?? "malformed header line");
    req.headers.push({ key: strFromOffsets(req, req.headerKeyStart, req.headerKeyEnd), val: strFromOffsets(req, req.headerValStart, req.headerValEnd) });
    if (r === E_NEXT) continue;
    break;
  }
  const hosts = httpCountHeader(req.headers, "Host");
  if (hosts > 1 || (hosts === 0 && req.httpVersion === "1.1")) return requestFail(req, 400, hosts > 1 ? "more than one Host header" : "an HTTP/1.1 request needs a Host header");
  const lengths = httpCountHeader(req.headers, "Content-Length");
  const length = httpGetHeader(req.headers, "Content-Length");
  const chunked = httpGetHeader(req.headers, "Transfer-Encoding");
  if (lengths > 1) return requestFail(req, 400, "more than one Content-Length header");
  if (length !== null && !/^\d{1,15}$/.test(length)) return requestFail(req, 400, `Content-Length ${JSON.stringify(length)} is not a number of bytes`);
  if (length !== null && chunked !== null) return requestFail(req, 400, "both Content-Length and Transfer-Encoding: the body's length would be read two ways");
  req.bodyLen = length === null ? 0 : Number(length);
  req.bodyChunked = chunked !== null;
  return OK;
  // @solution end
}

/** The request has a body (a Content-Length above 0, or Transfer-Encoding). */
export function httpReqHasBody(req: HttpRequest): boolean {
  return req.bodyLen > 0 || req.bodyChunked;
}
// @since 16 begin

/** Headers that concern one connection only: the proxy does not pass them on. */
const HOP_BY_HOP = new Set(["connection", "keep-alive", "proxy-connection", "te", "upgrade"]);

/**
 * The request as a proxy sends it on (xps_http_req_serialize): the request
 * line in origin form (an absolute-form target loses its scheme and host),
 * the client's headers in their order, minus the hop-by-hop ones, and
 * "Connection: close": one request per upstream connection, as per client.
 */
export function httpReqSerialize(req: HttpRequest): Buffer {
  const target = req.path === "" ? "/" : req.path;
  const headers = req.headers.filter((h) => !HOP_BY_HOP.has(h.key.toLowerCase()));
  const lines = [`${req.method} ${target} HTTP/${req.httpVersion}`, ...headers.map((h) => `${h.key}: ${h.val}`), "Connection: close", "", ""];
  return Buffer.from(lines.join("\r\n"), "latin1");
}
// @since end
