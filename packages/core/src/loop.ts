// @stages 7-
// The loop (xps_loop.c), mapped onto Node.
//
// In C the loop owns an epoll instance: epoll_wait reports which sockets are
// @since 10 begin
// readable or writable, the loop sets ready flags, and after every batch of
// events it runs the pipe pass (handle_pipes), calling epoll_wait with timeout
// 0 while a pipe can still make progress and -1 (block) when none can.
// @since end
// @until 9: // readable or writable, and the loop calls the callbacks of their owners.
//
// In Node, libuv owns the epoll instance and reports readiness as events on
// each socket. This loop listens for those events and turns them into the same
// callbacks and flags:
//
//   epoll / C                                Node event -> loop callback
//   EPOLLIN (data, or recv() would give 0)   'data', 'end'      -> readCb
//   EPOLLOUT (send() would not block)        'drain', 'connect' -> writeCb
//   EPOLLERR | EPOLLHUP                      'error', 'close'   -> closeCb
//   listening socket readable (accept)       'connection'       -> readCb
//
// (Stage 7's loop has read callbacks only; a socket's error reaches its read
// callback, as EPOLLIN does in C, and its recv() reports it. Stage 8 adds the
// write and close callbacks and, with them, a level-triggered report of
// writable sockets after every batch; stage 9's edge-triggered loop runs
// handle_connections instead; from stage 10 the pass is handle_pipes.)
// @since 8 begin
//
// @until 9: // The pass (stage 8's report of the writable sockets, stage 9's
// @until 9: // handle_connections) runs in a setImmediate callback, once Node has
// @until 9: // delivered the whole batch of I/O events of this turn. While it reports
// @until 9: // that a connection can still progress, the loop runs it again at once, up
// @until 9: // to PASSES_PER_TURN times, and then queues another pass with setImmediate,
// @until 9: // which Node runs only after polling for I/O without blocking: that is
// @until 9: // epoll_wait with timeout 0. When no connection can progress nothing is
// @until 9: // queued, and Node blocks in epoll_wait.
// @since end
// @since 10 begin
// The pipe pass runs in a setImmediate callback, i.e. once Node has delivered
// the whole batch of I/O events of this turn. When the pass reports that a pipe
// can still progress, the loop runs it again at once, up to PASSES_PER_TURN
// times, and then queues another pass with setImmediate, which Node runs only
// after polling for I/O without blocking: that is epoll_wait with timeout 0.
// (C calls epoll_wait(0) between every two passes; it is one cheap system
// call. Yielding to Node costs a whole turn, and a pass moves one read per
// pipe while one poll phase can bring in a megabyte, so passes run back to
// back until nothing moves; new bytes only arrive in the next poll, so they
// end on their own, and the cap keeps a busy turn from starving timers.)
// When no pipe can progress nothing is queued, Node blocks in epoll_wait, and
// an idle server uses no CPU. There are no timers that poll.
// @since end
import type { Server, Socket } from "node:net";
import { SlotList, describeError, logger } from "@xps/utils";
import type { Core } from "@xps/core/core";
// @since 10 begin
import {
  pipeDestroy,
  pipeDetachSink,
  pipeDetachSource,
  pipeIsReadable,
  pipeIsWritable,
  type AnyPipeEnd,
  type Pipe,
} from "@xps/core/pipe";
import { watchEnd } from "@xps/core/watch";
// @since end
// @only 8: import { reportWritable } from "@xps/core/level-triggered";
// @only 9: import { handleConnections } from "@xps/core/handle-connections";

/** A loop callback gets the owner registered with loopAttach (and, for accept, the new socket). */
export type LoopCallback = (ptr: any, arg?: any) => void;

export type LoopHandle = Socket | Server;

/** What C's loop_event_t holds. */
export interface LoopEvent {
  loop: Loop;
  handle: LoopHandle;
  ptr: object;
  readCb: LoopCallback | null;
  writeCb: LoopCallback | null; // @since 8
  closeCb: LoopCallback | null; // @since 8
  /** Still in loop.events (cleared by loopDetach): a flag, so each event is checked without a search. */
  attached: boolean;
}

/** Where a handle keeps its loop event (what C puts in epoll_event.data.ptr). */
const EVENT: unique symbol = Symbol("xps loop event");
type Tagged = LoopHandle & { [EVENT]?: LoopEvent };

