// stage-17: your copy of packages/connection/src/session.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-17` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-17` restores this version.

// The session (xps_session.c, stage 13): what sits between a client's
// connection and whatever serves it: an upstream, a file, or nothing. The
// listener only accepts and makes a connection and a session; the session
// attaches the backend that the client's listening port was given (the C
// course's "if (port == 8001)" branches move here), and every byte goes
// through it:
//
//   client.source   --pipe--> session.clientSink      (what the client sends)
//   session.clientSource --pipe--> client.sink        (what the client gets)
//   session.upstreamSource --pipe--> upstream.sink    (the request)
//   upstream.source --pipe--> session.upstreamSink    (the response)
//   file.source     --pipe--> session.fileSink        (the file)
//
// Up to five pipes, all with the default threshold. The session holds at
// most one buffer per direction, and its ready flags hand that buffer on: a
// sink that took a buffer is not ready until its source end has passed it
// on, and that source end is ready only while there is a buffer to pass.
//
// The session never destroys the connections or the file itself (only when
// setting it up fails). When no flow can continue it destroys its own
// ends, and the pipe rules then close the others.
//
// Why this module lives in the connection package and not in the core, as
// xps_session.c lives in src/core/: it wires connections, upstreams and
// files, and here the core must not depend on the network or the disk (the
// packages depend on each other in one direction only). The core keeps the
// list of sessions, as it keeps those of listeners and connections.
// From stage 14 a port may serve files by the path of each request (the
// backend { files }): the session reads the client's request, gathering
// its head chunk by chunk (http-request.ts), picks the file or the error
// that answers it, puts the header block in toClientBuff and, for a file,
// makes the file pipe. One request per connection: every reply says
// "Connection: close", and what the client sends after its head is dropped.
// From stage 16 a port's backend is the config (config.ts): the lookup of
// each request picks its route, which serves a file, proxies the request
// to the route's upstream (a 502 when that upstream is down), or redirects.
// From stage 17 a folder without an index file is answered with its
// listing (directory.ts), made on libuv's thread pool and sent when ready.
import path from "node:path";
import { DEFAULT_PIPE_BUFF_THRESH, E_AGAIN, E_NOTFOUND, E_PERMISSION, OK, describeError, formatHostPort, logger, resultName, type HostPort } from "@xps/utils";
import type { Core } from "@xps/core/core";
import {
  pipeCreate,
  pipeRoom,
  pipeSinkClear,
  pipeSinkCreate,
  pipeSinkDestroy,
  pipeSinkRead,
  pipeSourceCreate,
  pipeSourceDestroy,
  pipeSourceWrite,
  type PipeEnd,
  type PipeEndKind,
  type PipeSink,
  type PipeSource,
} from "@xps/core/pipe";
import { connectionDestroy, type Connection } from "@xps/connection/connection";
import { upstreamCreate } from "@xps/connection/upstream";
import { fileCreate, fileDestroy, type XpsFile } from "@xps/disk/file";
import { HTTP_STATUS, type HttpStatus, type KeyVal } from "@xps/http/http";
import { httpReqCreate, httpReqFeed, httpReqHasBody, type HttpRequest } from "@xps/http/http-request";
import { httpResCreate, httpResSerialize, httpResSetBody, httpResSetHeader } from "@xps/http/http-response";
import { httpGetHeader } from "@xps/http/http";
import { httpReqSerialize } from "@xps/http/http-request";
import { configLookup, type Lookup, type XpsConfig } from "@xps/connection/config";
import { E_FAIL } from "@xps/utils";
import { loopSchedule } from "@xps/core/loop";
import { directoryBrowsing, type ListingResult } from "@xps/disk/directory";
import { todo } from "@xps/utils/todo";

/**
 * What serves the clients of a listening port (given by the stage's
 * server.ts, one per port, until stage 16's config does it): an upstream to
 * proxy to, a file to send, or nothing.
 */
export type Backend = { upstream: HostPort } | { file: string; publicDir: string } | { files: string } | { config: XpsConfig } | null;

