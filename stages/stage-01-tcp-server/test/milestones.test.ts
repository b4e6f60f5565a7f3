// Stage 1 milestones, black-box: the program runs as its own process on a
// free port (--port N) and is spoken to over real TCP, one message at a time,
// as the official tester does.
import path from "node:path";
import { EDGE_CASES, TestClient, connectOrFail, defineStage, exchangeExact, expectSilence, sleep, testerString, type MilestoneContext, type StageServer } from "@xps/testkit";

const stage = defineStage(path.join(import.meta.dirname, ".."));

function start(t: MilestoneContext): Promise<StageServer> {
  return t.server({ ports: 1, startTimeoutMs: 10_000 });
}

stage.milestone("m1", async (t) => {
  const server = await start(t);
  const port = server.ports[0]!;
  const client = await connectOrFail(t, port, `a client of port ${port}`);
  await exchangeExact(t, client, EDGE_CASES, `port ${port}`);
  const strings = Array.from({ length: 1000 }, (_, i) => ({ what: `tester string ${i + 1} of 1,000`, msg: testerString() }));
  await exchangeExact(t, client, strings, `port ${port}`);
  await expectSilence(t, client, 200, `after its 1,008 replies, the client received more bytes it had not asked for`);
  client.destroy();
});

stage.milestone("m2", async (t) => {
  const server = await start(t);
  const port = server.ports[0]!;
  const first = await connectOrFail(t, port, "the first client");
  await exchangeExact(t, first, [{ what: "a line", msg: Buffer.from("first client\n") }], "the first client");
  // The kernel (and Node) may well accept the second client; it must get nothing.
  const second = await TestClient.connect(port).catch(() => null);
  if (second !== null) {
    await second.send("second client\n");
    await expectSilence(t, second, 1000, "a second client got a reply while the first one was still connected: this program serves only its first client", "h2");
    if (!server.alive()) t.fail("when a second client connected, the program ended: the clients after the first must wait, untouched");
  }
  await exchangeExact(t, first, [{ what: "a line, after a second client connected", msg: Buffer.from("still the first\n") }], "the first client, once a second client had connected");
  if (second !== null) {
    second.destroy();
    await sleep(300);
    if (!server.alive()) {
      t.fail({
        problem: `a second client, never served, left, and the program ended (exit ${server.exitCode ?? server.exitSignal}): only the first client's departure ends it`,
        hint: "h2",
      });
    }
  }
  await exchangeExact(t, first, [{ what: "a line, after the second client left", msg: Buffer.from("and again\n") }], "the first client, once the second had left");
  first.destroy();
});

/** One way of leaving: the program must print its line and exit with code 1 within 3 s. */
async function leaves(t: MilestoneContext, how: string, leave: (client: TestClient, port: number) => Promise<void>): Promise<void> {
  const server = await start(t);
  const port = server.ports[0]!;
  const client = await connectOrFail(t, port, `a client of port ${port}`);
  const left = Date.now();
  await leave(client, port);
  const done = await server.waitExit(3000);
  client.destroy();
  if (!done) {
    t.fail(`a client ${how}, and 3 s later the program was still running: when its one client leaves, it must exit (with code 1)`);
  }
  const took = Date.now() - left;
  if (server.exitCode !== 1) {
    const crashed = server.log().some((l) => l.startsWith("[ERROR]"));
    t.fail({
      problem: `a client ${how}, and the program exited ${server.exitSignal ? `on ${server.exitSignal}` : `with code ${server.exitCode}`}, not with code 1${crashed ? " (its log shows an ERROR: it crashed rather than ended)" : ""}`,
      hint: "h3",
    });
  }
  if (!server.log().some((l) => l.includes("[INFO] Client disconnected. Closing server"))) {
    t.fail(`a client ${how}, and the program exited with code 1 (after ${took} ms) without printing "[INFO] Client disconnected. Closing server"`);
  }
}

stage.milestone("m3", async (t) => {
  await leaves(t, "connected and dropped the connection at once", async (c) => c.destroy());
  await leaves(t, "sent a line, got its reply and closed its side (FIN)", async (c) => {
    await exchangeExact(t, c, [{ what: "a line", msg: Buffer.from("bye\n") }], "the client");
    c.end();
  });
  await leaves(t, "sent a line, got its reply and reset the connection", async (c) => {
    await exchangeExact(t, c, [{ what: "a line", msg: Buffer.from("reset\n") }], "the client");
    c.reset();
  });
});
