// Stage 10 milestones, black-box: the stage's server runs as its own process
// on free ports and is spoken to over real TCP.
import path from "node:path";
import { HELD_PER_FLOW, SOCKET_HIGH_WATER_MARK } from "@xps/connection/socket";
import {
  Pattern,
  TestClient,
  countBytes,
  defineStage,
  describeOutcome,
  expectEcho,
  halfCloseClient,
  randomBytes,
  randomText,
  sleep,
} from "@xps/testkit";

const stage = defineStage(path.join(import.meta.dirname, ".."));
const MiB = 1024 * 1024;
const THRESHOLD = 1_000_000;

// docs/instructors.md shows this milestone (an excerpt).
// #region m1
stage.milestone("m1", async (t) => {
  const server = await t.server();
  const sizes = [1, 6, 1_000, 65_537, 2_000_000];
  for (const port of server.ports) {
    for (const size of sizes) {
      const text = await expectEcho(t, port, randomText(size), { what: `port ${port} (text, ${countBytes(size)})` });
      text.destroy();
      const binary = await expectEcho(t, port, randomBytes(size), { what: `port ${port} (binary, ${countBytes(size)})` });
      binary.destroy();
    }
  }
});
// #endregion

stage.milestone("m2", async (t) => {
  const server = await t.server();
  const clients = await Promise.all(
    Array.from({ length: 12 }, (_, i) => TestClient.connect(server.ports[i % server.ports.length]!)),
  );
  // Every client sends 25 chunks of its own bytes, interleaved with the others.
  const sent = clients.map(() => [] as Buffer[]);
  for (let round = 0; round < 25; round++) {
    await Promise.all(
      clients.map(async (c, i) => {
        const chunk = randomBytes(1 + Math.floor(Math.random() * 20_000));
        sent[i]!.push(chunk);
        await c.send(chunk);
        if (Math.random() < 0.3) await sleep(Math.floor(Math.random() * 5));
      }),
    );
  }
  const results = await Promise.all(
    clients.map((c, i) => c.waitForBytes(Buffer.concat(sent[i]!).length, 10_000)),
  );
  clients.forEach((c, i) => {
    const expected = Buffer.concat(sent[i]!);
    const got = c.bytes();
    c.destroy();
    if (results[i]!.outcome !== "complete" || !got.subarray(0, expected.length).equals(expected)) {
      t.fail({
        problem: `client ${i + 1} of ${clients.length} (port ${c.port}) did not get exactly its own bytes back`,
        expected,
        got,
        ending: results[i]!.outcome === "complete" ? undefined : describeOutcome(results[i]!, 10_000, c.errorCode),
      });
    }
  });
});