export interface Session {
  core: Core;
  client: Connection;
  upstream: Connection | null;
  /** The upstream has taken or sent bytes: it is really there. */
  upstreamConnected: boolean;
  /** The upstream failed before answering, and that was dealt with (upstream_error_res). */
  upstreamErrorResSet: boolean;
  /** Bytes written towards the upstream until it was known to be connected. */
  upstreamWriteBytes: number;
  file: XpsFile | null;
  /** session -> client */
  clientSource: PipeSource<Session>;
  /** client -> session */
  clientSink: PipeSink<Session>;
  /** session -> upstream */
  upstreamSource: PipeSource<Session>;
  /** upstream -> session */
  upstreamSink: PipeSink<Session>;
  /** file -> session */
  fileSink: PipeSink<Session>;
  /** Bytes from the upstream or the file, waiting to go to the client. */
  toClientBuff: Buffer | null;
  /** Bytes from the client, waiting to go to the upstream. */
  fromClientBuff: Buffer | null;
  destroyed: boolean;
  /** The folder requests are served from (a { files } port), or null. */
  publicDir: string | null;
  /** The client's request while it is read and once it has been (a { files } port), or null. */
  httpReq: HttpRequest | null;
  /** The request has been answered: what the client sends now is dropped. */
  answered: boolean;
  /** The config that answers requests (a { config } port), or null. */
  config: XpsConfig | null;
  /** What answers the request, once it has been looked up. */
  lookup: Lookup | null;
  /** A folder's listing is being made (stage 17): its reply is on its way. */
  listing: boolean;
}

/**
 * xps_session_create: a session for a client that a listener has just
 * accepted, with its client pipes and its port's backend attached. Null
 * (after an ERROR line) when that cannot be done; the caller then destroys
 * the client.
 */
export function sessionCreate(core: Core, client: Connection): Session | null {
  const session = sessionNew(core, client);
  if (session === null || !sessionAttach(session)) return null;
  const backend = client.listener?.backend ?? null;
  session.publicDir = backend !== null && "files" in backend ? backend.files : null;
  session.config = backend !== null && "config" in backend ? backend.config : null;
  session.lookup = null;
  session.httpReq = session.publicDir !== null || session.config !== null ? httpReqCreate() : null;
  session.answered = false;
  session.listing = false;
  return session;
}

/** The session with its five ends and its two client pipes, registered with the core; null when the pipes cannot be made. */
function sessionNew(core: Core, client: Connection): Session | null {
  // Make the session: its core and client, no upstream and no file, both
  // flags false, no bytes written, no buffers. Give it its five ends, each
  // owned by the session, with the handler and close handler of the same
  // name (clientSourceHandler and clientSourceCloseHandler, ...). The three
  // sinks start ready (they can take a buffer); the two sources do not
  // (they have nothing to pass on). Add the session to core.sessions, then
  // create the two client pipes: client.source -> clientSink, and
  // clientSource -> client.sink. If one cannot be made: ERROR "failed to
  // create client pipes", destroy the session, null. Log "created session"
  // at DEBUG level and return the session.
  const session = {
    core,
    client,
    upstream: null,
    upstreamConnected: false,
    upstreamErrorResSet: false,
    upstreamWriteBytes: 0,
    file: null,
    toClientBuff: null,
    fromClientBuff: null,
    destroyed: false,
  } as Partial<Session> as Session;
  session.clientSource = pipeSourceCreate(session, clientSourceHandler, clientSourceCloseHandler);
  session.clientSink = pipeSinkCreate(session, clientSinkHandler, clientSinkCloseHandler);
  session.upstreamSource = pipeSourceCreate(session, upstreamSourceHandler, upstreamSourceCloseHandler);
  session.upstreamSink = pipeSinkCreate(session, upstreamSinkHandler, upstreamSinkCloseHandler);
  session.fileSink = pipeSinkCreate(session, fileSinkHandler, fileSinkCloseHandler);
  session.clientSink.ready = true;
  session.upstreamSink.ready = true;
  session.fileSink.ready = true;
  core.sessions.add(session);
  const fromClient = pipeCreate(core, DEFAULT_PIPE_BUFF_THRESH, client.source, session.clientSink);
  const toClient = fromClient === null ? null : pipeCreate(core, DEFAULT_PIPE_BUFF_THRESH, session.clientSource, client.sink);
  if (toClient === null) {
    logger("ERROR", "sessionCreate()", "failed to create client pipes");
    sessionDestroy(session);
    return null;
  }
  logger("DEBUG", "sessionCreate()", "created session");
  return session;
}

