// What the loop does when code it calls throws: the pipe module's own
// functions (a learner's TODOs in stage 10) and an owner's close path. Only
// the owners involved may be affected, and their sockets must always go.
import net from "node:net";
import { afterEach, beforeEach, expect, test, vi } from "vitest";
import { TodoError, captureLog } from "@xps/utils";
import { coreCreate, type Core } from "../src/core.ts";
import { handlePipes, loopAttach, loopDestroy, loopDetach, loopFault } from "../src/loop.ts";
import { pipeCreate, pipeSinkCreate, pipeSourceCreate, pipeSourceWrite } from "../src/pipe.ts";

// pipeIsWritable is a stub for pipes made with a threshold of 7, as if the
// learner had done TODO 3 and not TODO 5.
vi.mock("@xps/core/pipe", async (importOriginal) => {
  const real = await importOriginal<typeof import("../src/pipe.ts")>();
  return {
    ...real,
    pipeIsWritable: (pipe: { buffThresh: number }) => {
      if (pipe.buffThresh === 7) throw new TodoError("stage-10", 5, "Readable and writable");
      return real.pipeIsWritable(pipe as never);
    },
  };
});

let log: string[];
let restoreLog: () => void;
let core: Core;
beforeEach(() => {
  ({ lines: log, restore: restoreLog } = captureLog());
  core = coreCreate();
});
afterEach(() => {
  loopDestroy(core.loop);
  restoreLog();
});

function owner() {
  const o = { handled: 0, closed: 0 };
  const source = pipeSourceCreate(o, (end) => {
    o.handled++;
    pipeSourceWrite(end, Buffer.from("x"));
    end.ready = false;
  }, () => o.closed++);
  const sink = pipeSinkCreate(o, () => {}, () => o.closed++);
  return { o, source, sink };
}

test("a pipe whose own functions throw costs only its owners; the pass goes on", () => {
  const bad = owner();
  const good = owner();
  const badPipe = pipeCreate(core, 7, bad.source, bad.sink)!;
  const goodPipe = pipeCreate(core, 100, good.source, good.sink)!;
  bad.source.ready = true;
  good.source.ready = true;
  expect(() => handlePipes(core.loop)).not.toThrow();
  expect(good.o.handled).toBe(1);
  expect(goodPipe.buffList.len).toBe(1);
  // The broken pipe's ends were taken out of their flow...
  expect(badPipe.source).toBeNull();
  expect(badPipe.sink).toBeNull();
  expect(bad.source.active).toBe(false);
  // ...and the next pass destroys the pipe they left.
  handlePipes(core.loop);
  expect(core.pipes.has(badPipe)).toBe(false);
  expect(core.pipes.has(goodPipe)).toBe(true);
  expect(log.some((l) => l.includes("stage-10 TODO 5 is not done yet"))).toBe(true);
});

test("a socket owner of a pipe that throws is closed, socket and all", async () => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const client = net.connect({ port, host: "127.0.0.1" });
  const closed = new Promise<string>((r) => {
    client.on("end", () => r("end"));
    client.on("close", () => r("close"));
    client.on("error", () => r("error"));
  });
  const socket = await accepted;
  socket.on("data", () => {});
  const o = owner();
  expect(loopAttach(core.loop, socket, o.o, null, null, null)).toBe(0);
  pipeCreate(core, 7, o.source, o.sink);
  o.source.ready = true;
  handlePipes(core.loop);
  expect(await Promise.race([closed, new Promise((r) => setTimeout(() => r("still open"), 2000))])).not.toBe("still open");
  expect(socket.destroyed).toBe(true);
  client.destroy();
  server.close();
});

test("loopFault destroys the handle when the owner's close handler throws after detaching it", async () => {
  const server = net.createServer();
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  const port = (server.address() as net.AddressInfo).port;
  const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
  const client = net.connect({ port, host: "127.0.0.1" });
  const socket = await accepted;
  socket.on("data", () => {});
  const me = {};
  // A close path that gets as far as detaching and then fails (as
  // connectionDestroy does when the learner's pipeSourceDestroy throws).
  loopAttach(core.loop, socket, me, null, null, () => {
    loopDetach(core.loop, socket);
    throw new TodoError("stage-10", 7, "Destroy the ends");
  });
  expect(loopFault(core.loop, me, new Error("a handler failed"))).toBe(true);
  expect(socket.destroyed).toBe(true);
  client.destroy();
  server.close();
});
