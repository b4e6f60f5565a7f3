// stage-14: your copy of packages/http/src/http.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-14` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-14` restores this version.

// The HTTP parser (xps_http.c, stage 14): a request line and its header
// lines, read one byte at a time by a state machine, as the C course does
// it. No HTTP library is involved: every byte the server accepts is one this
// file has looked at.
//
// The parser walks an XpsBuffer from buff.pos to buff.len. It records where
// each part starts and ends (offsets into buff.data, where C keeps pointers)
// and remembers its state in req.parserState, so it can stop at any byte
// and go on when more bytes have been appended to the same buffer: a
// request that arrives one byte at a time parses exactly as one that
// arrives whole. Each function returns
//
//   OK       the line (or, for headers, the whole block) is complete
//   E_NEXT   one header line is complete and another one follows
//   E_AGAIN  every byte so far is fine, and more are needed
//   E_FAIL   the bytes are not a request this server accepts (req.problem says why)
//
// The grammar is stricter than the C text where RFC 9112 tells a server to
// reject what could be read two ways (request smuggling): lines end with
// CRLF only (a bare CR or a bare LF fails), a header name is a token with no
// space before its colon, a value holds no control bytes, and a line that
// starts with a space or a tab (obs-fold) fails.
import { E_AGAIN, E_FAIL, E_NEXT, OK, type XpsBuffer } from "@xps/utils";
import type { KeyVal } from "@xps/disk/mime-table";
import type { HttpRequest } from "@xps/http/http-request";
import { todo } from "@xps/utils/todo";

export type { KeyVal };

export const CR = 0x0d;
export const LF = 0x0a;
const SP = 0x20;
const HTAB = 0x09;

/** The methods the server knows (xps_http_method_t); any other name is a 400. */
export const HTTP_METHODS = ["GET", "HEAD", "POST", "PUT", "DELETE", "OPTIONS", "TRACE", "CONNECT"] as const;
export type HttpMethod = (typeof HTTP_METHODS)[number];

/** The status codes the server uses, with their reason phrases (xps_http_status_code_t). */
export const HTTP_STATUS = {
  200: "OK",
  201: "Created",
  301: "Moved Permanently",
  302: "Found",
  304: "Not Modified",
  307: "Temporary Redirect",
  308: "Permanent Redirect",
  400: "Bad Request",
  401: "Unauthorized",
  403: "Forbidden",
  404: "Not Found",
  405: "Method Not Allowed",
  408: "Request Timeout",
  413: "Content Too Large",
  429: "Too Many Requests",
  431: "Request Header Fields Too Large",
  500: "Internal Server Error",
  501: "Not Implemented",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
  505: "HTTP Version Not Supported",
} as const;
export type HttpStatus = keyof typeof HTTP_STATUS;

/**
 * The most a request's head (its request line, its header lines and the
 * empty line after them) may take: 8 KiB, nginx's header buffer. A head
 * that has not ended within it is answered 431.
 */
export const HTTP_HEAD_LIMIT = 8192;

// The parser's states (xps_http_parser_state_t). The header states are
// numbered apart from the request-line states, so that the state alone says
// which part of the request the parser is in.
export const RL_START = 0;
export const RL_METHOD = 1;
export const RL_SP_AFTER_METHOD = 2;
export const RL_SCHEMA = 3;
export const RL_SCHEMA_SLASH = 4;
export const RL_SCHEMA_SLASH_SLASH = 5;
export const RL_HOST_START = 6;
export const RL_HOST = 7;
export const RL_HOST_END = 8;
export const RL_HOST_IP_LITERAL = 9;
export const RL_PORT = 10;
export const RL_PATH = 11;
export const RL_PATHNAME = 12;
export const RL_VERSION_START = 13;
export const RL_VERSION_H = 14;
export const RL_VERSION_HT = 15;
export const RL_VERSION_HTT = 16;
export const RL_VERSION_HTTP = 17;
export const RL_VERSION_HTTP_SLASH = 18;
export const RL_VERSION_MAJOR = 19;
export const RL_VERSION_DOT = 20;
export const RL_VERSION_MINOR = 21;
export const RL_CR = 22;
export const RL_START_CR = 23;
export const H_START = 100;
export const H_NAME = 101;
export const H_COLON = 102;
export const H_VAL = 103;
export const H_CR = 104;
export const H_LF = 105;
export const H_LF_CR = 106;

const isUpper = (c: number): boolean => c >= 0x41 && c <= 0x5a;
const isLower = (c: number): boolean => c >= 0x61 && c <= 0x7a;
const isAlpha = (c: number): boolean => isUpper(c) || isLower(c);
const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isHexDigit = (c: number): boolean => isDigit(c) || (c >= 0x61 && c <= 0x66) || (c >= 0x41 && c <= 0x46);
/** Visible ASCII: what a request target may hold. */
const isVisible = (c: number): boolean => c > SP && c < 0x7f;
/** A host name's letters: letters, digits, ".", "-" and "_". */
const isHostChar = (c: number): boolean => isAlpha(c) || isDigit(c) || c === 0x2e || c === 0x2d || c === 0x5f;
const TOKEN_SYMBOLS = new Set([..."!#$%&'*+-.^_`|~"].map((s) => s.charCodeAt(0)));
/** A token's letters (RFC 9110, tchar): header names are tokens. */
export const isTokenChar = (c: number): boolean => isAlpha(c) || isDigit(c) || TOKEN_SYMBOLS.has(c);
/** What a header value may hold: visible ASCII, space, tab, and bytes from 0x80 on (obs-text); no other control byte. */
const isValueChar = (c: number): boolean => (c >= SP && c !== 0x7f) || c === HTAB;