/** Attach the backend of the client's port; false (the session destroyed) when that fails. */
function sessionAttach(session: Session): boolean {
  // The client's listener says what its port serves (client.listener's
  // backend; the C course compares the port with 8001 and 8002 here).
  // An upstream: create the connection (upstreamCreate; on null, ERROR
  // "upstreamCreate() failed", destroy the session, null), keep it, and
  // create its two pipes: upstreamSource -> upstream.sink and
  // upstream.source -> upstreamSink (if one fails: ERROR, destroy the
  // upstream connection and the session).
  // A file: create it (fileCreate; on null, ERROR naming resultName(error),
  // destroy the session), keep it, and create the pipe file.source ->
  // fileSink (if that fails: ERROR, destroy the file and the session, null).
  // Nothing (null): no backend; the session just holds the client. On a
  // failure return false, otherwise true.
  const { core, client } = session;
  const backend = client.listener?.backend ?? null;
  if (backend !== null && "upstream" in backend) {
    return attachUpstream(session, backend.upstream);
  } else if (backend !== null && "file" in backend) {
    const { file, error } = fileCreate(core, backend.file, backend.publicDir);
    if (file === null) {
      logger("ERROR", "sessionCreate()", `fileCreate() failed (${resultName(error)})`);
      sessionDestroy(session);
      return false;
    }
    session.file = file;
    if (pipeCreate(core, DEFAULT_PIPE_BUFF_THRESH, file.source, session.fileSink) === null) {
      logger("ERROR", "sessionCreate()", "failed to create the file pipe");
      fileDestroy(file);
      sessionDestroy(session);
      return false;
    }
  }
  return true;
}

/** Connect the session to the upstream at `to` with its two pipes; false (the session destroyed) when that fails. */
function attachUpstream(session: Session, to: HostPort): boolean {
  const core = session.core;
  const upstream = upstreamCreate(core, to.host, to.port);
  if (upstream === null) {
    logger("ERROR", "sessionCreate()", "upstreamCreate() failed");
    sessionDestroy(session);
    return false;
  }
  session.upstream = upstream;
  const request = pipeCreate(core, DEFAULT_PIPE_BUFF_THRESH, session.upstreamSource, upstream.sink);
  const response = request === null ? null : pipeCreate(core, DEFAULT_PIPE_BUFF_THRESH, upstream.source, session.upstreamSink);
  if (response === null) {
    logger("ERROR", "sessionCreate()", "failed to create upstream pipes");
    connectionDestroy(upstream);
    sessionDestroy(session);
    return false;
  }
  return true;
}

/**
 * xps_session_destroy: the session's five ends leave their pipes (the pipe
 * rules then close the client, the upstream and the file), its buffers go,
 * and it leaves core.sessions. Destroying twice does nothing the second time.
 */
export function sessionDestroy(session: Session): void {
  // Only once (the destroyed flag). Destroy the five ends (pipeSourceDestroy,
  // pipeSinkDestroy: they leave their pipes), drop both buffers, take the
  // session out of core.sessions (its slot becomes null), and log
  // "destroyed session" at DEBUG level. Do not destroy the client, the
  // upstream or the file: the pipe rules close them once their pipes have
  // lost the session's ends.
  if (session.destroyed) return;
  session.destroyed = true;
  pipeSourceDestroy(session.clientSource);
  pipeSinkDestroy(session.clientSink);
  pipeSourceDestroy(session.upstreamSource);
  pipeSinkDestroy(session.upstreamSink);
  pipeSinkDestroy(session.fileSink);
  session.toClientBuff = null;
  session.fromClientBuff = null;
  session.core.sessions.remove(session);
  logger("DEBUG", "sessionDestroy()", "destroyed session");
}

// ------------------------------------------------------- the handoff

/** set_to_client_buff: hold `buff` for the client (or nothing), and say who may run. */
export function setToClientBuff(session: Session, buff: Buffer | null): void {
  // setToClientBuff keeps `buff` as toClientBuff. With a buffer, the
  // client source is ready (it has something to pass on) and the upstream
  // and file sinks are not (there is no room for another buffer); with
  // null, the reverse.
  // setFromClientBuff does the same for the other direction: with a
  // buffer, the upstream source is ready and the client sink is not; with
  // null, the reverse.
  session.toClientBuff = buff;
  const held = buff !== null;
  session.clientSource.ready = held;
  session.upstreamSink.ready = !held;
  session.fileSink.ready = !held;
}

/** set_from_client_buff: hold `buff` for the upstream (or nothing), and say who may run. */
export function setFromClientBuff(session: Session, buff: Buffer | null): void {
  session.fromClientBuff = buff;
  const held = buff !== null;
  session.upstreamSource.ready = held;
  session.clientSink.ready = !held;
}

/**
 * Write the front of `buff` into the source's pipe, no more than its room
 * (so the pipe never holds more than its threshold), and return what is
 * left of it, or null when all of it went in. Throws if the write fails.
 */
export function writeSome(source: PipeSource<Session>, buff: Buffer): Buffer | null {
  const room = source.pipe === null ? 0 : pipeRoom(source.pipe);
  const n = Math.min(room, buff.length);
  if (n === 0) return buff;
  if (pipeSourceWrite(source, n === buff.length ? buff : buff.subarray(0, n)) !== 0) throw new Error("pipeSourceWrite() failed");
  return n === buff.length ? null : buff.subarray(n);
}

