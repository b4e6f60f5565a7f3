// Stage 9 milestones, black-box: the stage's server runs as its own process
// on free ports and is spoken to over real TCP, one message at a time, as
// the official tester does.
import path from "node:path";
import { SOCKET_HIGH_WATER_MARK } from "@xps/connection/socket";
import { concurrentClients, defineStage, exchange, floodWithoutReading, reversed, reversesOnEveryPort, shutsDownOnSigint, sleep, survivesDisconnects, TestClient } from "@xps/testkit";

const stage = defineStage(path.join(import.meta.dirname, ".."));

stage.milestone("m1", async (t) => {
  await reversesOnEveryPort(t, await t.server());
});

stage.milestone("m2", async (t) => {
  await concurrentClients(t, await t.server());
});

stage.milestone("m3", async (t) => {
  await survivesDisconnects(t, await t.server());
});

stage.milestone("m4", async (t) => {
  await shutsDownOnSigint(t, await t.server({ env: { XPS_DEBUG: "1" } }));
});

// The replies to a client that does not read wait in the connection's own
// write_buff_list; the socket is only ever handed what it can take (its
// write buffer stays near its high-water mark, 256 KiB).
const MiB = 1024 * 1024;
stage.milestone(
  "m5",
  async (t) => {
    const server = await t.server();
    await floodWithoutReading(t, server, 32 * MiB, (held) => {
      if (held.unsent > 2 * SOCKET_HIGH_WATER_MARK) {
        t.fail(
          `while a client sent without reading, the server had handed ${(held.unsent / MiB).toFixed(1)} MiB of replies to its socket (Node's write buffer; the bound is ${(2 * SOCKET_HIGH_WATER_MARK / MiB).toFixed(1)} MiB): ` +
            "socket.write() never blocks, it queues whatever it is given. Send only what the socket takes now (socketSendSome) and keep the rest in write_buff_list",
        );
      }
      if (!(held.queued > 0)) {
        t.fail(`while a client sent without reading, no reply waited in a write_buff_list (stats: queued ${held.queued}): the read handler must queue the reversed message, and the write handler send it`);
      }
    });
  },
  { timeout: 120_000 },
);

stage.milestone("m6", async (t) => {
  const server = await t.server();
  const idle = await TestClient.connect(server.ports[0]!);
  t.cleanup(() => idle.destroy());
  await exchange(t, idle, [{ what: "a line", msg: Buffer.from("then I wait\n") }], `port ${server.ports[0]}`);
  await sleep(500);
  const before = server.cpuMs();
  await sleep(3000);
  const used = server.cpuMs() - before;
  const percent = (used / 3000) * 100;
  if (percent >= 2) {
    t.fail(
      `with one idle client connected the server used ${used.toFixed(0)} ms of CPU in 3 s (${percent.toFixed(1)}%; the bound is 2%): ` +
        "the loop keeps finding work while nothing happens. Does handle_connections return true when no connection is read-ready (or write-ready with bytes queued)? Do the handlers clear read_ready and write_ready on E_AGAIN?",
    );
  }
  if (idle.ending !== "open") t.fail(`the idle client's connection was closed by the server (${idle.ending})`);
});

stage.milestone("m7", async (t) => {
  const server = await t.server();
  const port = server.ports[0]!;
  // 50 connects at once, then every client sends at once.
  const clients = await Promise.all(Array.from({ length: 50 }, () => TestClient.connect(port)));
  t.cleanup(() => clients.forEach((c) => c.destroy()));
  const msgs = clients.map((_, i) => Buffer.from(`client ${i} says ${"x".repeat(i)}\n`));
  await Promise.all(clients.map((c, i) => c.send(msgs[i]!)));
  const results = await Promise.all(clients.map((c, i) => c.waitForBytes(msgs[i]!.length, 5000)));
  const stuck = results.map((r, i) => (r.outcome === "complete" && clients[i]!.bytes().equals(reversed(msgs[i]!)) ? -1 : i)).filter((i) => i >= 0);
  if (stuck.length > 0) {
    const i = stuck[0]!;
    t.fail({
      problem: `${stuck.length} of 50 clients that connected and sent at the same moment got no (or a wrong) reply within 5 s`,
      sent: msgs[i],
      expected: reversed(msgs[i]!),
      got: clients[i]!.bytes(),
      notes: ["a connection whose flags stay set must be served on the next pass: handle_connections runs over every connection, and returns true while any can still progress"],
    });
  }
});
