// @stages 7-
// The core (xps_core.c): one instance owns one loop and the lists of
// everything that lives in it. Later stages add pipes (10), sessions (13), a
// config (16) and several cores (23); each is one more list or field here.
import { SlotList, logger } from "@xps/utils";
import { loopCreate, loopDestroy, type Loop } from "@xps/core/loop";
import { pipeDestroy, type AnyPipeEnd, type Pipe } from "@xps/core/pipe"; // @since 10

export interface Core {
  loop: Loop;
  // The network objects are typed by their own package (connection); the
  // core only owns the lists, as in C.
  listeners: SlotList<object>;
  connections: SlotList<object>;
  pipes: SlotList<Pipe>; // @since 10
  /** The sessions (stage 13), typed by their own package (connection), like the network objects. */ // @since 13
  sessions: SlotList<object>; // @since 13
}

/** xps_core_create */
export function coreCreate(): Core {
  // @solution stage-07 begin 1: Create the core
  //> A core has empty SlotLists of listeners and connections, and a loop
  //> of its own (loopCreate(core)). Log "created core" at DEBUG level.
  const core = {
    listeners: new SlotList<object>(),
    connections: new SlotList<object>(),
    pipes: new SlotList<Pipe>(), // @since 10
    sessions: new SlotList<object>(), // @since 13
  } as Core;
  core.loop = loopCreate(core);
  logger("DEBUG", "coreCreate()", "created core");
  return core;
  // @solution end
}

/**
 * xps_core_destroy for what the core package owns: the loop, and every pipe // @since 10
 * (whose ends are told to close first). Network objects (listeners and // @since 10
// @until 9:  * xps_core_destroy for what the core package owns: its loop. Network objects (listeners and
 * connections) are destroyed by their own package before this runs (see
 * serverStop in @xps/connection).
 * So are the sessions (stage 13), which belong to that package too. // @since 13
 */
export function coreDestroy(core: Core): void {
  // @solution stage-07 begin 2: Destroy the core
  //> Destroy the core's loop (loopDestroy) and log "destroyed core" at
  //> DEBUG level. (Its listeners and connections are destroyed before,
  //> by serverStop.)
  // @since 10 begin
  for (const pipe of core.pipes.live()) {
    const ends: (AnyPipeEnd | null)[] = [pipe.source, pipe.sink];
    for (const end of ends) {
      if (end === null || !end.active) continue;
      end.active = false;
      try {
        (end.closeCb as (e: AnyPipeEnd) => void)(end);
      } catch {
        // shutting down: a failing close callback must not stop the rest
      }
    }
    pipeDestroy(pipe);
  }
  // @since end
  loopDestroy(core.loop);
  logger("DEBUG", "coreDestroy()", "destroyed core");
  // @solution end
}

// @since 10 begin
export interface PipeStats {
  buffered: number;
  threshold: number;
  hasSource: boolean;
  hasSink: boolean;
}
// @since end

export interface CoreStats {
  listeners: number;
  connections: number;
  sessions: number; // @since 13
  // @since 10 begin
  pipes: number;
  /** Bytes held in all pipes together. */
  buffered: number;
  /** The most bytes held by any one pipe right now. */
  maxPipeBuffered: number;
  /** The most bytes any one pipe has held since the core started. */
  peakPipeBuffered: number;
  // @since end
  /** Passes the loop has run (they only run after events). */ // @since 8
  passes: number; // @since 8
  perPipe: PipeStats[]; // @since 10
}

/** A snapshot of what the core holds, for tests, benchmarks and the stats signal. */
export function coreStats(core: Core): CoreStats {
  // @since 10 begin
  const perPipe: PipeStats[] = [];
  let buffered = 0;
  let maxPipeBuffered = 0;
  for (const pipe of core.pipes.items) {
    if (pipe === null) continue;
    const b = pipe.buffList.len;
    buffered += b;
    if (b > maxPipeBuffered) maxPipeBuffered = b;
    perPipe.push({ buffered: b, threshold: pipe.buffThresh, hasSource: pipe.source !== null, hasSink: pipe.sink !== null });
  }
  // @since end
  return {
    listeners: core.listeners.size,
    connections: core.connections.size,
    sessions: core.sessions.size, // @since 13
    // @since 10 begin
    pipes: core.pipes.size,
    buffered,
    maxPipeBuffered,
    peakPipeBuffered: Math.max(core.loop.peakPipeBuffered, maxPipeBuffered),
    // @since end
    passes: core.loop.passes, // @since 8
    perPipe, // @since 10
  };
}