/**
 * The next chunk of the sink's pipe, taken out of it (no copy: the chunk
 * itself), or null after an ERROR line when there is none.
 */
export function takeChunk(sink: PipeSink<Session>, where: string): Buffer | null {
  const chunk = pipeSinkRead(sink);
  if (chunk === null) {
    logger("ERROR", where, "pipeSinkRead() failed");
    return null;
  }
  pipeSinkClear(sink, chunk.length);
  return chunk;
}

// ------------------------------------------------------- client -> upstream

/** client -> session: the client's pipe holds bytes and the session has room for a buffer. */
function clientSinkHandlerImpl(sink: PipeSink<Session>): void {
  if (sink.ptr.httpReq !== null && !sink.ptr.answered) return sessionReadRequest(sink);
  if (sink.ptr.httpReq !== null) return void takeChunk(sink, "clientSinkHandler()");
  // clientSinkHandler: take the next chunk out of the pipe (takeChunk; stop
  // on null). With no upstream the bytes have nowhere to go: leave it at
  // that (they are dropped, and the sink stays ready). Otherwise hand the
  // chunk on with setFromClientBuff.
  // upstreamSourceHandler: write fromClientBuff into the pipe towards the
  // upstream, no more than its room (writeSome gives back what did not
  // fit). Until the upstream is known to be connected, count the bytes
  // written (upstreamWriteBytes); once that count is above what the pipe
  // still buffers, the upstream has taken some: it is connected. Then hand
  // on what is left (setFromClientBuff: null once all went in) and see
  // whether the session is over (sessionCheckDestroy).
  const chunk = takeChunk(sink, "clientSinkHandler()");
  if (chunk === null || sink.ptr.upstream === null) return;
  setFromClientBuff(sink.ptr, chunk);
}

/** session -> upstream: a buffer from the client waits and the upstream's pipe has room. */
function upstreamSourceHandlerImpl(source: PipeSource<Session>): void {
  const session = source.ptr;
  const buff = session.fromClientBuff;
  if (buff === null || source.pipe === null) return;
  const pipe = source.pipe;
  const rest = writeSome(source, buff);
  if (!session.upstreamConnected) {
    session.upstreamWriteBytes += buff.length - (rest?.length ?? 0);
    if (session.upstreamWriteBytes > pipe.buffList.len) session.upstreamConnected = true;
  }
  setFromClientBuff(session, rest);
  sessionCheckDestroy(session);
}

// ------------------------------------------------------- the request and its answer

/** client -> session on a { files } port, until the request is answered: gather its head. */
function sessionReadRequest(sink: PipeSink<Session>): void {
  // Take the next chunk out of the client's pipe (takeChunk; stop on
  // null) and give it to the session's request (httpReqFeed). E_AGAIN:
  // the head is not complete yet; keep the request as it is (the C
  // course throws its peek away here, so a request split over two
  // segments never parses) and wait for the next chunk. Anything else
  // (OK or E_FAIL): the request is answered now, once: set
  // session.answered and call sessionProcessRequest. Whatever the client
  // sends after that is dropped (clientSinkHandler's own code does it).
  const session = sink.ptr;
  const chunk = takeChunk(sink, "clientSinkHandler()");
  if (chunk === null) return;
  if (httpReqFeed(session.httpReq!, chunk) === E_AGAIN) return;
  session.answered = true;
  sessionProcessRequest(session);
}

/** How a request is answered: its status, the file for a 200, and why for an error. */
export interface Answer {
  status: HttpStatus;
  file: XpsFile | null;
  why: string | null;
}

/** Choose the answer to the session's request: an error status, or 200 and the file its path names. */
export function sessionResolve(session: Session, req: HttpRequest): Answer {
  // A request the parser refused (req.result is not OK) is answered with
  // req.status (400, or 431 for a head over the limit) and req.problem.
  // This server takes no request body: one that has a body
  // (httpReqHasBody) gets 413. A method other than GET and HEAD gets 405.
  // The file is the pathname, percent-decoded (decodeURIComponent; a
  // malformed escape or a NUL byte is a 400), inside session.publicDir
  // (path.join). fileCreate says which: the file (200), E_PERMISSION
  // (403: outside the folder, or not readable), E_NOTFOUND (404: missing,
  // or not a regular file), anything else 500. A missing file is a 404,
  // never a 500.
  if (req.result !== OK) return { status: req.status, file: null, why: req.problem };
  if (httpReqHasBody(req)) return { status: 413, file: null, why: "this server takes no request body" };
  if (req.methodN !== "GET" && req.methodN !== "HEAD") return { status: 405, file: null, why: `${req.method} is not served here; GET and HEAD are` };
  let name: string;
  try {
    name = decodeURIComponent(req.pathname);
  } catch {
    return { status: 400, file: null, why: `the path ${JSON.stringify(req.pathname)} has a malformed %-escape` };
  }
  if (name.includes("\0")) return { status: 400, file: null, why: "the path holds a NUL byte" };
  const publicDir = session.publicDir!;
  const { file, error } = fileCreate(session.core, path.join(publicDir, name), publicDir);
  if (file !== null) return { status: 200, file, why: null };
  if (error === E_PERMISSION) return { status: 403, file: null, why: `${req.pathname} may not be served` };
  if (error === E_NOTFOUND) return { status: 404, file: null, why: `${req.pathname} is not there` };
  return { status: 500, file: null, why: `${req.pathname} could not be opened (${resultName(error)})` };
}

