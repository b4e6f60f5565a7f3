// Stage 10, milestone 7: the pipe module on its own, in-process. In the
// learner variant "@xps/core/pipe" is your src/pipe.ts (everywhere: the loop
// and the core below call your functions too). Each check runs in a probe, a
// process of its own; every t.same() is an observation, compared with the
// reference's (test/observations/pipe.json).
import path from "node:path";
import { E_FAIL, OK, captureLog } from "@xps/utils";
import { coreCreate, type Core } from "@xps/core/core";
import { handlePipes } from "@xps/core/loop";
import {
  pipeAttachSink,
  pipeAttachSource,
  pipeCreate,
  pipeDestroy,
  pipeDetachSink,
  pipeDetachSource,
  pipeIsReadable,
  pipeIsWritable,
  pipeSinkClear,
  pipeSinkCreate,
  pipeSinkDestroy,
  pipeSinkRead,
  pipeSourceCreate,
  pipeSourceDestroy,
  pipeSourceWrite,
  type Pipe,
  type PipeSink,
  type PipeSource,
} from "@xps/core/pipe";
import { defineStage, type MilestoneContext } from "@xps/testkit";

const stage = defineStage(path.join(import.meta.dirname, ".."));

interface Owner {
  name: string;
  handled: number;
  closed: number;
}

function ends(): { owner: Owner; source: PipeSource<Owner>; sink: PipeSink<Owner> } {
  const owner: Owner = { name: "test owner", handled: 0, closed: 0 };
  const handler = (end: { ptr: Owner }): void => {
    end.ptr.handled++;
  };
  const close = (end: { ptr: Owner }): void => {
    end.ptr.closed++;
  };
  return { owner, source: pipeSourceCreate(owner, handler, close), sink: pipeSinkCreate(owner, handler, close) };
}

function made(t: MilestoneContext, core: Core, thresh: number, source: PipeSource<Owner>, sink: PipeSink<Owner>): Pipe {
  const pipe = pipeCreate(core, thresh, source, sink);
  if (pipe === null) t.fail(`pipeCreate(core, ${thresh}, source, sink) returned null for two fresh ends`);
  return pipe;
}

/** A value in a failure message: pipes and ends refer to each other, so objects are named, not printed. */
function shown(v: unknown): string {
  if (v === null || v === undefined || typeof v !== "object") return JSON.stringify(v) ?? String(v);
  if (Buffer.isBuffer(v)) return `a Buffer of ${v.length} bytes`;
  const o = v as { kind?: string; buffList?: unknown };
  if (o.kind === "source" || o.kind === "sink") return `a pipe ${o.kind}`;
  if (o.buffList !== undefined) return "a pipe";
  return "an object";
}

function same(t: MilestoneContext, what: string, got: unknown, want: unknown): void {
  t.same(what, got, want, { show: shown });
}

/**
 * One M7 check. Whatever it asserts, it fails when the code it called
 * reached a TODO's stub: the loop survives a stub (it logs it and closes the
 * owner), which could otherwise hide it.
 */
function check(name: string, fn: (t: MilestoneContext) => void): void {
  stage.check("m7", name, (t: MilestoneContext) => {
    // The pipe's ERROR lines (a refused write, say) are expected here: keep them off the report.
    const log = captureLog();
    t.cleanup(() => log.restore());
    fn(t);
    const hit = log.lines.find((l) => /TODO \d+ is not done yet/.test(l));
    t.ensure("no TODO's stub was reached on the way", hit === undefined, `your code reached a TODO's stub on the way: ${hit}`);
  });
}

check("new ends and a new pipe", (t) => {
  const core = coreCreate();
  const { owner, source, sink } = ends();
  same(t, "a new source's pipe", source.pipe, null);
  same(t, "a new source's ready flag", source.ready, false);
  same(t, "a new source's active flag", source.active, false);
  same(t, "a new source's ptr is its owner", source.ptr, owner);
  same(t, "a new sink's kind", sink.kind, "sink");
  const pipe = made(t, core, 100, source, sink);
  same(t, "pipe.source", pipe.source, source);
  same(t, "pipe.sink", pipe.sink, sink);
  same(t, "source.pipe after pipeCreate", source.pipe, pipe);
  same(t, "sink.pipe after pipeCreate", sink.pipe, pipe);
  same(t, "source.active after pipeCreate", source.active, true);
  same(t, "sink.active after pipeCreate", sink.active, true);
  same(t, "pipe.buffThresh", pipe.buffThresh, 100);
  same(t, "core.pipes holds the new pipe", core.pipes.has(pipe), true);
  same(t, "pipeCreate with threshold 0", pipeCreate(core, 0, pipeSourceCreate(owner, () => {}, () => {}), pipeSinkCreate(owner, () => {}, () => {})), null);
});

