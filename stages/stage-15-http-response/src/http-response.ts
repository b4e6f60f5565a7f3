// stage-15: your copy of packages/http/src/http-response.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-15` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-15` restores this version.

// The HTTP response (xps_http_res.c, stage 15): a status line, a list of
// headers and an optional body, serialized into the bytes a client reads.
// Stage 14 wrote its replies by hand; from stage 15 every reply the session
// sends is built here, so every one of them has the same default headers
// (Date, Server, Access-Control-Allow-Origin) and CRLF line endings.
import { SERVER_NAME } from "@xps/utils";
import { HTTP_STATUS, httpSerializeHeaders, httpSetHeader, type HttpStatus, type KeyVal } from "@xps/http/http";
import { todo } from "@xps/utils/todo";

export interface HttpResponse {
  /** "HTTP/1.1 200 OK" (C keeps it in a char[70]). */
  responseLine: string;
  headers: KeyVal[];
  body: Buffer | null;
}

/** The day and month names of IMF-fixdate (RFC 9110, section 5.6.7), which never depend on the locale. */
export const DAY_NAMES = ["Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"] as const;
export const MONTH_NAMES = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"] as const;

/** A date as HTTP writes it, IMF-fixdate: "Sun, 06 Nov 1994 08:49:37 GMT", always in UTC. */
export function imfDate(date: Date): string {
  // TODO(stage-15 #2): Write the date in IMF-fixdate
  // The day name, a comma and a space, the day of the month in two
  // digits, the month's name, the year in four digits, the time as
  // hh:mm:ss in two digits each, and "GMT": all of it in UTC (getUTCDay,
  // getUTCDate, ...), never local time, and with the English names above
  // (not the locale's). Date#toUTCString writes the same thing, if you
  // check that it does.
  throw todo("stage-15", 2, "Write the date in IMF-fixdate");
}

/**
 * xps_http_res_create: a response with its status line and the default
 * headers, in this order: Date (now), Server (SERVER_NAME) and
 * Access-Control-Allow-Origin: * (any page may read what this server
 * serves). No body yet.
 */
export function httpResCreate(code: HttpStatus, now: Date = new Date()): HttpResponse {
  // TODO(stage-15 #1): Start the response: status line and default headers
  // The status line is "HTTP/1.1", the code and its reason phrase
  // (HTTP_STATUS), each separated by one space: "HTTP/1.1 404 Not Found".
  // Then three headers, in this order, added with httpSetHeader: Date
  // (imfDate of `now`), Server (SERVER_NAME, "eXpServer") and
  // Access-Control-Allow-Origin ("*"). The body is null.
  throw todo("stage-15", 1, "Start the response: status line and default headers");
}

/** Add a header after the others (xps_http_set_header on the response's list): OK, or E_FAIL for a name or value that would break the block. */
export function httpResSetHeader(res: HttpResponse, key: string, val: string): number {
  return httpSetHeader(res.headers, key, val);
}

/** xps_http_res_set_body: the bytes after the header block (the caller says their length in Content-Length). */
export function httpResSetBody(res: HttpResponse, body: Buffer | null): void {
  res.body = body;
}

/**
 * xps_http_res_serialize: the status line, CRLF, each header as
 * "key: val" CRLF, the empty line (CRLF), then the body if there is one.
 */
export function httpResSerialize(res: HttpResponse): Buffer {
  // TODO(stage-15 #3): Serialize the response
  // One Buffer holding, in order: the status line and CRLF; the headers
  // (httpSerializeHeaders gives every "key: val" line with its CRLF); a
  // CRLF on its own, which ends the block; the body, if there is one.
  // Every line ends with CRLF, never a bare LF (Node's fetch and
  // browsers refuse one). Add no header here: the caller chose them.
  throw todo("stage-15", 3, "Serialize the response");
}