// One listener function per kind of readiness, shared by every handle: `this`
// is the handle that fired, and its tag leads to the loop event. Nothing is
// allocated per socket or per event.
function onRead(this: Tagged): void {
  const ev = this[EVENT];
  if (ev !== undefined) dispatch(ev, ev.readCb, undefined);
}
// @since 8 begin
function onWrite(this: Tagged): void {
  const ev = this[EVENT];
  if (ev !== undefined) dispatch(ev, ev.writeCb, undefined);
}
function onClose(this: Tagged, arg?: unknown): void {
  const ev = this[EVENT];
  if (ev !== undefined) dispatch(ev, ev.closeCb, arg);
}
// @since end

// A listening server's readiness: its accept queue (serverOpen in the
// connection package) has a client. The bytes of a socket and the clients
// of a server wait in their queues; the events are only the edges.
const SERVER_EVENTS: [string, (this: Tagged, arg?: unknown) => void][] = [
  ["connection", onRead],
  ["error", onClose], // @since 8
  // @until 7: ["error", onRead],
];
// 'data' is only the edge here: the bytes themselves are kept by the socket's
// receive queue (socketOpen in the connection package), which must be set up
// before the socket is attached, and wait there until the owner reads them,
// as they wait in the kernel in C.
const SOCKET_EVENTS: [string, (this: Tagged, arg?: unknown) => void][] = [
  ["data", onRead],
  ["end", onRead],
  // @since 8 begin
  ["drain", onWrite],
  ["connect", onWrite],
  ["error", onClose],
  ["close", onClose],
  // @since end
  // @until 7 begin
  // ["error", onRead],
  // ["close", onRead],
  // @until end
];

export interface Loop {
  core: Core;
  /**
   * The attached events, as C keeps its loop_event_t pointers in a vec. A
   * handle finds its own event through its tag, so the list is only walked
   * to detach, to destroy the loop and to find the owner of a handler that
   * threw. (A Map here reallocated its table as connections came and went,
   * and each new table outlived the young generation: garbage-collector work
   * on every connection.)
   */
  events: SlotList<LoopEvent>;
  running: boolean;
  // @since 8 begin
  /** A pass is queued. */
  scheduled: boolean;
  /** Passes run so far (tests use it to prove an idle loop does nothing). */
  passes: number;
  immediate: ReturnType<typeof setImmediate> | null;
  /** The pass as one function, made once, so scheduling allocates nothing. */
  readonly runPass: () => void;
  // @since end
  // @since 10 begin
  /** The most bytes one pipe has held (measured right after each source handler). */
  peakPipeBuffered: number;
  /**
   * The pipes the next pass visits: those that may make progress (nginx's
   * posted events). A pipe is posted when it is created, when an end's
   * ready or active turns on or its pipe changes, and when the pass finds
   * it can still progress; an idle pipe is never visited, however many
   * there are.
   */
  posted: Set<Pipe>;
  /**
   * The pipes in core.pipes. A pass visits a posted pipe only while the core
   * holds it: one destroyed since it was posted, or never added (the end's
   * flags post its pipe as soon as it is attached), is skipped, as C's walk of
   * core.pipes would never see it.
   */
  held: WeakSet<Pipe>;
  // @since end
}

function isServer(handle: LoopHandle): handle is Server {
  return typeof (handle as Server).listen === "function";
}

/** xps_loop_create */
export function loopCreate(core: Core): Loop {
  // @solution stage-07 begin 3: Create the loop
  //> A loop belongs to one core, holds an empty list of attached events (a
  //> SlotList) and is not running yet.
  const loop: Loop = {
    core,
    events: new SlotList(),
    running: false,
    // @since 8 begin
    scheduled: false,
    passes: 0,
    immediate: null,
    runPass: () => loopPass(loop),
    // @since end
    // @since 10 begin
    peakPipeBuffered: 0,
    posted: new Set(),
    held: new WeakSet(),
    // @since end
  };
  // @since 10 begin
  core.pipes.onAdd = (pipe) => {
    loop.held.add(pipe);
    loop.posted.add(pipe);
  };
  core.pipes.onRemove = (pipe) => {
    loop.posted.delete(pipe);
    loop.held.delete(pipe);
  };
  // @since end
  return loop;
  // @solution end
}

/** xps_loop_destroy: detach every handle; no more passes run. */
export function loopDestroy(loop: Loop): void {
  // @solution stage-07 begin 5: Detach handles, and destroy the loop
  loop.running = false;
  // @since 8 begin
  if (loop.immediate !== null) clearImmediate(loop.immediate);
  loop.immediate = null;
  loop.scheduled = false;
  // @since end
  for (const ev of loop.events.live()) loopDetach(loop, ev.handle);
  // @solution end
}

