// Stage 4 milestones, black-box: the program runs as its own process on a
// free port (--port N) and is spoken to over real TCP, one message at a time
// per client, as the official tester does.
import path from "node:path";
import { EDGE_CASES, connectOrFail, defineStage, exchangeExact, sleep, testerString, type MilestoneContext, type StageServer, type TestClient } from "@xps/testkit";

const stage = defineStage(path.join(import.meta.dirname, ".."));

function start(t: MilestoneContext): Promise<StageServer> {
  return t.server({ ports: 1, startTimeoutMs: 10_000 });
}

function stillRunning(t: MilestoneContext, server: StageServer, after: string): void {
  if (!server.alive()) {
    t.fail({ problem: `${after}, the program ended (exit ${server.exitCode ?? server.exitSignal}): a client leaving ends only that client's connection`, hint: "h3" });
  }
}

stage.milestone("m1", async (t) => {
  const server = await start(t);
  const port = server.ports[0]!;
  const client = await connectOrFail(t, port, `a client of port ${port}`);
  await exchangeExact(t, client, EDGE_CASES, `port ${port}`);
  const strings = Array.from({ length: 1000 }, (_, i) => ({ what: `tester string ${i + 1} of 1,000`, msg: testerString() }));
  await exchangeExact(t, client, strings, `port ${port}`);
  client.destroy();
});

stage.milestone("m2", async (t) => {
  const server = await start(t);
  const port = server.ports[0]!;
  const n = 10;
  const clients: TestClient[] = [];
  t.cleanup(() => clients.forEach((c) => c.destroy()));
  // All ten are connected before any of them sends: the server must serve them side by side.
  for (let i = 0; i < n; i++) clients.push(await connectOrFail(t, port, `client ${i + 1} of ${n}`));
  await Promise.all(
    clients.map((c, i) =>
      exchangeExact(
        t,
        c,
        Array.from({ length: 20 }, (_, k) => ({ what: `message ${k + 1} of client ${i + 1}`, msg: Buffer.from(`client-${i}-${k}-${testerString().toString()}`) })),
        `client ${i + 1} of ${n}, all connected at once`,
        { hint: "h2" },
      ),
    ),
  );
});

stage.milestone("m3", async (t) => {
  const server = await start(t);
  const port = server.ports[0]!;
  const stays = await connectOrFail(t, port, "a first client");
  t.cleanup(() => stays.destroy());
  await exchangeExact(t, stays, [{ what: "a line", msg: Buffer.from("I stay\n") }], "the client that stays");
  const joined = server.waitForLine(/Client connected to server \(2 connected\)/, 3000, true);
  const leaves = await connectOrFail(t, port, "a second client");
  await exchangeExact(t, leaves, [{ what: "a line", msg: Buffer.from("I leave\n") }], "the client that leaves");
  if ((await joined) === null) {
    const last = server.log().filter((l) => l.includes("Client connected to server")).at(-1);
    t.fail(`with one client connected, a second one came: the log must say "[INFO] Client connected to server (2 connected)"; ${last ? `it says "${last}"` : "it has no such line"}`);
  }

  const logged = server.waitForLine(/Client disconnected \(1 connected\)/, 3000);
  leaves.end();
  const end = await leaves.waitForEnd(3000);
  leaves.destroy();
  await sleep(100);
  stillRunning(t, server, "after a client closed its side (FIN)");
  if (end.outcome === "timeout") t.fail("a client closed its side (FIN), and 3 s later the server still had not closed that connection");
  if ((await logged) === null) {
    const last = server.log().filter((l) => l.includes("Client disconnected")).at(-1);
    t.fail(`two clients were connected and one left: the log must say "[INFO] Client disconnected (1 connected)"; ${last ? `it says "${last}"` : "it has no such line"}`);
  }
  await exchangeExact(t, stays, [{ what: "a line after the other client left", msg: Buffer.from("still served?\n") }], "the client that stayed, after another one left", { hint: "h3" });

  const fresh = await connectOrFail(t, port, "a new client, after one had left");
  await exchangeExact(t, fresh, [{ what: "a line", msg: Buffer.from("new here\n") }], "a new client, after one had left", { hint: "h3" });
  fresh.reset();
  await sleep(200);
  stillRunning(t, server, "after a client reset its connection");
  await exchangeExact(t, stays, [{ what: "a line after a client reset", msg: Buffer.from("and now?\n") }], "the client that stayed, after another one reset", { hint: "h3" });

  const empty = server.waitForLine(/Client disconnected \(0 connected\)/, 3000);
  stays.end();
  if ((await empty) === null) {
    const last = server.log().filter((l) => l.includes("Client disconnected")).at(-1);
    t.fail(`once every client had left, the log must say "[INFO] Client disconnected (0 connected)"; ${last ? `the last such line is "${last}"` : "it has no such line"}: is each client taken out of the table when it leaves?`);
  }
  stillRunning(t, server, "after the last client left");
});
