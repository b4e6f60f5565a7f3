// stage-10: your copy of packages/core/src/pipe.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-10` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-10` restores this version.

// The pipe (xps_pipe.c, stage 10): a one-way byte channel from a source to a
// sink, with a buffer threshold.
//
// A source is whatever produces bytes (a socket's receiving side, later a
// file); a sink is whatever consumes them (a socket's sending side). Each end
// belongs to an owner (`ptr`) and carries two callbacks: `handlerCb`, which the
// loop calls when that end can make progress, and `closeCb`, which the loop
// calls once when the other end has gone away. The loop's pipe pass
// (handlePipes in loop.ts) decides when to call them; the pipe only stores
// bytes and answers "can I take more?" (writable) and "is there anything to
// send?" (readable).
import { BufferList, DEFAULT_PIPE_BUFF_THRESH, E_FAIL, OK, logger } from "@xps/utils";
import type { Core } from "@xps/core/core";
import { watchedEnd } from "@xps/core/watch";
import { todo } from "@xps/utils/todo";

export type PipeEndKind = "source" | "sink";

export interface PipeEnd<T, K extends PipeEndKind> {
  readonly kind: K;
  /** The pipe this end is attached to, or null. */
  pipe: Pipe | null;
  /** The owner can make progress now (data to read / room to write). */
  ready: boolean;
  /** Part of a live flow; cleared when the other end goes away. */
  active: boolean;
  /** Called by the loop when this end is ready and the pipe allows it. */
  handlerCb: (end: PipeEnd<T, K>) => void;
  /** Called by the loop, once, when the other end of the pipe is gone. */
  closeCb: (end: PipeEnd<T, K>) => void;
  /** The owner (a connection, later a file or a session). */
  ptr: T;
  /**
   * Set by the loop before it tells the end that its flow is over, when that
   * flow ended with a reset: the owner closes with a reset too, so that the
   * peer can tell a cut stream from a complete one.
   */
  aborted?: boolean;
}

export type PipeSource<T = unknown> = PipeEnd<T, "source">;
export type PipeSink<T = unknown> = PipeEnd<T, "sink">;
export type PipeHandler<T, K extends PipeEndKind> = (end: PipeEnd<T, K>) => void;
/** Either end, of any owner. */
export type AnyPipeEnd = PipeSource<any> | PipeSink<any>;

export interface Pipe {
  core: Core;
  // `any`: a pipe joins ends of different owners (a client and an upstream).
  source: PipeSource<any> | null;
  sink: PipeSink<any> | null;
  buffList: BufferList;
  buffThresh: number;
  /** The flow through this pipe ended with a reset (a peer's RST); see PipeEnd.aborted. */
  aborted?: boolean;
}

export { DEFAULT_PIPE_BUFF_THRESH };

// ---------------------------------------------------------------- pipe ends

function pipeEndCreate<T, K extends PipeEndKind>(
  kind: K,
  ptr: T,
  handlerCb: PipeHandler<T, K>,
  closeCb: PipeHandler<T, K>,
): PipeEnd<T, K> {
  // TODO(stage-10 #1): Create a pipe end (used for both sources and sinks)
  // A new end belongs to `ptr`, is attached to no pipe, is neither ready nor
  // active, and keeps its two callbacks. Log "create pipe_source" or
  // "create pipe_sink" at DEBUG level.
  throw todo("stage-10", 1, "Create a pipe end (used for both sources and sinks)");
}

/** xps_pipe_source_create */
export function pipeSourceCreate<T>(ptr: T, handlerCb: PipeHandler<T, "source">, closeCb: PipeHandler<T, "source">): PipeSource<T> {
  // watchedEnd: the same end, made to tell the loop when its flags change (see watch.ts).
  return watchedEnd(pipeEndCreate("source", ptr, handlerCb, closeCb));
}

/** xps_pipe_sink_create */
export function pipeSinkCreate<T>(ptr: T, handlerCb: PipeHandler<T, "sink">, closeCb: PipeHandler<T, "sink">): PipeSink<T> {
  return watchedEnd(pipeEndCreate("sink", ptr, handlerCb, closeCb));
}

/** xps_pipe_source_destroy: detach the source from its pipe, if any. */
export function pipeSourceDestroy(source: PipeSource<any>): void {
  // TODO(stage-10 #7): Destroy the ends
  // Detach the end from its pipe when it has one, and clear its flags. The
  // pipe itself stays: the loop's pass destroys it once neither end is left.
  // Log "destroyed pipe_source" (or _sink) at DEBUG level.
  throw todo("stage-10", 7, "Destroy the ends");
}

/** xps_pipe_sink_destroy: detach the sink from its pipe, if any. */
export function pipeSinkDestroy(sink: PipeSink<any>): void {
  // TODO(stage-10 #7): Destroy the ends
  throw todo("stage-10", 7, "Destroy the ends");
}

// ---------------------------------------------------------------- the pipe

