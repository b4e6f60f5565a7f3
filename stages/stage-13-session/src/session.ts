// stage-13: your copy of packages/connection/src/session.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-13` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-13` restores this version.

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
import { DEFAULT_PIPE_BUFF_THRESH, describeError, logger, resultName, type HostPort } from "@xps/utils";
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
import { todo } from "@xps/utils/todo";

/**
 * What serves the clients of a listening port (given by the stage's
 * server.ts, one per port, until stage 16's config does it): an upstream to
 * proxy to, a file to send, or nothing.
 */
export type Backend = { upstream: HostPort } | { file: string; publicDir: string } | null;

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
  return session;
}

/** The session with its five ends and its two client pipes, registered with the core; null when the pipes cannot be made. */
function sessionNew(core: Core, client: Connection): Session | null {
  // TODO(stage-13 #1): Create the session and its client pipes
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
  throw todo("stage-13", 1, "Create the session and its client pipes");
}

/** Attach the backend of the client's port; false (the session destroyed) when that fails. */
function sessionAttach(session: Session): boolean {
  // TODO(stage-13 #2): Attach what serves the client
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
  throw todo("stage-13", 2, "Attach what serves the client");
}

/** Connect the session to the upstream at `to` with its two pipes; false (the session destroyed) when that fails. */
function attachUpstream(session: Session, to: HostPort): boolean {
  // TODO(stage-13 #2): Attach what serves the client
  throw todo("stage-13", 2, "Attach what serves the client");
}

/**
 * xps_session_destroy: the session's five ends leave their pipes (the pipe
 * rules then close the client, the upstream and the file), its buffers go,
 * and it leaves core.sessions. Destroying twice does nothing the second time.
 */
export function sessionDestroy(session: Session): void {
  // TODO(stage-13 #7): Destroy the session
  // Only once (the destroyed flag). Destroy the five ends (pipeSourceDestroy,
  // pipeSinkDestroy: they leave their pipes), drop both buffers, take the
  // session out of core.sessions (its slot becomes null), and log
  // "destroyed session" at DEBUG level. Do not destroy the client, the
  // upstream or the file: the pipe rules close them once their pipes have
  // lost the session's ends.
  throw todo("stage-13", 7, "Destroy the session");
}

// ------------------------------------------------------- the handoff

/** set_to_client_buff: hold `buff` for the client (or nothing), and say who may run. */
export function setToClientBuff(session: Session, buff: Buffer | null): void {
  // TODO(stage-13 #3): Hand one buffer on
  // setToClientBuff keeps `buff` as toClientBuff. With a buffer, the
  // client source is ready (it has something to pass on) and the upstream
  // and file sinks are not (there is no room for another buffer); with
  // null, the reverse.
  // setFromClientBuff does the same for the other direction: with a
  // buffer, the upstream source is ready and the client sink is not; with
  // null, the reverse.
  throw todo("stage-13", 3, "Hand one buffer on");
}

/** set_from_client_buff: hold `buff` for the upstream (or nothing), and say who may run. */
export function setFromClientBuff(session: Session, buff: Buffer | null): void {
  // TODO(stage-13 #3): Hand one buffer on
  throw todo("stage-13", 3, "Hand one buffer on");
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
  // TODO(stage-13 #4): Carry the client's bytes to the upstream
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
  throw todo("stage-13", 4, "Carry the client's bytes to the upstream");
}

/** session -> upstream: a buffer from the client waits and the upstream's pipe has room. */
function upstreamSourceHandlerImpl(source: PipeSource<Session>): void {
  // TODO(stage-13 #4): Carry the client's bytes to the upstream
  throw todo("stage-13", 4, "Carry the client's bytes to the upstream");
}

// ------------------------------------------------------- upstream or file -> client

/** upstream -> session: the response pipe holds bytes and the session has room for a buffer. */
function upstreamSinkHandlerImpl(sink: PipeSink<Session>): void {
  // TODO(stage-13 #5): Carry the response or the file to the client
  // upstreamSinkHandler: the upstream sent something, so it is connected.
  // Take the next chunk out of the pipe (takeChunk; stop on null) and hand
  // it on with setToClientBuff.
  // fileSinkHandler: the same, from the file's pipe.
  // clientSourceHandler: write toClientBuff into the pipe towards the
  // client, no more than its room (writeSome), hand on what is left
  // (setToClientBuff: null once all went in), and see whether the session
  // is over (sessionCheckDestroy).
  throw todo("stage-13", 5, "Carry the response or the file to the client");
}

/** file -> session: the file's pipe holds bytes and the session has room for a buffer. */
function fileSinkHandlerImpl(sink: PipeSink<Session>): void {
  // TODO(stage-13 #5): Carry the response or the file to the client
  throw todo("stage-13", 5, "Carry the response or the file to the client");
}

/** session -> client: a buffer for the client waits and the client's pipe has room. */
function clientSourceHandlerImpl(source: PipeSource<Session>): void {
  // TODO(stage-13 #5): Carry the response or the file to the client
  throw todo("stage-13", 5, "Carry the response or the file to the client");
}

// ------------------------------------------------------- the end of a session

/**
 * upstream_error_res: the upstream went away before it took or sent a
 * byte. The HTTP stages answer the client with an error here (502); in this
 * stage the session only notes it, and the client is closed without a reply.
 */
function upstreamErrorRes(session: Session): void {
  session.upstreamErrorResSet = true;
  logger("WARNING", "upstreamErrorRes()", "the upstream went away before answering; the client is closed without a reply");
}

/**
 * session_check_destroy: destroy the session once none of its flows can
 * continue. Returns true when it was destroyed.
 */
export function sessionCheckDestroy(session: Session): boolean {
  // TODO(stage-13 #6): End the session once no flow can continue
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
  throw todo("stage-13", 6, "End the session once no flow can continue");
}

function upstreamCloseImpl(end: { ptr: Session }): void {
  // TODO(stage-13 #6): End the session once no flow can continue
  throw todo("stage-13", 6, "End the session once no flow can continue");
}

function sessionEndCloseImpl(end: { ptr: Session }): void {
  // TODO(stage-13 #6): End the session once no flow can continue
  throw todo("stage-13", 6, "End the session once no flow can continue");
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