check("an end is attached to one pipe at a time", (t) => {
  const core = coreCreate();
  const a = ends();
  const b = ends();
  const pipe = made(t, core, 100, a.source, a.sink);
  same(t, "attaching a second source to a pipe that has one", pipeAttachSource(pipe, b.source), E_FAIL);
  same(t, "attaching a second sink to a pipe that has one", pipeAttachSink(pipe, b.sink), E_FAIL);
  same(t, "pipeCreate with a source that already has a pipe", pipeCreate(core, 100, a.source, b.sink), null);
  same(t, "detaching the source", pipeDetachSource(pipe), OK);
  same(t, "pipe.source after detaching", pipe.source, null);
  same(t, "source.pipe after detaching", a.source.pipe, null);
  same(t, "detaching a source from a pipe that has none", pipeDetachSource(pipe), E_FAIL);
  same(t, "attaching another source to the now free end", pipeAttachSource(pipe, b.source), OK);
  same(t, "b.source.pipe after attaching", b.source.pipe, pipe);
  same(t, "detaching the sink", pipeDetachSink(pipe), OK);
  same(t, "detaching a sink from a pipe that has none", pipeDetachSink(pipe), E_FAIL);
});

check("readable and writable around the threshold", (t) => {
  const core = coreCreate();
  const { source, sink } = ends();
  const pipe = made(t, core, 10, source, sink);
  same(t, "an empty pipe is readable", pipeIsReadable(pipe), false);
  same(t, "an empty pipe is writable", pipeIsWritable(pipe), true);
  same(t, "writing 9 bytes", pipeSourceWrite(source, Buffer.from("123456789")), OK);
  same(t, "9 of 10 bytes: readable", pipeIsReadable(pipe), true);
  same(t, "9 of 10 bytes: writable", pipeIsWritable(pipe), true);
  same(t, "writing 5 more (one write may overshoot the threshold)", pipeSourceWrite(source, Buffer.from("abcde")), OK);
  same(t, "14 of 10 bytes: writable", pipeIsWritable(pipe), false);
  same(t, "writing into a full pipe", pipeSourceWrite(source, Buffer.from("x")), E_FAIL);
  same(t, "buffered bytes after the refused write", pipe.buffList.len, 14);
  same(t, "clearing 4 bytes", pipeSinkClear(sink, 4), OK);
  same(t, "10 of 10 bytes: writable", pipeIsWritable(pipe), false);
  same(t, "clearing 1 more", pipeSinkClear(sink, 1), OK);
  same(t, "9 of 10 bytes: writable again", pipeIsWritable(pipe), true);
  const loose = pipeSourceCreate({ name: "loose", handled: 0, closed: 0 }, () => {}, () => {});
  same(t, "writing from a source with no pipe", pipeSourceWrite(loose, Buffer.from("x")), E_FAIL);
});

check("reading and clearing stay within what is buffered", (t) => {
  const core = coreCreate();
  const { source, sink } = ends();
  made(t, core, 1000, source, sink);
  const first = Buffer.from("hello ");
  pipeSourceWrite(source, first);
  pipeSourceWrite(source, Buffer.from("world"));
  same(t, "pipeSinkRead(sink, 12) with 11 buffered", pipeSinkRead(sink, 12), null);
  same(t, "pipeSinkRead(sink, 11) (across both chunks)", pipeSinkRead(sink, 11)?.toString(), "hello world");
  same(t, "pipeSinkRead(sink, 3)", pipeSinkRead(sink, 3)?.toString(), "hel");
  const next = pipeSinkRead(sink);
  same(t, "pipeSinkRead(sink) gives the next stored chunk", next?.toString(), "hello ");
  same(t, "... without copying it (same memory as what was written)", next?.buffer === first.buffer && next?.byteOffset === first.byteOffset, true);
  same(t, "reading does not remove anything", pipeSinkRead(sink, 11)?.toString(), "hello world");
  same(t, "the buffered bytes after reading the next chunk and 11 bytes (a read is a peek)", core.pipes.live()[0]?.buffList.len, 11);
  same(t, "clearing 12 of 11 bytes", pipeSinkClear(sink, 12), E_FAIL);
  same(t, "clearing 8", pipeSinkClear(sink, 8), OK);
  same(t, "what is left", pipeSinkRead(sink, 3)?.toString(), "rld");
  const loose = pipeSinkCreate({ name: "loose", handled: 0, closed: 0 }, () => {}, () => {});
  same(t, "reading from a sink with no pipe", pipeSinkRead(loose, 1), null);
  same(t, "clearing from a sink with no pipe", pipeSinkClear(loose, 1), E_FAIL);
});