/** Fail with the reason in req.problem (the session answers 400). */
export function parseFail(req: HttpRequest, why: string, at: number): typeof E_FAIL {
  req.problem = `${why} (byte ${at})`;
  return E_FAIL;
}

/** A byte for a reason text: printable as itself, otherwise its code. */
export function showByte(c: number): string {
  return c > SP && c < 0x7f ? JSON.stringify(String.fromCharCode(c)) : `0x${c.toString(16).padStart(2, "0")}`;
}

// ------------------------------------------------------------ the request line

/**
 * xps_http_parse_request_line: go on reading the request line from
 * buff.pos. OK once its CRLF has been read (buff.pos is then just after it
 * and the state is H_START); E_AGAIN when the bytes ran out first (buff.pos
 * is buff.len); E_FAIL at the first byte that does not fit.
 */
export function httpParseRequestLine(req: HttpRequest, buff: XpsBuffer): number {
  const data = buff.data;
  for (let i = buff.pos; i < buff.len; i++) {
    const c = data[i]!;
    const s = req.parserState;
    const r = s <= RL_SP_AFTER_METHOD || s === RL_START_CR ? requestLineMethod(req, c, i) : s < RL_VERSION_START ? requestLineTarget(req, c, i) : requestLineVersion(req, c, i);
    if (r === E_AGAIN) continue;
    buff.pos = r === OK ? i + 1 : i;
    return r;
  }
  buff.pos = buff.len;
  return E_AGAIN;
}

/** The method's name, when it is one the server knows; otherwise null. */
export function methodByName(name: string): HttpMethod | null {
  return (HTTP_METHODS as readonly string[]).includes(name) ? (name as HttpMethod) : null;
}

/** States RL_START to RL_SP_AFTER_METHOD: empty lines before the request, the method, the space after it. */
function requestLineMethod(req: HttpRequest, c: number, i: number): number {
  // TODO(stage-14 #1): Read the method
  // RL_START: an empty line (CRLF) before the request is skipped; a CR must
  // be followed by its LF (RL_START_CR), anything else after it fails. An
  // uppercase letter starts the request line and the method (mark both
  // starts) and moves to RL_METHOD; any other byte fails.
  // RL_METHOD: uppercase letters go on; a space ends the method (mark its
  // end). Then the name must be one the server knows (methodByName; GOT or
  // PATCH fail), kept in req.methodN, and the state is RL_SP_AFTER_METHOD.
  // Anything else fails.
  // RL_SP_AFTER_METHOD: exactly one space comes before the target. A "/"
  // starts an origin-form target: uri, path and pathname start here, and
  // the schema, host and port are empty (start = end = here); go to
  // RL_PATH. A letter starts an absolute-form target: uri and schema start
  // here; go to RL_SCHEMA. Anything else (a second space, "*") fails.
  // Return E_AGAIN for a byte that was taken, E_FAIL through parseFail.
  throw todo("stage-14", 1, "Read the method");
}

/** States RL_SCHEMA to RL_PATHNAME: the request target, in origin form (/path?query) or absolute form (schema://host:port/path?query). */
function requestLineTarget(req: HttpRequest, c: number, i: number): number {
  // TODO(stage-14 #2): Read the request target
  // RL_SCHEMA: letters, digits, "+", "-", "." go on; ":" ends the schema
  // (RL_SCHEMA_SLASH), then "/" (RL_SCHEMA_SLASH_SLASH) and "/" again:
  // the host starts at the next byte (RL_HOST_START).
  // RL_HOST_START: "[" starts an IP literal (RL_HOST_IP_LITERAL: hex
  // digits, ":" and "." until "]", then RL_HOST_END); a host letter
  // (letters, digits, ".", "-", "_") starts a name (RL_HOST). An empty host
  // fails.
  // RL_HOST and RL_HOST_END: ":" ends the host and starts the port
  // (RL_PORT); "/" ends the host, the port is empty, and the path and the
  // pathname start (RL_PATH); a space ends the host and the uri with the
  // path, pathname and port empty (RL_VERSION_START). RL_HOST also takes
  // more host letters.
  // RL_PORT: digits; "/" ends the port and starts the path (RL_PATH); a
  // space ends the port and the uri (RL_VERSION_START).
  // RL_PATH: a space ends path, pathname and uri (RL_VERSION_START); "?"
  // or "#" ends the pathname only (RL_PATHNAME); any other visible ASCII
  // byte goes on. RL_PATHNAME: a space ends the path and the uri; visible
  // bytes go on. Every other byte, in every state, fails: CR, LF, a
  // control byte, a byte from 0x80 on, "@" (user info) in the host.
  throw todo("stage-14", 2, "Read the request target");
}