stage.milestone(
  "m3",
  async (t) => {
    const server = await t.server();
    const [floodPort, otherPort] = server.ports;
    (await expectEcho(t, floodPort!, randomBytes(300_000), { what: "the warm-up echo" })).destroy();
    await sleep(300);
    const baseline = server.rssBytes();
    let peak = baseline;
    const sampler = setInterval(() => {
      peak = Math.max(peak, server.rssBytes());
    }, 50);
    t.cleanup(() => clearInterval(sampler));

    // The source reads at most the room left: a pipe never holds more than its threshold
    // (checked once the flood stalls, and again at the end).
    const peakWithinThreshold = (pipePeak: number): void => {
      if (pipePeak <= THRESHOLD) return;
      t.fail(
        `during the flood a pipe held ${countBytes(pipePeak)}, more than its threshold of ${countBytes(THRESHOLD)}: ` +
          "the source read more than the room left (read at most Math.min(DEFAULT_BUFFER_SIZE, pipeRoom(pipe)))",
      );
    };
    const TOTAL = 256 * MiB;
    const CHUNK = 256 * 1024;
    const pattern = new Pattern(10);
    const flood = await TestClient.connect(floodPort!, { keep: false });
    t.cleanup(() => flood.destroy());
    let checked = 0;
    let mismatchAt = -1;
    flood.onData = (chunk) => {
      if (mismatchAt < 0) {
        const bad = pattern.mismatch(checked, chunk);
        if (bad >= 0) mismatchAt = checked + bad;
      }
      checked += chunk.length;
    };
    flood.socket.pause(); // this client does not read (yet)

    let offset = 0;
    let stalledAt = -1;
    while (offset < TOTAL) {
      const writing = flood.send(pattern.slice(offset, CHUNK));
      if (stalledAt < 0) {
        const done = await Promise.race([writing.then(() => true), sleep(1500).then(() => false)]);
        if (!done) {
          // The server stopped reading from us: that is the backpressure we want.
          stalledAt = offset;
          // Stopped by a full pipe, nothing can move: the server must rest.
          const cpuBefore = server.cpuMs();
          await sleep(1000);
          const spent = server.cpuMs() - cpuBefore;
          if (spent > 200) {
            t.fail(
              `while the flood was stalled by a full pipe the server used ${spent.toFixed(0)} ms of CPU in 1 s: a pass kept calling a handler that could do nothing. ` +
                "A full pipe is not writable (pipeIsWritable: fewer bytes than the threshold), so the pass must not call the source; an empty one is not readable",
            );
          }
          const probe = Date.now();
          (await expectEcho(t, otherPort!, randomText(1000), { what: "a second client, while the first floods", timeoutMs: 1000 })).destroy();
          const took = Date.now() - probe;
          if (took > 1000) t.fail(`a second client's echo took ${took} ms while another client flooded the server (it must arrive within 1 s)`);
          // Everything the server holds for the stalled flow, wherever it is.
          const held = await server.stats();
          peakWithinThreshold(held.peakPipeBuffered);
          const total = held.buffered + held.received + held.unsent;
          if (total > HELD_PER_FLOW) {
            t.fail({
              problem: `while the flood was stalled the server held ${countBytes(total)} for it, more than the ${countBytes(HELD_PER_FLOW)} one flow may hold (HELD_PER_FLOW in socket.ts)`,
              notes: [
                `in its pipes ${countBytes(held.buffered)}, received but not read ${countBytes(held.received)}, handed to the socket but not sent ${countBytes(held.unsent)}`,
                "a pipe holds at most its threshold, and a sink stops writing when socketSend returns false",
              ],
              hint: held.unsent > 2 * SOCKET_HIGH_WATER_MARK ? "h8" : "h3",
            });
          }
          flood.socket.resume(); // now read everything
        }
      }
      if (!(await writing)) {
        t.fail({
          problem: `the server stopped the flooding client after it sent ${countBytes(offset)} of ${countBytes(TOTAL)}`,
          ending: describeOutcome({ outcome: flood.ending === "open" ? "closed" : flood.ending, received: flood.received }, 0, flood.errorCode),
          notes: [`the client had received ${countBytes(flood.received)} of echo by then`],
        });
      }
      offset += CHUNK;
    }
    if (stalledAt < 0) {
      // Where did the bytes go? Into the socket's own write buffer (the sink
      // kept writing after socketSend said "wait"), or into the pipe (the
      // source kept reading into a full pipe)?
      const held = await server.stats();
      if (held.unsent > 4 * SOCKET_HIGH_WATER_MARK) {
        t.fail({
          problem: `the server kept reading all ${countBytes(TOTAL)} from a client that read none of its echo, and handed ${countBytes(held.unsent)} of echo to the socket (Node's write buffer; its high-water mark is ${countBytes(SOCKET_HIGH_WATER_MARK)})`,
          notes: ["the sink must stop writing, and stop being ready, when socketSend returns false: the pipe then fills, and a full pipe stops the source"],
          hint: "h8",
        });
      }
      t.fail(`the server kept reading all ${countBytes(TOTAL)} from a client that read none of its echo: there is no backpressure (a full pipe must stop its source; the pipes held ${countBytes(held.buffered)} at the end)`);
    }
    peakWithinThreshold((await server.stats()).peakPipeBuffered);
    const r = await flood.waitForBytes(TOTAL, 60_000);
    clearInterval(sampler);
    if (r.outcome !== "complete") {
      t.fail({
        problem: `the flooding client got ${countBytes(flood.received)} of its ${countBytes(TOTAL)} back`,
        ending: describeOutcome(r, 60_000, flood.errorCode),
      });
    }
    if (mismatchAt >= 0) t.fail(`the echo of the flood differs from what was sent, first at byte ${mismatchAt.toLocaleString("en-US")} (bytes lost, repeated or reordered)`);
    const growth = peak - baseline;
    if (growth > 64 * MiB) {
      t.fail(
        `the server's memory grew by ${(growth / MiB).toFixed(1)} MiB while one client sent ${TOTAL / MiB} MiB without reading ` +
          `(baseline ${(baseline / MiB).toFixed(1)} MiB, peak ${(peak / MiB).toFixed(1)} MiB; the bound is 64 MiB): ` +
          "does the source read only while its pipe is writable, and never more than the room left?",
      );
    }
  },
  { timeout: 120_000 },
);

stage.milestone("m4", async (t) => {
  const server = await t.server();
  const idle: TestClient[] = [];
  for (let i = 0; i < 6; i++) idle.push(await expectEcho(t, server.ports[i % 4]!, randomText(64), { what: `idle client ${i + 1}` }));
  t.cleanup(() => idle.forEach((c) => c.destroy()));
  await sleep(500);
  const before = server.cpuMs();
  await sleep(3000);
  const used = server.cpuMs() - before;
  const percent = (used / 3000) * 100;
  if (percent >= 2) {
    t.fail(
      `with 6 idle connections the server used ${used.toFixed(0)} ms of CPU in 3 s (${percent.toFixed(1)}%; the bound is 2%): ` +
        "something runs while nothing happens. Does a handler leave `ready` set when it could not make progress?",
    );
  }
  for (const c of idle) {
    if (c.ending !== "open") t.fail(`an idle connection was closed by the server (${c.ending})`);
  }
});