check("destroying an end detaches it; the pass destroys a pipe with no ends", (t) => {
  const core = coreCreate();
  const { source, sink } = ends();
  const pipe = made(t, core, 100, source, sink);
  pipeSourceDestroy(source);
  same(t, "pipe.source after destroying the source", pipe.source, null);
  same(t, "source.pipe after destroying the source", source.pipe, null);
  same(t, "source.active after destroying the source", source.active, false);
  same(t, "pipe.sink after destroying the source (the other end stays)", pipe.sink, sink);
  same(t, "core.pipes.has(pipe) after destroying one end (the pass destroys the pipe, not the end)", core.pipes.has(pipe), true);
  pipeSinkDestroy(sink);
  same(t, "pipe.sink after destroying the sink", pipe.sink, null);
  handlePipes(core.loop);
  same(t, "core.pipes.has(pipe) after a pass over a pipe with no ends", core.pipes.has(pipe), false);
});

check("close callbacks: a lonely end is told once, a sink only once drained", (t) => {
  const core = coreCreate();
  const up = ends();
  const down = ends();
  // up.source -> down.sink
  const pipe = made(t, core, 100, up.source, down.sink);
  pipeSourceWrite(up.source, Buffer.from("last words"));
  // The source's owner goes away: the sink must drain first, then be told.
  pipeSourceDestroy(up.source);
  down.sink.ready = true;
  down.sink.handlerCb = (end) => {
    end.ptr.handled++;
    pipeSinkClear(end as PipeSink<Owner>, Math.min(4, end.pipe?.buffList.len ?? 0));
  };
  handlePipes(core.loop);
  same(t, "sink handler calls in the first pass (10 bytes buffered)", down.owner.handled, 1);
  same(t, "sink close calls while bytes are still buffered", down.owner.closed, 0);
  handlePipes(core.loop);
  handlePipes(core.loop);
  same(t, "sink close calls once the pipe is drained", down.owner.closed, 1);
  same(t, "sink.active after its close", down.sink.active, false);
  handlePipes(core.loop);
  same(t, "sink close calls after another pass (it is told once)", down.owner.closed, 1);
  same(t, "the pipe's buffered bytes", pipe.buffList.len, 0);

  // The other direction: a source whose sink is gone.
  const a = ends();
  const b = ends();
  made(t, core, 100, a.source, b.sink);
  pipeSinkDestroy(b.sink);
  handlePipes(core.loop);
  same(t, "source close calls after its sink went away", a.owner.closed, 1);
  same(t, "source.active after its close", a.source.active, false);
  handlePipes(core.loop);
  same(t, "source close calls after another pass", a.owner.closed, 1);
});

check("the pass calls a handler only when its end can progress", (t) => {
  const core = coreCreate();
  const { owner, source, sink } = ends();
  const pipe = made(t, core, 5, source, sink);
  handlePipes(core.loop);
  same(t, "handler calls with neither end ready", owner.handled, 0);
  source.ready = true;
  sink.ready = true;
  const more = handlePipes(core.loop);
  same(t, "handler calls with a ready source and an empty pipe (only the source may act)", owner.handled, 1);
  same(t, "handlePipes says a ready source with room can progress", more, true);
  pipeSourceWrite(source, Buffer.from("123456"));
  owner.handled = 0;
  sink.ready = false;
  same(t, "handlePipes with a full pipe and a sink that is not ready", handlePipes(core.loop), false);
  same(t, "handler calls then", owner.handled, 0);
  same(t, "pipe.buffList.len", pipe.buffList.len, 6);
});

check("pipeDestroy detaches the ends it still has and leaves an empty slot", (t) => {
  const core = coreCreate();
  const a = ends();
  const b = ends();
  const c = ends();
  made(t, core, 100, a.source, a.sink);
  const middle = made(t, core, 100, b.source, b.sink);
  made(t, core, 100, c.source, c.sink);
  const slots = core.pipes.items.length;
  pipeDestroy(middle);
  same(t, "b.source.pipe after pipeDestroy", b.source.pipe, null);
  same(t, "b.sink.pipe after pipeDestroy", b.sink.pipe, null);
  same(t, "core.pipes.has(pipe) after pipeDestroy", core.pipes.has(middle), false);
  // A pass may be walking the list: a destroyed pipe's slot becomes null, it is not spliced out.
  same(t, "core.pipes.items.length after destroying one of three pipes (the slot stays, empty)", core.pipes.items.length, slots);
  same(t, "the destroyed pipe's slot", core.pipes.items[1], null);
});
