// Stage 7, milestone 5 (in-process): what a shutdown leaves behind. The
// server's log cannot show it, since the process exits right after; a C
// program would leak the events or the epoll instance, and nobody would see.
// Here the core and the loop are your src/core.ts and src/loop.ts, run in a
// probe (a process of its own).
import net from "node:net";
import path from "node:path";
import { captureLog } from "@xps/utils";
import { coreCreate, coreDestroy } from "@xps/core/core";
import { loopAttach, loopDetach } from "@xps/core/loop";
import { defineStage, type MilestoneContext } from "@xps/testkit";

const stage = defineStage(path.join(import.meta.dirname, ".."));

stage.check("m5", "loopDetach takes the event out of loop.events, and coreDestroy detaches what is still attached", (t: MilestoneContext) => {
  const log = captureLog();
  t.cleanup(() => log.restore());
  const core = coreCreate();
  const server = net.createServer();
  const socket = new net.Socket();
  const keep = (): void => {};
  socket.on("data", keep); // the receive queue a connection sets up before it attaches
  t.cleanup(() => socket.destroy());
  // Node's own listeners, before the loop adds its shared functions.
  const nodeEnd = socket.listenerCount("end");
  const nodeConnection = server.listenerCount("connection");
  // A function, so that one assertion's narrowing does not carry over to the next.
  const events = (): number => core.loop.events.size;
  const ownerS = { name: "a listener" };
  const ownerC = { name: "a connection" };
  t.ensure("loopAttach(loop, server, ...) returns 0", loopAttach(core.loop, server, ownerS, () => {}) === 0, "loopAttach refused a new server");
  t.ensure("loopAttach(loop, socket, ...) returns 0", loopAttach(core.loop, socket, ownerC, () => {}) === 0, "loopAttach refused a socket that has a 'data' listener");
  t.ensure("two attached handles, two events", events() === 2, `after two loopAttach calls, loop.events.size is ${events()}, not 2`);

  const detached = loopDetach(core.loop, server);
  t.ensure("loopDetach of an attached handle returns 0", detached === 0, `loopDetach(loop, server) returned ${detached}, not 0`);
  t.ensure(
    "loopDetach takes the event out of loop.events",
    events() === 1,
    `after loopDetach(loop, server), loop.events.size is ${events()}, not 1: the event stays in the list. ` +
      "In C that slot would point at freed memory; here the list only grows, by one event for every client that ever came. loopDetach ends with loop.events.remove(ev)",
  );
  t.ensure("loopDetach stops listening", server.listenerCount("connection") === nodeConnection, `after loopDetach(loop, server), the server still has ${server.listenerCount("connection") - nodeConnection} 'connection' listener(s) of the loop`);
  const again = loopDetach(core.loop, server);
  t.ensure("loopDetach of a detached handle returns -1", again === -1, `a second loopDetach(loop, server) returned ${again}, not -1 (E_FAIL): the handle has no event any more`);

  coreDestroy(core);
  t.ensure(
    "coreDestroy destroys the loop, which detaches every handle still attached",
    events() === 0 && socket.listenerCount("end") === nodeEnd,
    `after coreDestroy, loop.events.size is ${events()} and the socket still has ${socket.listenerCount("end") - nodeEnd} 'end' listener(s) of the loop: ` +
      "coreDestroy must destroy its loop (loopDestroy(core.loop)), and loopDestroy detaches every event that is still in loop.events",
  );
  t.ensure("the socket keeps its own 'data' listener", socket.listeners("data").includes(keep), "after coreDestroy the socket lost the 'data' listener that was not the loop's: detach removes only the loop's own listeners");
});