/**
 * xps_loop_attach: deliver the handle's readiness to the owner's callbacks.
 * OK, or E_FAIL (-1) when the handle is already attached, or when it is a
 * socket that nothing keeps the bytes of yet (no 'data' listener: listening
 * for 'data' here would start a flow that drops them).
 */
export function loopAttach(
  loop: Loop,
  handle: LoopHandle,
  ptr: object,
  readCb: LoopCallback | null,
  writeCb: LoopCallback | null, // @since 8
  closeCb: LoopCallback | null, // @since 8
): number {
  // @solution stage-07 begin 4: Attach a handle
  //> Refuse (-1) a handle that already has an event, and a socket that has
  //> no receive queue yet (no 'data' listener: listening here would start a
  //> flow that drops its bytes; log an ERROR). Otherwise make the handle's
  //> loop event (loop, handle, ptr, the callbacks, attached), tag the
  //> handle with it, listen for the Node events that stand for readiness
  //> (SERVER_EVENTS or SOCKET_EVENTS, with the shared listener functions),
  //> add the event to loop.events, and return 0 (OK).
  if ((handle as Tagged)[EVENT] !== undefined) return -1;
  if (!isServer(handle) && handle.listenerCount("data") === 0) {
    logger("ERROR", "loopAttach()", "the socket has no receive queue (socketOpen) yet; attaching it would lose its bytes");
    return -1;
  }
  const ev: LoopEvent = { loop, handle, ptr, readCb, writeCb, closeCb, attached: true }; // @since 8
  // @until 7: const ev: LoopEvent = { loop, handle, ptr, readCb, attached: true };
  (handle as Tagged)[EVENT] = ev;
  for (const [name, fn] of isServer(handle) ? SERVER_EVENTS : SOCKET_EVENTS) handle.on(name, fn);
  loop.events.add(ev);
  return 0;
  // @solution end
}

/** xps_loop_detach: stop delivering the handle's events. OK, or E_FAIL when it was not attached. */
export function loopDetach(loop: Loop, handle: LoopHandle): number {
  // @solution stage-07 begin 5: Detach handles, and destroy the loop
  //> loopDetach: -1 for a handle without an event of this loop. Otherwise
  //> stop listening for its events, untag it, mark the event not attached
  //> (callbacks still queued in this batch check that), keep a no-op
  //> 'error' listener on it if it has none left (a late error must not
  //> crash the process), take the event out of loop.events, and return 0.
  //> loopDestroy: the loop stops running and detaches every handle.
  const ev = (handle as Tagged)[EVENT];
  if (ev === undefined || ev.loop !== loop) return -1;
  for (const [name, fn] of isServer(handle) ? SERVER_EVENTS : SOCKET_EVENTS) handle.off(name, fn);
  delete (handle as Tagged)[EVENT];
  ev.attached = false;
  // A socket or server without an 'error' listener would crash the process on
  // a late error; a detached handle's errors no longer matter to anyone.
  if (handle.listenerCount("error") === 0) handle.on("error", ignoreError);
  loop.events.remove(ev);
  return 0;
  // @solution end
}

function ignoreError(): void {}

/** xps_loop_run: start running pipe passes. Node's own event loop does the waiting. */ // @since 10
// @until 9: /** xps_loop_run: start delivering events. Node's own event loop does the waiting. */
export function loopRun(loop: Loop): void {
  loop.running = true;
  loopSchedule(loop); // @since 8
}

// @since 8 begin
/** Queue a pass for the end of this turn (at most one is queued). */
export function loopSchedule(loop: Loop): void {
  if (loop.scheduled || !loop.running) return;
  loop.scheduled = true;
  loop.immediate = setImmediate(loop.runPass);
}
// @since end

function dispatch(ev: LoopEvent, cb: LoopCallback | null, arg: unknown): void {
  // @solution stage-07 begin 6: Deliver an event to its owner
  //> An earlier callback of this batch may have detached the handle: then
  //> do nothing (C checks that the event is still in loop->events). Else
  //> call the callback, if there is one, with the owner (ev.ptr) and `arg`;
  //> if it throws, hand the error to loopFault, which closes that owner
  //> only.
  const loop = ev.loop;
  // An earlier callback in this batch may have detached the handle (C checks
  // that the event is still in loop->events for the same reason).
  if (!ev.attached) return;
  if (cb !== null) {
    try {
      cb(ev.ptr, arg);
    } catch (err) {
      loopFault(loop, ev.ptr, err);
    }
  }
  loopSchedule(loop); // @since 8
  // @solution end
}