stage.milestone("m5", async (t) => {
  const server = await t.server();
  const [a, b, c] = server.ports;
  const quitter = await TestClient.connect(a!);
  quitter.socket.pause();
  // Two well-behaved clients keep echoing while the third one resets.
  const steady = async (port: number, rounds: number): Promise<void> => {
    const client = await TestClient.connect(port);
    const sent: Buffer[] = [];
    for (let i = 0; i < rounds; i++) {
      const chunk = randomBytes(40_000);
      sent.push(chunk);
      await client.send(chunk);
      await sleep(10);
    }
    const expected = Buffer.concat(sent);
    const r = await client.waitForBytes(expected.length, 10_000);
    const got = client.bytes();
    client.destroy();
    if (r.outcome !== "complete" || !got.subarray(0, expected.length).equals(expected)) {
      t.fail({ problem: `a client on port ${port} lost its echo while another client reset`, expected, got, ending: describeOutcome(r, 10_000, client.errorCode) });
    }
  };
  const others = Promise.all([steady(b!, 30), steady(c!, 30)]);
  await quitter.send(randomBytes(1_500_000));
  await sleep(50);
  quitter.reset();
  await others;
  if (!server.alive()) t.fail("the server exited after a client reset its connection");
  (await expectEcho(t, a!, randomText(500), { what: "a new client after the reset" })).destroy();
  // Everything closed: the server must be back to its listeners only.
  let stats = await server.stats();
  for (let i = 0; i < 20 && (stats.connections > 0 || stats.pipes > 0); i++) {
    await sleep(100);
    stats = await server.stats();
  }
  if (stats.connections !== 0 || stats.pipes !== 0) {
    t.fail(`after every client left, the server still holds ${stats.connections} connection(s) and ${stats.pipes} pipe(s)`);
  }
});

stage.milestone(
  "m6",
  async (t) => {
    const server = await t.server();
    // A short echo first, each end checked.
    const payload = new Pattern(6).slice(0, 6);
    const client = await TestClient.connect(server.ports[3]!);
    await client.send(payload);
    client.end(); // half-close: we are done sending, but still reading
    const r = await client.waitForBytes(payload.length, 10_000);
    const got = client.bytes();
    if (r.outcome !== "complete" || !got.equals(payload)) {
      client.destroy();
      t.fail({
        problem: "a client that half-closed after sending 6 bytes did not get all of its echo",
        sent: payload,
        expected: payload,
        got,
        ending: describeOutcome(r, 10_000, client.errorCode),
        notes: ["a FIN from the peer means it sends nothing more; the bytes still in the pipe must be delivered before the close"],
      });
    }
    const end = await client.waitForEnd(5000);
    if (end.outcome === "timeout") {
      client.destroy();
      t.fail(`after echoing everything to a half-closed client the server kept the connection open for 5 s; it should close it`);
    }
    if (end.outcome === "reset" || end.outcome === "error") {
      t.fail(`after echoing everything to a half-closed client the server ${describeOutcome(end, 5000, client.errorCode)}: a close is a FIN, after the last byte; a reset can make the peer lose what it was sent`);
    }
    // The client keeps its socket a moment: the server must not wait for it.
    let stats = await server.stats();
    for (let i = 0; i < 20 && stats.connections > 0; i++) {
      await sleep(100);
      stats = await server.stats();
    }
    client.destroy();
    if (stats.connections > 0) {
      t.fail(`the half-closed client got its echo and a FIN, but the server still holds ${stats.connections} connection(s) for it: once its source and its sink are both done, the connection must close, not just half-close`);
    }
    // Then 16 MiB from a client that reads slowly through small socket
    // buffers: when its FIN arrives, the server's pipe is still full of its
    // echo, and all of it must still be delivered.
    const size = 16 * MiB;
    const slow = await halfCloseClient(server.ports[3]!, size, 45_000).catch((err: Error) => t.fail(`the half-closing client (python3) failed: ${err.message.split("\n")[0]}`));
    if (slow.got !== size || slow.bad !== -1) {
      t.fail({
        problem: `a client sent ${countBytes(size)}, half-closed, and read its echo slowly; it got ${countBytes(slow.got)} back${slow.bad !== -1 ? `, differing from what it sent at byte ${slow.bad.toLocaleString("en-US")}` : ""}, then the server closed`,
        notes: ["when the FIN arrives the pipe still holds echo for that client: closing the connection then (as C does when recv() returns 0) throws it away"],
      });
    }
  },
  { timeout: 90_000 },
);