/** The headers that say what follows the status line (besides the defaults), and the body of an error reply. */
export function answerHeaders(answer: Answer, req: HttpRequest): { headers: KeyVal[]; body: Buffer | null } {
  const body = answer.file === null ? Buffer.from(`${answer.status} ${HTTP_STATUS[answer.status]}${answer.why ? `: ${answer.why}` : ""}\n`, "utf8") : null;
  const headers: KeyVal[] = [];
  if (answer.file !== null) {
    headers.push({ key: "Content-Length", val: String(answer.file.size) });
    headers.push({ key: "Content-Type", val: answer.file.mimeType ?? "application/octet-stream" });
  } else {
    headers.push({ key: "Content-Length", val: String(body!.length) });
    headers.push({ key: "Content-Type", val: "text/plain; charset=utf-8" });
  }
  if (answer.status === 405) headers.push({ key: "Allow", val: "GET, HEAD" });
  headers.push({ key: "Connection", val: "close" });
  return { headers, body: req.methodN === "HEAD" ? null : body };
}

/** The header block (and an error's body) for the client, from the answer. */
function replyBytes(answer: Answer, req: HttpRequest): Buffer {
  const { headers, body } = answerHeaders(answer, req);
  const res = httpResCreate(answer.status);
  for (const h of headers) httpResSetHeader(res, h.key, h.val);
  if (body !== null) httpResSetBody(res, body);
  return httpResSerialize(res);
}

/**
 * session_process_request: answer the session's request. The header block
 * (with an error's short text body) goes into toClientBuff; for a 200 the
 * file's pipe is made, and the file flows once that block has gone (the
 * handoff's flags see to it). HEAD gets the header block alone.
 */
export function sessionProcessRequest(session: Session): void {
  const req = session.httpReq!;
  if (session.config !== null) return sessionServeByConfig(session, req);
  sessionSendAnswer(session, req, sessionResolve(session, req));
}

/** Log the answer, put its header block in toClientBuff and, for a 200 to GET, make the file's pipe. */
function sessionSendAnswer(session: Session, req: HttpRequest, answer: Answer): void {
  const log = `${req.requestLine || "(no request line)"} -> ${answer.status}${answer.why ? ` (${answer.why})` : ""}`;
  logger(answer.status < 400 ? "INFO" : "WARNING", "sessionProcessRequest()", log);
  setToClientBuff(session, replyBytes(answer, req));
  const file = answer.file;
  if (file === null) return;
  if (req.methodN === "HEAD") {
    fileDestroy(file);
    return;
  }
  session.file = file;
  if (pipeCreate(session.core, DEFAULT_PIPE_BUFF_THRESH, file.source, session.fileSink) === null) {
    logger("ERROR", "sessionProcessRequest()", "failed to create the file pipe");
    fileDestroy(file);
    sessionDestroy(session);
  }
}

/** An answer that is an error: its status and why. */
function refusal(status: HttpStatus, why: string): Answer {
  return { status, file: null, why };
}

/** What no route gets: a request the parser refused, a body, a method other than GET and HEAD, a malformed path. */
function requestRefusal(req: HttpRequest): Answer | null {
  if (req.result !== OK) return refusal(req.status, req.problem ?? "the request is malformed");
  if (httpReqHasBody(req)) return refusal(413, "this server takes no request body");
  if (req.methodN !== "GET" && req.methodN !== "HEAD") return refusal(405, `${req.method} is not served here; GET and HEAD are`);
  return null;
}

