// @stages 10-
// How the loop learns that a pipe may progress: a pipe end posts its pipe
// for the loop's next pass, which visits only posted pipes (see handlePipes
// in loop.ts, and Loop.posted), when its `ready` or `active` turns on and
// when its `pipe` changes (both pipes, for a move). A flag that turns off
// posts nothing: no rule of the pass can fire because an end stopped being
// ready or active, and the visit did nothing (measured: a keep-alive request
// through the proxy took 1.50 passes with it, 0.76 without). This is the part
// of C's epoll readiness reports that Node's events do not give: in C the
// pass walks every pipe; here, a pipe nobody touched is never visited.
//
// The ends stay the plain objects that pipeEndCreate (stage 10, TODO 1)
// makes. pipeSourceCreate and pipeSinkCreate hand each new one to watchedEnd,
// which returns an object of the class below with the same fields: reading
// and writing them works as before, and a write that changes a flag also
// posts the pipe. watchEnd is the fallback for an end made some other way
// (a hand-made object in a test, say): it turns the three fields of that very
// object into accessors that do the same.
//
// Why a class and not accessors on the learner's object: measured with
// `node --cpu-prof` under `pnpm bench --only http1k`, turning the fields of
// each new end into accessors (Object.defineProperty, three per end) took 6%
// of the stage 15 server's time, and left the objects in V8's slow dictionary
// mode; an end of a class whose prototype has the accessors costs about a
// thirtieth of that (docs/performance.md, "Posted pipes").
import { inspect } from "node:util";
import type { AnyPipeEnd, Pipe, PipeEnd, PipeEndKind } from "@xps/core/pipe";

function post(pipe: Pipe | null | undefined): void {
  if (pipe !== null && pipe !== undefined) pipe.core.loop.posted.add(pipe);
}

/** A pipe end whose flags post its pipe when they change. */
class WatchedEnd<T, K extends PipeEndKind> {
  readonly kind: K;
  handlerCb: (end: PipeEnd<T, K>) => void;
  closeCb: (end: PipeEnd<T, K>) => void;
  ptr: T;
  aborted?: boolean;
  #ready: boolean;
  #active: boolean;
  #pipe: Pipe | null;

  constructor(end: PipeEnd<T, K>) {
    this.kind = end.kind;
    this.handlerCb = end.handlerCb;
    this.closeCb = end.closeCb;
    this.ptr = end.ptr;
    if (end.aborted !== undefined) this.aborted = end.aborted;
    this.#ready = end.ready;
    this.#active = end.active;
    this.#pipe = end.pipe;
  }

  get ready(): boolean {
    return this.#ready;
  }
  set ready(v: boolean) {
    if (this.#ready === v) return;
    this.#ready = v;
    if (v) post(this.#pipe);
  }
  get active(): boolean {
    return this.#active;
  }
  set active(v: boolean) {
    if (this.#active === v) return;
    this.#active = v;
    if (v) post(this.#pipe);
  }
  get pipe(): Pipe | null {
    return this.#pipe;
  }
  set pipe(v: Pipe | null) {
    const old = this.#pipe;
    if (old === v) return;
    this.#pipe = v;
    post(old);
    post(v);
  }

  /** console.log shows the three flags as plain fields, as the learner wrote them. */
  [inspect.custom](depth: number, options: object): string {
    const { kind, ready, active, pipe, handlerCb, closeCb, ptr } = this;
    const plain: Record<string, unknown> = { kind, pipe, ready, active, handlerCb, closeCb, ptr };
    for (const key of Object.keys(this)) if (!(key in plain)) plain[key] = (this as Record<string, unknown>)[key];
    return inspect(plain, { ...options, depth });
  }
}

const FIELDS = new Set(["kind", "pipe", "ready", "active", "handlerCb", "closeCb", "ptr", "aborted"]);

/** The end that pipeEndCreate made, as a watched end with the same fields (any extra field is kept). */
export function watchedEnd<E extends AnyPipeEnd>(end: E): E {
  if (end === null || typeof end !== "object" || end instanceof WatchedEnd) return end;
  const watched = new WatchedEnd(end as PipeEnd<unknown, PipeEndKind>) as unknown as Record<string, unknown>;
  for (const key of Object.keys(end)) if (!FIELDS.has(key)) watched[key] = (end as unknown as Record<string, unknown>)[key];
  return watched as unknown as E;
}

const WATCHED: unique symbol = Symbol("xps watched end");
type Watched = AnyPipeEnd & { [WATCHED]?: { ready: boolean; active: boolean; pipe: Pipe | null } };

/**
 * From now on, this end posts its pipe when its ready or active turns on or
 * its pipe changes.
 * An end from pipeSourceCreate or pipeSinkCreate already does; any other end
 * gets its three fields turned into accessors that do the same.
 */
export function watchEnd(end: AnyPipeEnd | null): void {
  if (end === null || end instanceof WatchedEnd || (end as Watched)[WATCHED] !== undefined) return;
  const values = { ready: end.ready, active: end.active, pipe: end.pipe };
  Object.defineProperty(end, WATCHED, { value: values });
  for (const key of ["ready", "active", "pipe"] as const) {
    Object.defineProperty(end, key, {
      enumerable: true,
      configurable: true,
      get: () => values[key],
      set: (v: never) => {
        const old = values[key];
        if (old === v) return;
        (values as Record<string, unknown>)[key] = v;
        if (key === "pipe") {
          post(old as Pipe | null);
          post(v as Pipe | null);
        } else if (v) post(values.pipe);
      },
    });
  }
}
