import net from "node:net";
import { afterEach, beforeEach, describe, expect, test } from "vitest";
import { captureLog } from "@xps/utils";
import { coreCreate, coreStats, type Core } from "../src/core.ts";
import { loopAttach, loopDestroy, loopDetach, loopRun, loopSchedule } from "../src/loop.ts";
import { pipeCreate, pipeSinkClear, pipeSinkCreate, pipeSourceCreate, pipeSourceWrite, type PipeSink, type PipeSource } from "../src/pipe.ts";

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
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

interface Owner {
  calls: string[];
}

describe("loop scheduling", () => {
  test("an idle loop runs no passes: nothing polls", async () => {
    loopRun(core.loop);
    await sleep(30);
    const after = core.loop.passes;
    await sleep(100);
    expect(core.loop.passes).toBe(after);
    expect(after).toBeLessThanOrEqual(1);
  });

  test("passes repeat while a pipe can progress and stop when it cannot", async () => {
    const owner: Owner = { calls: [] };
    let left = 50;
    const source = pipeSourceCreate(owner, (end) => {
      pipeSourceWrite(end, Buffer.from("x"));
      if (--left === 0) end.ready = false;
    }, () => owner.calls.push("source close"));
    const sink = pipeSinkCreate(owner, (end) => {
      pipeSinkClear(end, end.pipe!.buffList.len);
    }, () => owner.calls.push("sink close"));
    pipeCreate(core, 100, source, sink);
    source.ready = true;
    sink.ready = true;
    loopRun(core.loop);
    await sleep(100);
    expect(left).toBe(0);
    const passes = core.loop.passes;
    expect(passes).toBeGreaterThanOrEqual(50);
    await sleep(50);
    expect(core.loop.passes).toBe(passes);
    expect(coreStats(core).buffered).toBe(0);
  });

  test("passes yield to timers and I/O between them (epoll_wait with timeout 0)", async () => {
    const owner: Owner = { calls: [] };
    // Enough passes to outlast a 1 ms timer many times over, whatever
    // PASSES_PER_TURN is (at 64 per turn, 5,000 could finish within 1 ms).
    const SPINS = 200_000;
    let spins = 0;
    let seenAt = -1;
    const source = pipeSourceCreate(owner, () => {
      spins++;
      // The timer is armed from inside the first pass, not before loopRun:
      // armed earlier, it could fire before the first pass had run at all
      // (when the test body itself runs in Node's check phase).
      if (spins === 1) {
        setTimeout(() => {
          seenAt = spins;
        }, 1);
      }
      if (spins >= SPINS) source.ready = false;
    }, () => {});
    pipeCreate(core, 100, source, pipeSinkCreate(owner, () => {}, () => {}));
    source.ready = true;
    loopRun(core.loop);
    for (let i = 0; i < 300 && spins < SPINS; i++) await sleep(30);
    expect(spins).toBe(SPINS);
    // The timer ran while the source was still spinning: the loop yielded to
    // Node's event loop every PASSES_PER_TURN passes.
    expect(seenAt).toBeGreaterThan(1);
    expect(seenAt).toBeLessThan(SPINS);
  });

  test("loopSchedule queues one pass at most", async () => {
    loopRun(core.loop);
    await sleep(10);
    const before = core.loop.passes;
    for (let i = 0; i < 10; i++) loopSchedule(core.loop);
    await sleep(20);
    expect(core.loop.passes - before).toBe(1);
  });
});

describe("faults", () => {
  test("a handler that throws retires its own end only; the other pipes keep flowing", async () => {
    const bad: Owner = { calls: [] };
    const good: Owner = { calls: [] };
    const badSource = pipeSourceCreate(bad, () => {
      throw new Error("learner bug");
    }, () => bad.calls.push("source close"));
    const badSink: PipeSink<Owner> = pipeSinkCreate(bad, () => {}, () => bad.calls.push("sink close"));
    pipeCreate(core, 100, badSource, badSink);
    let delivered = 0;
    const goodSource: PipeSource<Owner> = pipeSourceCreate(good, (end) => {
      pipeSourceWrite(end, Buffer.from("ok"));
      end.ready = false;
    }, () => {});
    const goodSink = pipeSinkCreate(good, (end) => {
      delivered += end.pipe!.buffList.len;
      pipeSinkClear(end, end.pipe!.buffList.len);
    }, () => {});
    pipeCreate(core, 100, goodSource, goodSink);
    badSource.ready = true;
    goodSource.ready = true;
    goodSink.ready = true;
    loopRun(core.loop);
    await sleep(50);
    expect(delivered).toBe(2);
    expect(bad.calls).toEqual(["sink close"]);
    expect(log.some((l) => l.includes("learner bug"))).toBe(true);
    // The bad sink was told (once) and is inactive; its owner keeps it, so its pipe stays.
    expect(badSink.active).toBe(false);
    expect(coreStats(core).pipes).toBe(2);
  });
});

describe("attach and detach", () => {
  test("socket events reach the callbacks until the socket is detached", async () => {
    const server = net.createServer();
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
    const port = (server.address() as net.AddressInfo).port;
    const accepted = new Promise<net.Socket>((r) => server.once("connection", r));
    const client = net.connect(port, "127.0.0.1");
    const socket = await accepted;
    const seen: string[] = [];
    const owner = {};
    // Nothing keeps this socket's bytes yet: attaching it would drop them.
    expect(loopAttach(core.loop, socket, owner, null, null, null)).toBe(-1);
    // Stand in for the socket layer's receive queue.
    const received: Buffer[] = [];
    socket.on("data", (chunk: Buffer) => received.push(chunk));
    expect(loopAttach(core.loop, socket, owner, () => seen.push("read"), () => seen.push("write"), () => seen.push("close"))).toBe(0);
    expect(loopAttach(core.loop, socket, owner, null, null, null)).toBe(-1);
    loopRun(core.loop);
    client.write("hi");
    await sleep(50);
    expect(seen).toContain("read");
    expect(Buffer.concat(received).toString()).toBe("hi");
    expect(loopDetach(core.loop, socket)).toBe(0);
    expect(loopDetach(core.loop, socket)).toBe(-1);
    seen.length = 0;
    client.write("more");
    client.destroy();
    await sleep(50);
    expect(seen).toEqual([]);
    socket.destroy(new Error("late error on a detached socket must not crash"));
    await sleep(10);
    server.close();
  });
});