/** A file_serve lookup's answer: the file inside the route's folder, or 404, 403, 500. */
function fileAnswer(session: Session, req: HttpRequest, lookup: Lookup): Answer {
  if (lookup.filePath === null) return refusal(404, `${req.pathname} names no file (and no index file)`);
  const { file, error } = fileCreate(session.core, lookup.filePath, lookup.root!);
  if (file !== null) return { status: 200, file, why: null };
  if (error === E_PERMISSION) return refusal(403, `${req.pathname} may not be served`);
  if (error === E_NOTFOUND) return refusal(404, `${req.pathname} is not there`);
  return refusal(500, `${req.pathname} could not be opened (${resultName(error)})`);
}

/** Answer a request on a { config } port: look it up, then serve, proxy or redirect as its route says. */
function sessionServeByConfig(session: Session, req: HttpRequest): void {
  const refused = requestRefusal(req);
  if (refused !== null) return sessionSendAnswer(session, req, refused);
  let pathname: string;
  try {
    pathname = decodeURIComponent(req.pathname);
  } catch {
    return sessionSendAnswer(session, req, refusal(400, `the path ${JSON.stringify(req.pathname)} has a malformed %-escape`));
  }
  if (pathname.includes("\0")) return sessionSendAnswer(session, req, refusal(400, "the path holds a NUL byte"));
  const listener = session.client.listener!;
  const { lookup } = configLookup(session.config!, { listener: { host: listener.host, port: listener.port }, host: httpGetHeader(req.headers, "Host"), pathname });
  if (lookup === null) return sessionSendAnswer(session, req, refusal(404, `no route of this server matches ${req.pathname}`));
  session.lookup = lookup;
  if (lookup.type === "file_serve" && lookup.filePath === null && lookup.dirPath !== null) return sessionServeListing(session, req, lookup, pathname);
  if (lookup.type === "file_serve") return sessionSendAnswer(session, req, fileAnswer(session, req, lookup));
  if (lookup.type === "redirect") {
    logger("INFO", "sessionProcessRequest()", `${req.requestLine} -> ${lookup.httpStatusCode} (to ${lookup.redirectUrl})`);
    return setToClientBuff(session, redirectBytes(lookup, req));
  }
  logger("INFO", "sessionProcessRequest()", `${req.requestLine} -> proxied to ${formatHostPort(lookup.upstream!)}`);
  sessionProxy(session, req, lookup);
}

/**
 * A file_serve lookup that names a folder without an index file: answer
 * with its listing. directoryBrowsing reads the folder on libuv's thread
 * pool, so the page comes later; until then session.listing keeps the
 * session (sessionCheckDestroy), and listingDone sends the reply.
 */
function sessionServeListing(session: Session, req: HttpRequest, lookup: Lookup, pathname: string): void {
  // TODO(stage-17 #6): Answer a folder with its listing
  // sessionServeListing: mark the session (session.listing: a reply is on
  // its way) and start directoryBrowsing on the lookup's dirPath, with the
  // decoded pathname and the route's folder (lookup.root) as the boundary.
  // Do not wait for it here: when its promise settles, call listingDone
  // with its result; when it rejects, log an ERROR and call listingDone
  // with E_FAIL.
  // listingDoneImpl: the listing is no longer on its way. If the session
  // was destroyed meanwhile (the client left), drop the page. Otherwise: a
  // refusal is a complete error reply (sessionSendAnswer with refusal):
  // 403 for E_PERMISSION, 404 for E_NOTFOUND, 500 for anything else; a
  // page goes to the client with setToClientBuff(listingBytes(...)), after
  // an INFO line. Either way, ask the loop for a pass (loopSchedule): no
  // socket event announces that the listing is ready.
  // listingBytes: a 200 with Content-Length (the page's length in bytes),
  // Content-Type text/html and Connection: close, and the page as its body
  // (none for HEAD), serialized.
  throw todo("stage-17", 6, "Answer a folder with its listing");
}

/** The listing is made, or refused: send the reply, guarded like the session's other callbacks. */
function listingDone(session: Session, req: HttpRequest, result: ListingResult): void {
  try {
    listingDoneImpl(session, req, result);
  } catch (err) {
    sessionFault(session, err);
  }
}

function listingDoneImpl(session: Session, req: HttpRequest, result: ListingResult): void {
  // TODO(stage-17 #6): Answer a folder with its listing
  throw todo("stage-17", 6, "Answer a folder with its listing");
}

/** The reply that carries a listing: its header block and the page. */
function listingBytes(page: Buffer, req: HttpRequest): Buffer {
  // TODO(stage-17 #6): Answer a folder with its listing
  throw todo("stage-17", 6, "Answer a folder with its listing");
}

