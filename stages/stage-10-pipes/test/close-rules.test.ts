// Stage 10, milestone 8: the close handlers of your connection.ts, in a
// server this stage's echo never builds: two connections joined by two pipes,
// as stage 11's proxy joins a client and its upstream. In the learner variant
// "@xps/connection/connection" and "@xps/core/pipe" are your files.
import net from "node:net";
import path from "node:path";
import { captureLog } from "@xps/utils";
import { coreCreate, coreStats, type Core } from "@xps/core/core";
import { loopDestroy, loopRun } from "@xps/core/loop";
import { pipeCreate } from "@xps/core/pipe";
import { connectionCreate, connectionDestroy } from "@xps/connection/connection";
import { SOCKET_OPTIONS, socketPending } from "@xps/connection/socket";
import { Pattern, countBytes, defineStage, sleep, type MilestoneContext } from "@xps/testkit";

const stage = defineStage(path.join(import.meta.dirname, ".."));
const THRESHOLD = 1_000_000;

async function until(ok: () => boolean, ms: number): Promise<boolean> {
  const deadline = Date.now() + ms;
  while (!ok()) {
    if (Date.now() > deadline) return false;
    await sleep(20);
  }
  return true;
}

/**
 * A half-close goes through: A's peer sends a request and a FIN; B's peer
 * gets the request and then a FIN, but may still answer, and its answer
 * reaches A's peer, followed by a FIN. This is how a client that half-closes
 * its request is served through stage 11's proxy.
 */
async function halfCloseThrough(t: MilestoneContext, core: Core, server: net.Server, accepted: net.Socket[]): Promise<void> {
  const port = (server.address() as net.AddressInfo).port;
  const pair = async (): Promise<{ peer: net.Socket; mine: net.Socket; got: () => string; ended: () => boolean }> => {
    const before = accepted.length;
    const peer = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    peer.on("error", () => {});
    t.cleanup(() => peer.destroy());
    let got = "";
    let ended = false;
    peer.on("data", (d: Buffer) => (got += d.toString()));
    peer.on("end", () => (ended = true));
    await until(() => accepted.length > before, 2000);
    return { peer, mine: accepted[before]!, got: () => got, ended: () => ended };
  };
  const a = await pair();
  const b = await pair();
  const A = connectionCreate(core, a.mine);
  const B = connectionCreate(core, b.mine);
  if (A === null || B === null) return t.fail("connectionCreate returned null for an accepted socket");
  pipeCreate(core, THRESHOLD, A.source, B.sink);
  pipeCreate(core, THRESHOLD, B.source, A.sink);
  a.peer.end("the request\n");
  if (!(await until(() => b.ended(), 3000)) || b.got() !== "the request\n") {
    t.fail(`A's peer sent "the request\\n" and half-closed; B's peer got ${JSON.stringify(b.got())}${b.ended() ? ", then a FIN" : " and no FIN within 3 s"}: once A's data is delivered, B's sink must pass the FIN on`);
  }
  await sleep(100);
  if (B.destroyed) {
    t.fail("when the pipe towards B lost its source, B was closed, though its peer may still answer: a sink whose connection's source still takes part in a flow only half-closes (socketShutdown)");
  }
  b.peer.end("the answer\n");
  if (!(await until(() => a.ended(), 3000)) || a.got() !== "the answer\n") {
    t.fail(`B's peer answered "the answer\\n" after A's half-close; A's peer got ${JSON.stringify(a.got())}${a.ended() ? ", then a FIN" : " and no FIN within 3 s"}`);
  }
  await until(() => A.destroyed && B.destroyed, 2000);
  t.ensure("after both peers finished, the two connections were not both closed", !(!A.destroyed || !B.destroyed), "after both peers finished, the two connections were not both closed");
}

