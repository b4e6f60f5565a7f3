// Stage 9 milestones, black-box: the stage's server runs as its own process
// on free ports and is spoken to over real TCP, one message at a time, as
// the official tester does.
import path from "node:path";
import { SOCKET_HIGH_WATER_MARK } from "@xps/connection/socket";
import { concurrentClients, defineStage, exchange, floodWithoutReading, reversed, reversesOnEveryPort, settledStats, shutsDownOnSigint, sleep, survivesDisconnects, TestClient } from "@xps/testkit";

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
// write buffer never holds more than its high-water mark, 256 KiB: a write
// handler that sends whole chunks overshoots it by a chunk).
const MiB = 1024 * 1024;
stage.milestone(
  "m5",
  async (t) => {
    const server = await t.server();
    await floodWithoutReading(t, server, 32 * MiB, (held) => {
      if (held.unsent > SOCKET_HIGH_WATER_MARK) {
        t.fail(
          `while a client sent without reading, the server had handed ${held.unsent} bytes of replies to its socket (Node's write buffer; the bound is its high-water mark, ${SOCKET_HIGH_WATER_MARK} bytes): ` +
            "socket.write() never blocks, it queues whatever it is given. Send only what the socket takes now (socketSendSome, never socket.write or socketSend) and keep the rest in write_buff_list",
        );
      }
      if (!(held.queued > 0)) {
        t.fail(`while a client sent without reading, no reply waited in a write_buff_list (stats: queued ${held.queued}): the read handler must queue the reversed message, and the write handler send it`);
      }
    });
  },
  { timeout: 120_000 },
);

// Two clients that cost nothing while they wait: one idle after a line,
// and one whose replies are stuck because it sends a lot and reads nothing
// (the server has queued them and the socket takes no more). Neither may
// leave a flag that keeps the pass running.
stage.milestone(
  "m6",
  async (t) => {
    const server = await t.server();
    const idle = await TestClient.connect(server.ports[0]!);
    t.cleanup(() => idle.destroy());
    await exchange(t, idle, [{ what: "a line", msg: Buffer.from("then I wait\n") }], `port ${server.ports[0]}`);
    const stuck = await TestClient.connect(server.ports[1]!, { keep: false });
    t.cleanup(() => stuck.destroy());
    stuck.socket.pause(); // it never reads
    const line = Buffer.from(`${"y".repeat(90)}\n`);
    const chunk = Buffer.concat(Array.from({ length: 2048 }, () => line));
    for (let sent = 0; sent < 16 * MiB; sent += chunk.length) {
      const ok = await Promise.race([stuck.send(chunk), sleep(10_000).then(() => null)]);
      if (ok !== true) t.fail(`a client of port ${server.ports[1]} that sends without reading could not send ${16} MiB (${ok === null ? "nothing moved for 10 s: the server stopped reading" : "the connection broke"})`);
    }
    const held = await settledStats(server, (st) => st.queued > 0 && st.received === 0, 5000);
    if (!(held.queued > 0)) t.fail(`a client sent 16 MiB without reading, and the server holds no reply in a write_buff_list (stats: queued ${held.queued}, received ${held.received}): are the replies queued, and is everything received read?`);
    await sleep(500);
    const before = server.cpuMs();
    await sleep(3000);
    const used = server.cpuMs() - before;
    const percent = (used / 3000) * 100;
    if (percent >= 2) {
      t.fail(
        `with one idle client and one whose replies wait (it does not read) the server used ${used.toFixed(0)} ms of CPU in 3 s (${percent.toFixed(1)}%; the bound is 2%): ` +
          "the loop keeps finding work while nothing can happen. Does handle_connections return true only when a connection is read-ready, or write-ready with bytes queued? " +
          "Do the handlers clear read_ready and write_ready on E_AGAIN (write_ready when socketSendSome says the socket takes nothing more)?",
      );
    }
    if (idle.ending !== "open") t.fail(`the idle client's connection was closed by the server (${idle.ending})`);
    if (stuck.ending !== "open") t.fail(`the client that did not read had its connection closed by the server (${stuck.ending})`);
  },
  { timeout: 60_000 },
);

// Fifty clients arrive at the same moment, each sending its line as soon as
// it is connected, so accepts and reads come in the same batches: every
// connection that is ready must be served, in that pass or in one the pass
// asks for. Ten clients came and went before them, so the connections list
// starts with empty slots that the pass must step over.
stage.milestone("m7", async (t) => {
  const server = await t.server();
  const port = server.ports[0]!;
  const early = await Promise.all(Array.from({ length: 10 }, () => TestClient.connect(port)));
  for (const [i, c] of early.entries()) await exchange(t, c, [{ what: "a line", msg: Buffer.from(`early ${i}\n`) }], `early client ${i + 1} of 10 (port ${port})`);
  for (const c of early) c.end();
  const gone = await settledStats(server, (st) => st.connections === 0);
  for (const c of early) c.destroy();
  if (gone.connections !== 0) t.fail(`10 clients left, and the server still holds ${gone.connections} connection(s) 3 s later`);
  const msgs = Array.from({ length: 50 }, (_, i) => Buffer.from(`client ${i} says ${"x".repeat(i)}\n`));
  const clients: (TestClient | null)[] = msgs.map(() => null);
  t.cleanup(() => clients.forEach((c) => c?.destroy()));
  await Promise.all(
    msgs.map(async (msg, i) => {
      const c = await TestClient.connect(port);
      clients[i] = c;
      await c.send(msg);
    }),
  );
  const check = async (round: string, rounds: number): Promise<void> => {
    const want = msgs.map((m) => Buffer.concat(Array.from({ length: rounds }, () => reversed(m))));
    const results = await Promise.all(clients.map((c, i) => c!.waitForBytes(want[i]!.length, 5000)));
    const stuck = clients.map((c, i) => (results[i]!.outcome === "complete" && c!.bytes().equals(want[i]!) ? -1 : i)).filter((i) => i >= 0);
    if (stuck.length > 0) {
      const i = stuck[0]!;
      t.fail({
        problem: `${stuck.length} of 50 clients that ${round} got no (or a wrong) reply within 5 s`,
        sent: msgs[i],
        expected: want[i],
        got: clients[i]!.bytes(),
        notes: [
          "every connection that is ready must be served: the first walk of handle_connections goes over every slot of the list (stepping over the empty ones, never stopping at one), and the second walk returns true while any connection can still progress",
        ],
      });
    }
  };
  await check("connected and sent at the same moment, after 10 others had come and gone,", 1);
  // Round two: all fifty at once again, on connections that are all open.
  await Promise.all(clients.map((c, i) => c!.send(msgs[i]!)));
  await check("sent a second line at the same moment", 2);
});