/**
 * A callback of `owner` threw. Log it and close that owner only: its close
 * callback runs as if the socket had failed, and if the handle is still
 * attached after that it is detached and destroyed by force. Returns false
 * when the owner has no handle in this loop.
 */
export function loopFault(loop: Loop, owner: object, err: unknown): boolean {
  logger("ERROR", "loopFault()", `${describeError(err)}; closing the connection that hit it`);
  // A search, newest first: only faults need to find an event by its owner.
  const ev = loop.events.items.findLast((e): e is LoopEvent => e !== null && e.ptr === owner);
  if (ev === undefined) return false;
  // @since 8 begin
  let closed = ev.closeCb === null;
  if (ev.closeCb !== null) {
    try {
      ev.closeCb(owner, err);
      closed = true;
    } catch (err2) {
      logger("ERROR", "loopFault()", `its close handler failed too: ${describeError(err2)}`);
    }
  }
  // @since end
  // @until 7: // There is no close callback yet (stage 8 adds it): the loop closes the handle.
  // @until 7: const closed = false;
  // Whatever the owner's code threw, its handle goes: a close handler that
  // failed half-way may have detached it and never reached the socket.
  if (ev.attached || !closed) {
    if (ev.attached) loopDetach(loop, ev.handle);
    if (isServer(ev.handle)) ev.handle.close();
    else ev.handle.destroy();
  }
  loopSchedule(loop); // @since 8
  return true;
}

// @since 8 begin
/**
 * Run an owner's callback from a pass (stage 8's level-triggered reports,
 * stage 9's handle_connections): if it throws, only that owner is closed.
 */
export function loopCall(loop: Loop, owner: object, cb: (owner: any) => void): void {
  try {
    cb(owner);
  } catch (err) {
    loopFault(loop, owner, err);
  }
}
// @since end

// @since 10 begin

/**
 * An owner's code threw while the pass worked on `end`: close that owner
 * (loopFault). An owner with no handle in the loop (a file, a test double)
 * has its end retired instead, so the pipe rules tear the flow down.
 */
function faultEnd(loop: Loop, end: AnyPipeEnd, err: unknown): void {
  if (loopFault(loop, end.ptr, err)) return;
  retire(end);
}

/**
 * Take an end out of its flow: not ready, not active, out of its pipe. The
 * links are cut by hand when the pipe's own detach fails (it is a TODO in
 * stage 10), so a broken pipe module cannot keep the pass busy forever.
 */
function retire(end: AnyPipeEnd): void {
  end.ready = false;
  end.active = false;
  const pipe = end.pipe;
  if (pipe === null) return;
  try {
    if (end.kind === "source") pipeDetachSource(pipe);
    else pipeDetachSink(pipe);
  } catch {
    // cut below
  }
  if (end.kind === "source" && pipe.source === end) pipe.source = null;
  if (end.kind === "sink" && pipe.sink === end) pipe.sink = null;
  end.pipe = null;
}

function invoke(loop: Loop, end: AnyPipeEnd, cb: (end: any) => void): void {
  try {
    cb(end);
  } catch (err) {
    faultEnd(loop, end, err);
  }
}

/**
 * The pipe's own functions threw (pipeIsWritable and the rest are a learner's
 * TODOs in stage 10): no flow through this pipe can go on, so the owners of
 * its ends are closed, each once, and only they. The rest of the pass goes on.
 */
function faultPipe(loop: Loop, pipe: Pipe, err: unknown): void {
  const ends = [pipe.source, pipe.sink].filter((e): e is AnyPipeEnd => e !== null);
  if (ends.length === 0) {
    logger("ERROR", "handlePipes()", `${describeError(err)}; dropping the pipe`);
    loop.core.pipes.remove(pipe);
    return;
  }
  const owners = new Set<unknown>();
  for (const end of ends) {
    if (owners.has(end.ptr)) continue;
    owners.add(end.ptr);
    faultEnd(loop, end, err);
  }
  // An owner that could not be closed cleanly may have left its end behind.
  for (const end of ends) if (end.pipe === pipe) retire(end);
}