/** A redirect lookup's reply: its status, Location, and no body. */
function redirectBytes(lookup: Lookup, req: HttpRequest): Buffer {
  // A response with the route's status (lookup.httpStatusCode, not always
  // 302) and a Location header that is the route's redirect_url exactly
  // (nothing of the request's path added to it), plus Content-Length: 0
  // and Connection: close, so that the client knows where the reply ends.
  // Serialize it (httpResSerialize).
  void req;
  const res = httpResCreate(lookup.httpStatusCode as HttpStatus);
  httpResSetHeader(res, "Location", lookup.redirectUrl!);
  httpResSetHeader(res, "Content-Length", "0");
  httpResSetHeader(res, "Connection", "close");
  return httpResSerialize(res);
}

/** A reverse_proxy lookup: connect to the route's upstream and send it the request; its reply goes to the client unchanged. */
function sessionProxy(session: Session, req: HttpRequest, lookup: Lookup): void {
  // Connect to lookup.upstream, the route's upstream, and to nothing else:
  // the request's own host (its Host header, or the host of an
  // absolute-form request line) never chooses where the server connects.
  // attachUpstream makes the connection and its two pipes (false: it has
  // destroyed the session already; stop). Then hand the request, as
  // httpReqSerialize writes it, to the upstream's side with
  // setFromClientBuff. The upstream's reply then flows to the client as
  // it comes (the stage 13 handlers do it).
  // And in upstreamErrorRes: on an HTTP session (httpReq set) that has
  // nothing for the client yet, put a complete 502 reply in toClientBuff
  // (sessionErrorBytes), so that the client learns the upstream is down.
  if (!attachUpstream(session, lookup.upstream!)) return;
  setFromClientBuff(session, httpReqSerialize(req));
}

/** The complete reply (header block and short body) for an error status. */
function sessionErrorBytes(session: Session, status: HttpStatus, why: string): Buffer {
  return replyBytes(refusal(status, why), session.httpReq!);
}

// ------------------------------------------------------- upstream or file -> client

/** upstream -> session: the response pipe holds bytes and the session has room for a buffer. */
function upstreamSinkHandlerImpl(sink: PipeSink<Session>): void {
  // upstreamSinkHandler: the upstream sent something, so it is connected.
  // Take the next chunk out of the pipe (takeChunk; stop on null) and hand
  // it on with setToClientBuff.
  // fileSinkHandler: the same, from the file's pipe.
  // clientSourceHandler: write toClientBuff into the pipe towards the
  // client, no more than its room (writeSome), hand on what is left
  // (setToClientBuff: null once all went in), and see whether the session
  // is over (sessionCheckDestroy).
  sink.ptr.upstreamConnected = true;
  const chunk = takeChunk(sink, "upstreamSinkHandler()");
  if (chunk !== null) setToClientBuff(sink.ptr, chunk);
}

/** file -> session: the file's pipe holds bytes and the session has room for a buffer. */
function fileSinkHandlerImpl(sink: PipeSink<Session>): void {
  const chunk = takeChunk(sink, "fileSinkHandler()");
  if (chunk !== null) setToClientBuff(sink.ptr, chunk);
}

/** session -> client: a buffer for the client waits and the client's pipe has room. */
function clientSourceHandlerImpl(source: PipeSource<Session>): void {
  const session = source.ptr;
  const buff = session.toClientBuff;
  if (buff === null) return;
  setToClientBuff(session, writeSome(source, buff));
  sessionCheckDestroy(session);
}

// ------------------------------------------------------- the end of a session

/**
 * upstream_error_res: the upstream went away before it took or sent a
 * byte. The HTTP stages answer the client with an error here (502); in this
 * stage the session only notes it, and the client is closed without a reply.
 */
function upstreamErrorRes(session: Session): void {
  session.upstreamErrorResSet = true;
  if (session.httpReq !== null && session.toClientBuff === null) {
    logger("WARNING", "upstreamErrorRes()", "the upstream went away before answering; the client gets a 502");
    setToClientBuff(session, sessionErrorBytes(session, 502, "the upstream is not reachable"));
    return;
  }
  logger("WARNING", "upstreamErrorRes()", "the upstream went away before answering; the client is closed without a reply");
}

/**
 * session_check_destroy: destroy the session once none of its flows can
 * continue. Returns true when it was destroyed.
 */
