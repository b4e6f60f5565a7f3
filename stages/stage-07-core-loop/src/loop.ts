// stage-07: your copy of packages/core/src/loop.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-07` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-07` restores this version.

// The loop (xps_loop.c), mapped onto Node.
//
// In C the loop owns an epoll instance: epoll_wait reports which sockets are
// readable or writable, and the loop calls the callbacks of their owners.
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
import type { Server, Socket } from "node:net";
import { SlotList, describeError, logger } from "@xps/utils";
import type { Core } from "@xps/core/core";
import { todo } from "@xps/utils/todo";

/** A loop callback gets the owner registered with loopAttach (and, for accept, the new socket). */
export type LoopCallback = (ptr: any, arg?: any) => void;

export type LoopHandle = Socket | Server;

/** What C's loop_event_t holds. */
export interface LoopEvent {
  loop: Loop;
  handle: LoopHandle;
  ptr: object;
  readCb: LoopCallback | null;
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

// A listening server's readiness: its accept queue (serverOpen in the
// connection package) has a client. The bytes of a socket and the clients
// of a server wait in their queues; the events are only the edges.
const SERVER_EVENTS: [string, (this: Tagged, arg?: unknown) => void][] = [
  ["connection", onRead],
  ["error", onRead],
];
// 'data' is only the edge here: the bytes themselves are kept by the socket's
// receive queue (socketOpen in the connection package), which must be set up
// before the socket is attached, and wait there until the owner reads them,
// as they wait in the kernel in C.
const SOCKET_EVENTS: [string, (this: Tagged, arg?: unknown) => void][] = [
  ["data", onRead],
  ["end", onRead],
  ["error", onRead],
  ["close", onRead],
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
}

function isServer(handle: LoopHandle): handle is Server {
  return typeof (handle as Server).listen === "function";
}

/** xps_loop_create */
export function loopCreate(core: Core): Loop {
  // TODO(stage-07 #3): Create the loop
  // A loop belongs to one core, holds an empty list of attached events (a
  // SlotList) and is not running yet.
  throw todo("stage-07", 3, "Create the loop");
}

/** xps_loop_destroy: detach every handle; no more passes run. */
export function loopDestroy(loop: Loop): void {
  // TODO(stage-07 #5): Detach handles, and destroy the loop
  throw todo("stage-07", 5, "Detach handles, and destroy the loop");
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
): number {
  // TODO(stage-07 #4): Attach a handle
  // Refuse (-1) a handle that already has an event, and a socket that has
  // no receive queue yet (no 'data' listener: listening here would start a
  // flow that drops its bytes; log an ERROR). Otherwise make the handle's
  // loop event (loop, handle, ptr, the callbacks, attached), tag the
  // handle with it, listen for the Node events that stand for readiness
  // (SERVER_EVENTS or SOCKET_EVENTS, with the shared listener functions),
  // add the event to loop.events, and return 0 (OK).
  throw todo("stage-07", 4, "Attach a handle");
}

/** xps_loop_detach: stop delivering the handle's events. OK, or E_FAIL when it was not attached. */
export function loopDetach(loop: Loop, handle: LoopHandle): number {
  // TODO(stage-07 #5): Detach handles, and destroy the loop
  // loopDetach: -1 for a handle without an event of this loop. Otherwise
  // stop listening for its events, untag it, mark the event not attached
  // (callbacks still queued in this batch check that), keep a no-op
  // 'error' listener on it if it has none left (a late error must not
  // crash the process), take the event out of loop.events, and return 0.
  // loopDestroy: the loop stops running and detaches every handle.
  throw todo("stage-07", 5, "Detach handles, and destroy the loop");
}

function ignoreError(): void {}

/** xps_loop_run: start delivering events. Node's own event loop does the waiting. */
export function loopRun(loop: Loop): void {
  loop.running = true;
}

function dispatch(ev: LoopEvent, cb: LoopCallback | null, arg: unknown): void {
  // TODO(stage-07 #6): Deliver an event to its owner
  // An earlier callback of this batch may have detached the handle: then
  // do nothing (C checks that the event is still in loop->events). Else
  // call the callback, if there is one, with the owner (ev.ptr) and `arg`;
  // if it throws, hand the error to loopFault, which closes that owner
  // only.
  throw todo("stage-07", 6, "Deliver an event to its owner");
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
  // There is no close callback yet (stage 8 adds it): the loop closes the handle.
  const closed = false;
  // Whatever the owner's code threw, its handle goes: a close handler that
  // failed half-way may have detached it and never reached the socket.
  if (ev.attached || !closed) {
    if (ev.attached) loopDetach(loop, ev.handle);
    if (isServer(ev.handle)) ev.handle.close();
    else ev.handle.destroy();
  }
  return true;
}