/**
 * handle_pipes: one pass over the core's pipes. For each pipe, in order:
 *   1. no source and no sink: destroy it;
 *   2. source ready and pipe writable: call the source's handler;
 *   3. sink ready and pipe readable: call the sink's handler;
 *   4. a source but no sink: the source is told, once, that its flow is over
 *      (active = false, then its close callback);
 *   5. a sink but no source and nothing left to read: likewise for the sink.
 * The ends are re-read before every step because each callback may destroy
 * its owner. The pass visits the posted pipes only (see Loop.posted), in the
 * order they were posted. Returns true when, after all callbacks ran, some
 * pipe can still progress (the conditions are checked again only then,
 * because a callback on one pipe can make another ready): those are posted
 * for the next pass.
 *
 * One refinement over C: rules 4 and 5 fire while the end is still active and
 * clear that flag first, so the close reaches an end once rather than on every
 * pass; C's loop would spin at timeout 0 while such an end waited.
 */
export function handlePipes(loop: Loop): boolean {
  // What is posted now is this pass; what gets posted while it runs (by the
  // callbacks) waits for the next one.
  const batch = loop.posted;
  loop.posted = new Set();
  for (const pipe of batch) {
    if (!loop.held.has(pipe)) continue;
    watchEnd(pipe.source);
    watchEnd(pipe.sink);
    // The handlers are guarded one by one (invoke); this guards the pipe's
    // own functions, so one pipe that throws costs only its owners.
    try {
      pipeStep(loop, pipe);
    } catch (err) {
      faultPipe(loop, pipe, err);
    }
  }
  for (const pipe of batch) {
    if (!loop.held.has(pipe) || loop.posted.has(pipe)) continue;
    try {
      if (canProgress(pipe)) loop.posted.add(pipe);
    } catch {
      loop.posted.add(pipe); // the next pass meets the same error inside its guard
    }
  }
  return loop.posted.size > 0;
}

/** Rules 1 to 5 for one pipe. */
function pipeStep(loop: Loop, pipe: Pipe): void {
  if (pipe.source === null && pipe.sink === null) {
    pipeDestroy(pipe);
    return;
  }
  const source = pipe.source;
  if (source !== null && source.ready && pipeIsWritable(pipe)) {
    invoke(loop, source, source.handlerCb);
    // The fullest a pipe gets is right after its source wrote.
    if (pipe.buffList.len > loop.peakPipeBuffered) loop.peakPipeBuffered = pipe.buffList.len;
  }
  const sink = pipe.sink;
  if (sink !== null && sink.ready && pipeIsReadable(pipe)) invoke(loop, sink, sink.handlerCb);
  const lonelySource = pipe.source;
  if (lonelySource !== null && pipe.sink === null && lonelySource.active) {
    lonelySource.active = false;
    if (pipe.aborted) lonelySource.aborted = true;
    invoke(loop, lonelySource, lonelySource.closeCb);
  }
  const lonelySink = pipe.sink;
  if (lonelySink !== null && pipe.source === null && lonelySink.active && !pipeIsReadable(pipe)) {
    lonelySink.active = false;
    if (pipe.aborted) lonelySink.aborted = true;
    invoke(loop, lonelySink, lonelySink.closeCb);
  }
}

/** Would rules 1 to 5 do anything for this pipe now? */
function canProgress(pipe: Pipe): boolean {
  const { source, sink } = pipe;
  return (
    (source === null && sink === null) ||
    (source !== null && source.ready && pipeIsWritable(pipe)) ||
    (sink !== null && sink.ready && pipeIsReadable(pipe)) ||
    (source !== null && sink === null && source.active) ||
    (sink !== null && source === null && sink.active && !pipeIsReadable(pipe))
  );
}

/** filter_nulls: compact the core's lists once enough slots are empty. */
function filterNulls(core: Core): void {
  core.listeners.compact();
  core.connections.compact();
  core.pipes.compact();
  core.sessions.compact(); // @since 13
  core.loop.events.compact();
}
// @since end

// @since 8 begin
/**
 * Passes run back to back, at most, before the loop yields to Node's event
 * loop. XPS_PASSES_PER_TURN overrides it (1 = yield after every pass).
 */
export const PASSES_PER_TURN = Math.max(1, Number(process.env.XPS_PASSES_PER_TURN ?? 64) || 64);

function loopPass(loop: Loop): void {
  loop.scheduled = false;
  loop.immediate = null;
  let more = true;
  for (let i = 0; more && loop.running && i < PASSES_PER_TURN; i++) {
    loop.passes++;
    // @only 8: more = reportWritable(loop);
    // @only 9: more = handleConnections(loop);
    more = handlePipes(loop); // @since 10
  }
  filterNulls(loop.core); // @since 10
  if (more) loopSchedule(loop);
}
// @since end