/** After a host or a port: "/" starts the path, a space ends the target (with an empty path). */
function targetPathOrEnd(req: HttpRequest, c: number, i: number, what: string): number {
  // TODO(stage-14 #2): Read the request target
  throw todo("stage-14", 2, "Read the request target");
}

/** States RL_VERSION_START to RL_CR: "HTTP/1.0" or "HTTP/1.1", then CRLF. */
function requestLineVersion(req: HttpRequest, c: number, i: number): number {
  // TODO(stage-14 #3): Read the version and the end of the line
  // After the one space that ends the target: "H", "T", "T", "P", "/" in
  // turn (RL_VERSION_START to RL_VERSION_HTTP, each state expecting one
  // byte), then the major digit, which must be "1" (mark req.httpMajor;
  // RL_VERSION_MAJOR), a "." (RL_VERSION_DOT), and the minor digit, "0"
  // or "1" (mark req.httpMinor; RL_VERSION_MINOR). Only HTTP/1.0 and
  // HTTP/1.1 are accepted: HTTX, HTTP/2.0 and a second space fail.
  // RL_VERSION_MINOR needs CR (RL_CR), and RL_CR needs LF: a bare LF or a
  // bare CR fails. At that LF, mark the request line's end (at its CR),
  // move to H_START and return OK.
  throw todo("stage-14", 3, "Read the version and the end of the line");
}

// ------------------------------------------------------------ header lines

/**
 * xps_http_parse_header_line: go on reading header lines from buff.pos.
 * E_NEXT once a header line is complete and the next one has begun
 * (buff.pos is at its first byte, and req.headerKeyStart ... headerValEnd
 * mark the complete one); OK once the empty line that ends the block has
 * been read (buff.pos is just after it; the marks hold the last header);
 * E_AGAIN when the bytes ran out first; E_FAIL at the first byte that does
 * not fit. A head with no header line at all fails.
 */
export function httpParseHeaderLine(req: HttpRequest, buff: XpsBuffer): number {
  const data = buff.data;
  for (let i = buff.pos; i < buff.len; i++) {
    const r = headerLineByte(req, data[i]!, i);
    if (r === E_AGAIN) continue;
    buff.pos = r === OK ? i + 1 : i;
    return r;
  }
  buff.pos = buff.len;
  return E_AGAIN;
}

function headerLineByte(req: HttpRequest, c: number, i: number): number {
  // TODO(stage-14 #4): Read one header line
  // H_START: a token byte (isTokenChar) starts the name (mark its start;
  // H_NAME). Anything else fails, a CR too: a request with no header
  // line at all is not accepted (the tester wants a 400).
  // H_NAME: token bytes go on; ":" ends the name (mark its end; H_COLON).
  // A space or tab before the colon, or any other byte, fails.
  // H_COLON: spaces and tabs after the colon are skipped; the first other
  // byte starts the value (mark its start and its end; H_VAL), a CR ends
  // an empty value (H_CR).
  // H_VAL: value bytes (isValueChar) go on; move the value's end past
  // every byte that is not a space or a tab (so trailing spaces are not
  // part of it). CR goes to H_CR; anything else fails (a bare LF, a
  // control byte, DEL).
  // H_CR needs LF (H_LF). H_LF looks at the next line's first byte: a
  // token byte means this header is done (E_NEXT; the byte is the next
  // name's, so do not take it: the state is H_START and the caller's
  // position stays on it); CR starts the empty line (H_LF_CR), whose LF
  // ends the block (OK, state H_START). A space or a tab there is
  // obs-fold, a value continued on the next line: it fails, as RFC 9112
  // allows, because servers disagree on what it means.
  throw todo("stage-14", 4, "Read one header line");
}

// ------------------------------------------------------------ headers

/** xps_http_get_header: the value of the first header named `key`, whatever the case of either; null when there is none. */
export function httpGetHeader(headers: readonly KeyVal[], key: string): string | null {
  // TODO(stage-14 #5): Find a header, whatever its case
  // Header names are case-insensitive (RFC 9110): "host", "Host" and
  // "HOST" are the same header. Return the value of the first header
  // whose key equals `key` when both are lower-cased; null when none does.
  throw todo("stage-14", 5, "Find a header, whatever its case");
}

/** How many headers are named `key`, whatever the case. */
export function httpCountHeader(headers: readonly KeyVal[], key: string): number {
  const want = key.toLowerCase();
  return headers.filter((h) => h.key.toLowerCase() === want).length;
}

/** xps_http_serialize_headers: "key: val" and CRLF for each header, in order (the C text's bare "\n" would fail Node's fetch). */
export function httpSerializeHeaders(headers: readonly KeyVal[]): Buffer {
  return Buffer.from(headers.map((h) => `${h.key}: ${h.val}\r\n`).join(""), "latin1");
}