export function sessionCheckDestroy(session: Session): boolean {
  if (!session.destroyed && session.listing && session.clientSource.active) return false;
  // Three flows, each possible while the end that carries it on is active
  // and it still has something to carry (its other end is active, or the
  // session holds a buffer for it):
  // client -> upstream: upstreamSource active, and clientSink active or
  // fromClientBuff held; and the upstream must still be able to answer
  // (upstreamSink active: once the upstream has finished sending, what the
  // client sends can never be answered);
  // upstream -> client: clientSource active, and upstreamSink active or
  // toClientBuff held;
  // file -> client: clientSource active, and fileSink active or
  // toClientBuff held.
  // When none can flow, destroy the session. The close handlers: the
  // upstream's two, when the upstream never connected and its failure was
  // not dealt with yet, call upstreamErrorRes first; every close handler
  // then calls sessionCheckDestroy.
  if (session.destroyed) return true;
  const { clientSource, clientSink, upstreamSource, upstreamSink, fileSink } = session;
  const clientToUpstream = upstreamSource.active && (clientSink.active || session.fromClientBuff !== null) && upstreamSink.active;
  const upstreamToClient = clientSource.active && (upstreamSink.active || session.toClientBuff !== null);
  const fileToClient = clientSource.active && (fileSink.active || session.toClientBuff !== null);
  if (clientToUpstream || upstreamToClient || fileToClient) return false;
  sessionDestroy(session);
  return true;
}

function upstreamCloseImpl(end: { ptr: Session }): void {
  const session = end.ptr;
  if (!session.upstreamConnected && !session.upstreamErrorResSet) upstreamErrorRes(session);
  sessionCheckDestroy(session);
}

function sessionEndCloseImpl(end: { ptr: Session }): void {
  sessionCheckDestroy(end.ptr);
}

// ------------------------------------------------------- faults

/**
 * A session's code threw (a TODO still a stub, or a bug): this session's
 * client, upstream and file go, and nobody else. (The loop cannot do it: a
 * session has no socket of its own for loopFault to find.)
 */
function sessionFault(session: Session, err: unknown): void {
  logger("ERROR", "session", `${describeError(err)}; closing this session's client`);
  const attempt = (what: () => void): void => {
    try {
      what();
    } catch (err2) {
      logger("ERROR", "session", `clean-up failed as well: ${describeError(err2)}`);
    }
  };
  attempt(() => sessionDestroy(session));
  if (!session.destroyed || session.core.sessions.items.includes(session)) {
    // sessionDestroy itself failed: take the ends out by hand.
    for (const end of [session.clientSource, session.clientSink, session.upstreamSource, session.upstreamSink, session.fileSink]) {
      attempt(() => (end.kind === "source" ? pipeSourceDestroy(end as PipeSource<Session>) : pipeSinkDestroy(end as PipeSink<Session>)));
    }
    session.destroyed = true;
    session.core.sessions.remove(session);
  }
  attempt(() => connectionDestroy(session.client));
  if (session.upstream !== null) attempt(() => connectionDestroy(session.upstream!));
  if (session.file !== null) attempt(() => fileDestroy(session.file!));
}

function guarded<K extends PipeEndKind>(fn: (end: PipeEnd<Session, K>) => void): (end: PipeEnd<Session, K>) => void {
  return (end) => {
    try {
      fn(end);
    } catch (err) {
      sessionFault(end.ptr, err);
    }
  };
}

/**
 * A close handler whose end's flow was cut by a reset (the loop marks the end
 * aborted): the flows the session carries on for that peer are cut too. The
 * pipes it still holds are marked, so that when the session lets go of them
 * the connections at their other ends close with a reset as well, as the
 * stage 11 proxy passes a reset on, instead of lingering on a stream that
 * will never be whole (an upstream still sending would keep one busy for
 * seconds).
 */
function passResetOn<K extends PipeEndKind>(fn: (end: PipeEnd<Session, K>) => void): (end: PipeEnd<Session, K>) => void {
  return (end) => {
    if (end.aborted === true) {
      const s = end.ptr;
      for (const e of [s.clientSource, s.clientSink, s.upstreamSource, s.upstreamSink, s.fileSink]) if (e.pipe !== null) e.pipe.aborted = true;
    }
    fn(end);
  };
}

// The ends' callbacks, each guarded (made once, for every session).
const clientSinkHandler = guarded(clientSinkHandlerImpl);
const upstreamSourceHandler = guarded(upstreamSourceHandlerImpl);
const upstreamSinkHandler = guarded(upstreamSinkHandlerImpl);
const fileSinkHandler = guarded(fileSinkHandlerImpl);
const clientSourceHandler = guarded(clientSourceHandlerImpl);
const upstreamSourceCloseHandler = guarded<"source">(passResetOn(upstreamCloseImpl));
const upstreamSinkCloseHandler = guarded<"sink">(passResetOn(upstreamCloseImpl));
const clientSourceCloseHandler = guarded<"source">(passResetOn(sessionEndCloseImpl));
const clientSinkCloseHandler = guarded<"sink">(passResetOn(sessionEndCloseImpl));
const fileSinkCloseHandler = guarded<"sink">(sessionEndCloseImpl);