/**
 * xps_pipe_create: a pipe from `source` to `sink`, registered in the core's
 * list of pipes. Both ends become active. Returns null (and logs) when an end
 * is already attached to another pipe.
 */
export function pipeCreate(core: Core, buffThresh: number, source: PipeSource<any>, sink: PipeSink<any>): Pipe | null {
  // TODO(stage-10 #3): Create a pipe and attach both ends
  // Refuse (ERROR log, return null) a threshold that is not above 0 or an end
  // that already has a pipe. Otherwise make the pipe with an empty
  // BufferList, add it to core.pipes, attach the source and the sink, and
  // log "created pipe" at DEBUG level.
  throw todo("stage-10", 3, "Create a pipe and attach both ends");
}

/** xps_pipe_destroy: drop the pipe and whatever it still buffers. */
export function pipeDestroy(pipe: Pipe): void {
  // TODO(stage-10 #4): Destroy a pipe
  // Detach any end that is still attached, empty the buffer, and remove the
  // pipe from core.pipes (its slot becomes null; the loop compacts the list).
  throw todo("stage-10", 4, "Destroy a pipe");
}

/** The pipe holds bytes for its sink. */
export function pipeIsReadable(pipe: Pipe): boolean {
  // TODO(stage-10 #5): Readable and writable
  // Readable: the pipe holds at least one byte. Writable: it holds fewer
  // bytes than its threshold (so a single write may overshoot the threshold;
  // sources size their reads to the room left).
  throw todo("stage-10", 5, "Readable and writable");
}

/** The pipe has room below its threshold. */
export function pipeIsWritable(pipe: Pipe): boolean {
  // TODO(stage-10 #5): Readable and writable
  throw todo("stage-10", 5, "Readable and writable");
}

/** Bytes the pipe can take before it stops being writable (0 when full). */
export function pipeRoom(pipe: Pipe): number {
  return Math.max(0, pipe.buffThresh - pipe.buffList.len);
}

/** xps_pipe_attach_source: OK, or E_FAIL when either side is already taken. */
export function pipeAttachSource(pipe: Pipe, source: PipeSource<any>): number {
  // TODO(stage-10 #2): Attach and detach the ends
  // Attaching fails (E_FAIL) when the pipe already has that end or the end
  // already has a pipe; otherwise link both ways and mark the end active.
  // Detaching fails when the pipe has no such end; otherwise unlink both
  // ways. An end can be attached once at a time.
  throw todo("stage-10", 2, "Attach and detach the ends");
}

/** xps_pipe_detach_source */
export function pipeDetachSource(pipe: Pipe): number {
  // TODO(stage-10 #2): Attach and detach the ends
  throw todo("stage-10", 2, "Attach and detach the ends");
}

/** xps_pipe_attach_sink */
export function pipeAttachSink(pipe: Pipe, sink: PipeSink<any>): number {
  // TODO(stage-10 #2): Attach and detach the ends
  throw todo("stage-10", 2, "Attach and detach the ends");
}

/** xps_pipe_detach_sink */
export function pipeDetachSink(pipe: Pipe): number {
  // TODO(stage-10 #2): Attach and detach the ends
  throw todo("stage-10", 2, "Attach and detach the ends");
}

// ---------------------------------------------------------------- data

/**
 * xps_pipe_source_write: append bytes to the source's pipe. The pipe takes the
 * bytes over (no copy is made, unlike C, which duplicates because the caller
 * frees its buffer); the caller must not change them afterwards.
 */
export function pipeSourceWrite(source: PipeSource<any>, bytes: Buffer): number {
  // TODO(stage-10 #6): Write into the pipe, read and clear from it
  // pipeSourceWrite fails (ERROR "source is not attached to a pipe" or "pipe
  // is not writable", E_FAIL) or appends the bytes and returns OK.
  // pipeSinkRead peeks without removing: with a length, exactly that many
  // bytes (null and an ERROR when the sink has no pipe or fewer bytes are
  // buffered); without one, the next stored chunk, uncopied. pipeSinkClear
  // drops bytes from the front, with the same checks.
  throw todo("stage-10", 6, "Write into the pipe, read and clear from it");
}

/**
 * xps_pipe_sink_read: peek at buffered bytes without removing them. With a
 * length, exactly that many (a view when they lie in one stored chunk, else a
 * copy); without one, the next stored chunk as it is (never a copy). Null when
 * the sink has no pipe or fewer bytes are buffered.
 */
export function pipeSinkRead(sink: PipeSink<any>, len?: number): Buffer | null {
  // TODO(stage-10 #6): Write into the pipe, read and clear from it
  throw todo("stage-10", 6, "Write into the pipe, read and clear from it");
}

/** xps_pipe_sink_clear: drop `len` bytes from the front of the sink's pipe. */
export function pipeSinkClear(sink: PipeSink<any>, len: number): number {
  // TODO(stage-10 #6): Write into the pipe, read and clear from it
  throw todo("stage-10", 6, "Write into the pipe, read and clear from it");
}
