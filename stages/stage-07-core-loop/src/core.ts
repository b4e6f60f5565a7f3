// stage-07: your copy of packages/core/src/core.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-07` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-07` restores this version.

// The core (xps_core.c): one instance owns one loop and the lists of
// everything that lives in it. Later stages add pipes (10), sessions (13), a
// config (16) and several cores (23); each is one more list or field here.
import { SlotList, logger } from "@xps/utils";
import { loopCreate, loopDestroy, type Loop } from "@xps/core/loop";
import { todo } from "@xps/utils/todo";

export interface Core {
  loop: Loop;
  // The network objects are typed by their own package (connection); the
  // core only owns the lists, as in C.
  listeners: SlotList<object>;
  connections: SlotList<object>;
}

/** xps_core_create */
export function coreCreate(): Core {
  // TODO(stage-07 #1): Create the core
  // A core has empty SlotLists of listeners and connections, and a loop
  // of its own (loopCreate(core)). Log "created core" at DEBUG level.
  throw todo("stage-07", 1, "Create the core");
}

/**
 * xps_core_destroy for what the core package owns: its loop. Network objects (listeners and
 * connections) are destroyed by their own package before this runs (see
 * serverStop in @xps/connection).
 */
export function coreDestroy(core: Core): void {
  // TODO(stage-07 #2): Destroy the core
  // Destroy the core's loop (loopDestroy) and log "destroyed core" at
  // DEBUG level. (Its listeners and connections are destroyed before,
  // by serverStop.)
  throw todo("stage-07", 2, "Destroy the core");
}

export interface CoreStats {
  listeners: number;
  connections: number;
}

/** A snapshot of what the core holds, for tests, benchmarks and the stats signal. */
export function coreStats(core: Core): CoreStats {
  return {
    listeners: core.listeners.size,
    connections: core.connections.size,
  };
}