stage.milestone("m8", async (t: MilestoneContext) => {
  const log = captureLog();
  t.cleanup(() => log.restore());
  const core = coreCreate();
  loopRun(core.loop);
  t.cleanup(() => loopDestroy(core.loop));
  const accepted: net.Socket[] = [];
  const server = net.createServer(SOCKET_OPTIONS, (s) => accepted.push(s));
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", () => r()));
  t.cleanup(() => server.close());
  const port = (server.address() as net.AddressInfo).port;
  const dial = async (): Promise<{ peer: net.Socket; mine: net.Socket }> => {
    const before = accepted.length;
    const peer = net.connect({ host: "127.0.0.1", port, allowHalfOpen: true });
    peer.on("error", () => {});
    t.cleanup(() => peer.destroy());
    await until(() => accepted.length > before, 2000);
    return { peer, mine: accepted[before]! };
  };
  const a = await dial();
  const b = await dial();
  const A = connectionCreate(core, a.mine);
  const B = connectionCreate(core, b.mine);
  if (A === null || B === null) return t.fail("connectionCreate returned null for an accepted socket");
  t.cleanup(() => {
    connectionDestroy(A);
    connectionDestroy(B);
  });
  // What B's peer sends goes to A's peer, and the other way round.
  pipeCreate(core, THRESHOLD, A.source, B.sink);
  const toA = pipeCreate(core, THRESHOLD, B.source, A.sink);
  if (toA === null) return t.fail("pipeCreate returned null");

  // A's peer reads nothing yet, so the pipe towards it fills up.
  let received = 0;
  let ending = "open";
  a.peer.pause();
  a.peer.on("data", (d: Buffer) => (received += d.length));
  a.peer.on("end", () => (ending = "FIN"));
  a.peer.on("error", (e: NodeJS.ErrnoException) => (ending = e.code ?? "error"));
  // The kernel's buffers on the way hold megabytes: send until the pipe fills.
  const pattern = new Pattern(8);
  let sent = 0;
  while (toA.buffList.len < THRESHOLD / 2 && sent < 64 * 1024 * 1024) {
    const more = b.peer.write(pattern.slice(sent, 256 * 1024));
    sent += 256 * 1024;
    if (!more) await Promise.race([new Promise((r) => b.peer.once("drain", r)), sleep(200)]);
  }
  if (!(await until(() => toA.buffList.len >= THRESHOLD / 2, 3000))) {
    t.fail(`B's peer sent ${countBytes(sent)} for A's peer, who reads nothing, and the pipe between them never filled (it holds ${countBytes(toA.buffList.len)}): do the handlers move bytes at all?`);
  }
  await sleep(200);
  // Everything B's source has taken from its socket went into the pipe
  // towards A's peer, and is owed to A's peer (what B's socket still queues
  // goes with B, and so does what Node read ahead for it while it was
  // paused).
  const owed = b.mine.bytesRead - socketPending(b.mine) - b.mine.readableLength;

  // B goes (the server destroys it, as a proxy does when the upstream has
  // finished). The pipe from A to B has lost its sink (A's source is told),
  // the pipe from B to A its source; A still owes its peer what that pipe
  // holds. (Had B's peer reset, the loop would pass the reset on to A.)
  connectionDestroy(B);
  await sleep(200);
  if (A.destroyed && toA.buffList.len > 0) {
    t.fail({
      problem: `when B went, A was closed at once although the pipe towards A's peer still held ${countBytes(toA.buffList.len)} for it`,
      notes: [
        "A's source lost the sink of its pipe: the source leaves that pipe, and the connection closes only once its sink is not active either",
        "A's sink still has a pipe to drain: it is told (rule 5) once that pipe is empty, and then the connection closes",
      ],
    });
  }
  a.peer.resume();
  await until(() => ending !== "open", 10_000);
  const todo = log.lines.find((l) => /TODO \d+ is not done yet/.test(l));
  t.ensure("the close path reached a TODO's stub", !(todo !== undefined), `the close path reached a TODO's stub: ${todo}`);
  t.ensure("A's peer never got a FIN after B went", !(ending !== "FIN"), `A's peer never got a FIN after B went (its connection ${ending === "open" ? "stayed open 10 s" : `ended with ${ending}`})`);
  if (received < owed) {
    t.fail(`A's peer got ${countBytes(received)}, less than the ${countBytes(owed)} the server had taken from B for it: A closed before its pipe was drained`);
  }
  await halfCloseThrough(t, core, server, accepted);
  await until(() => coreStats(core).connections === 0 && coreStats(core).pipes === 0, 2000);
  const s = coreStats(core);
  t.ensure("after both connections ended, the core still holds … connection", !(s.connections !== 0 || s.pipes !== 0), `after both connections ended, the core still holds ${s.connections} connection(s) and ${s.pipes} pipe(s)`);
});
