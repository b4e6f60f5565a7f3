// Checks of the reversing server of stages 6 to 9, which those stages'
// milestones share. Every port replies to each message with its bytes in
// reverse order, except that a final newline stays at the end (the rule of
// the official tester). Reversal is per read: the tests send one message at
// a time and wait for its reply, as the tester does, so that every message
// is one read.
import { TestClient, describeOutcome, randomBytes, sleep } from "./client.ts";
import { countBytes } from "./report.ts";
import type { StageServer } from "./server.ts";
import type { MilestoneContext } from "./stage.ts";

/** What the server must send back for `msg`: its bytes reversed, a final newline left at the end. */
export function reversed(msg: Buffer): Buffer {
  const body = msg.length > 0 && msg[msg.length - 1] === 0x0a ? msg.length - 1 : msg.length;
  const out = Buffer.from(msg);
  out.subarray(0, body).reverse();
  return out;
}

const ALNUM = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/** A message as the official tester sends them: 0 to 99 random letters and digits, then a newline. */
export function testerString(): Buffer {
  const n = Math.floor(Math.random() * 100);
  let s = "";
  for (let i = 0; i < n; i++) s += ALNUM[Math.floor(Math.random() * ALNUM.length)];
  return Buffer.from(`${s}\n`);
}

/** The awkward cases: an empty line, one byte, no newline, a newline inside, bytes that are not text, UTF-8. */
export const EDGE_CASES: { what: string; msg: Buffer }[] = [
  { what: "an empty line", msg: Buffer.from("\n") },
  { what: "one byte, no newline", msg: Buffer.from("a") },
  { what: "a line", msg: Buffer.from("hello\n") },
  { what: "no final newline", msg: Buffer.from("hello") },
  { what: "a newline inside (only a final one stays)", msg: Buffer.from("ab\ncd\n") },
  { what: "two newlines at the end", msg: Buffer.from("abc\n\n") },
  { what: "multi-byte UTF-8, reversed byte by byte as in C", msg: Buffer.from("héllo wörld\n", "utf8") },
  { what: "binary bytes", msg: Buffer.from([0x00, 0xff, 0x10, 0x80, 0x0a]) },
];

/**
 * Send each message on `client` and wait for its reply before the next one.
 * Fails with a transcript at the first wrong or missing reply.
 */
export async function exchange(t: MilestoneContext, client: TestClient, messages: { what: string; msg: Buffer }[], where: string, ms = 5000): Promise<void> {
  for (const { what, msg } of messages) {
    const start = client.received;
    await client.send(msg);
    const r = await client.waitForBytes(start + msg.length, ms);
    const got = client.bytes().subarray(start);
    const want = reversed(msg);
    if (r.outcome !== "complete" || !got.subarray(0, want.length).equals(want)) {
      t.fail({
        problem: `${where}: the reply to ${what} is not the message reversed (a final newline stays at the end)`,
        sent: msg,
        expected: want,
        got,
        ending: r.outcome === "complete" ? undefined : describeOutcome(r, ms, client.errorCode),
      });
    }
  }
}

async function connect(t: MilestoneContext, port: number, what: string): Promise<TestClient> {
  try {
    return await TestClient.connect(port);
  } catch (err) {
    return t.fail(`${what}: ${(err as Error).message}`);
  }
}

/**
 * Every port: the edge cases, then `strings` tester strings on one
 * connection each. On the first port the log must also show the accept
 * ("new connection") and the message ("[CLIENT MESSAGE] hello").
 */
export async function reversesOnEveryPort(t: MilestoneContext, server: StageServer, strings = 250): Promise<void> {
  for (const [i, port] of server.ports.entries()) {
    const edges = await connect(t, port, `port ${port}`);
    // A server that answers at all answers within milliseconds: 3 s is plenty.
    await exchange(t, edges, EDGE_CASES, `port ${port}`, 3000);
    edges.destroy();
    if (i === 0) {
      if ((await server.waitForLine(/new connection/, 1000, true)) === null) {
        t.fail(`a client of port ${port} was served, but the server's log has no INFO line "new connection": listenerConnectionHandler logs one for every client it accepts`);
      }
      if ((await server.waitForLine(/\[CLIENT MESSAGE\] hello/, 1000, true)) === null) {
        t.fail(`a client of port ${port} sent "hello\\n", but the server's log has no INFO line "[CLIENT MESSAGE] hello": the read handler logs every message it receives`);
      }
    }
    const tester = await connect(t, port, `port ${port}`);
    const list = Array.from({ length: strings }, (_, i) => ({ what: `tester string ${i + 1} of ${strings}`, msg: testerString() }));
    await exchange(t, tester, list, `port ${port}`);
    tester.destroy();
  }
}

/** `n` clients at once on the first port, each with its own strings, interleaved: each gets exactly its own replies. */
export async function concurrentClients(t: MilestoneContext, server: StageServer, n = 10, rounds = 20): Promise<void> {
  const port = server.ports[0]!;
  const clients = await Promise.all(Array.from({ length: n }, () => connect(t, port, `a client of port ${port}`)));
  try {
    await Promise.all(
      clients.map(async (c, i) => {
        const list = Array.from({ length: rounds }, (_, k) => ({ what: `message ${k + 1} of client ${i + 1} of ${n}`, msg: Buffer.from(`client-${i}-${k}-${testerString().toString()}`) }));
        await exchange(t, c, list, `client ${i + 1} of ${n} (port ${port})`);
      }),
    );
  } finally {
    for (const c of clients) c.destroy();
  }
}

/** Counts from the server's stats line, waiting (up to `ms`) until `ok` holds. */
export async function settledStats(server: StageServer, ok: (s: Record<string, number>) => boolean, ms = 3000): Promise<Record<string, number>> {
  const deadline = Date.now() + ms;
  let s = (await server.stats()) as unknown as Record<string, number>;
  while (!ok(s) && Date.now() < deadline) {
    await sleep(100);
    s = (await server.stats()) as unknown as Record<string, number>;
  }
  return s;
}

/**
 * A client that leaves (FIN), and one that resets, while another stays: the
 * server logs "peer closed connection" (once), keeps serving the one that
 * stayed and a new one, holds no connection for those that left, and is idle
 * once nobody is connected.
 */
export async function survivesDisconnects(t: MilestoneContext, server: StageServer): Promise<void> {
  const [port, other] = server.ports;
  const stays = await connect(t, other!, `port ${other}`);
  await exchange(t, stays, [{ what: "a first line", msg: Buffer.from("still here\n") }], `the client that stays (port ${other})`);
  const leaves = await connect(t, port!, `port ${port}`);
  await exchange(t, leaves, [{ what: "a line", msg: Buffer.from("bye\n") }], `port ${port}`);
  const logged = server.waitForLine(/peer closed connection/, 3000);
  leaves.end();
  if ((await logged) === null) t.fail(`a client of port ${port} closed its connection, and within 3 s the server logged no "peer closed connection" line`);
  const end = await leaves.waitForEnd(3000);
  leaves.destroy();
  if (end.outcome === "timeout") t.fail(`a client of port ${port} closed its side, and the server kept the connection open for 3 s: when recv() says the peer has finished, the connection must be destroyed`);
  await sleep(200);
  const closes = server.log().filter((l) => /peer closed connection/.test(l)).length;
  if (closes > 1) {
    t.fail(
      `one client of port ${port} closed its connection, and the server logged "peer closed connection" ${closes} times: ` +
        "events of its socket still reached the connection after it was destroyed. Destroying a connection detaches its socket from the loop, and a detached socket's events reach nobody",
    );
  }
  const resets = await connect(t, port!, `port ${port}`);
  await resets.send(randomBytes(5000));
  await sleep(50);
  resets.reset();
  // Wait until the reset connection is gone (or 3 s): on a busy machine the
  // reset can take a while to reach the loop, and the check for a stub below
  // must come after it has.
  await settledStats(server, (s) => s.connections <= 1).catch(() => undefined);
  if (!server.alive()) t.fail("the server exited after a client reset its connection");
  // The loop survives a handler that throws (it logs it and closes that
  // connection), so a stub on the way out would go unnoticed otherwise.
  const stub = server.log().find((l) => /TODO \d+ is not done yet/.test(l));
  if (stub !== undefined) t.fail(`when clients left (one closed its side, one reset), the server reached a TODO's stub; the loop closed that connection for it: ${stub}`);
  await exchange(t, stays, [{ what: "a line after the others left", msg: Buffer.from("still served?\n") }], `the client that stayed (port ${other})`);
  stays.destroy();
  const fresh = await connect(t, port!, `a new client of port ${port}, after the others left`);
  await exchange(t, fresh, [{ what: "a line", msg: Buffer.from("new client\n") }], `a new client of port ${port}`);
  fresh.destroy();
  const stats = await settledStats(server, (s) => s.connections === 0);
  if (stats.connections !== 0) t.fail(`after every client left, the server still holds ${stats.connections} connection(s): is the connection destroyed (and taken out of the list) when its peer leaves?`);
  // Nobody is connected: nothing may keep the loop busy.
  // (A spinning loop gets only its share of a busy machine's CPU, so the
  // bound is low: an idle server uses next to nothing.)
  const before = server.cpuMs();
  await sleep(1500);
  const used = server.cpuMs() - before;
  if (used > 45) {
    t.fail(
      `after every client left, the server used ${used.toFixed(0)} ms of CPU in 1.5 s (the bound is 45 ms, 3%): its loop kept running with nobody connected. ` +
        "A destroyed connection whose socket is still attached to the loop keeps being reported (a closed socket is always ready): destroying a connection detaches its socket (loopDetach)",
    );
  }
}

/**
 * Ctrl+C (SIGINT) ends the server cleanly: "SIGINT received", every listener
 * and connection destroyed, then the core (DEBUG lines, as "created core" was
 * when it started), exit code 0, and no
 * "uncaught exception" line on the way. The server must run with
 * XPS_DEBUG=1.
 */
export async function shutsDownOnSigint(t: MilestoneContext, server: StageServer): Promise<void> {
  const clients = await Promise.all([0, 1].map((i) => connect(t, server.ports[i]!, `port ${server.ports[i]}`)));
  for (const [i, c] of clients.entries()) await exchange(t, c, [{ what: "a line", msg: Buffer.from(`client ${i}\n`) }], `port ${c.port}`);
  server.child.kill("SIGINT");
  const ended = await server.waitExit(5000);
  for (const c of clients) c.destroy();
  if (!ended) t.fail("after SIGINT (Ctrl+C) the server was still running 5 s later");
  const log = server.log();
  const code = server.exitSignal ? `it was killed by ${server.exitSignal}` : `its exit code was ${server.exitCode}`;
  const signalled = log.findIndex((l) => /SIGINT received/.test(l));
  const firstError = log.slice(Math.max(signalled, 0)).find((l) => l.startsWith("[ERROR]"));
  if (server.exitCode !== 0) {
    const why = firstError !== undefined ? ` The shutdown failed; the log says: ${firstError}` : signalled < 0 ? " Is there a SIGINT handler?" : "";
    t.fail(`after SIGINT the server must destroy the core and exit with code 0 (EXIT_SUCCESS); ${code}.${why}`);
  }
  const uncaught = log.find((l) => /uncaught exception|unhandled rejection/.test(l));
  if (uncaught !== undefined) t.fail(`the server exited with code 0, but its log has "${uncaught}": something threw while it served or shut down, and nobody handled it`);
  const missing: string[] = [];
  if (signalled < 0) missing.push('a WARNING "SIGINT received"');
  for (const port of server.ports) if (!log.some((l) => l.includes(`destroyed listener on port ${port}`))) missing.push(`"destroyed listener on port ${port}"`);
  const destroyed = log.filter((l) => /destroyed connection/.test(l)).length;
  if (destroyed < clients.length) missing.push(`"destroyed connection" for each of the ${clients.length} connected clients (found ${destroyed})`);
  const core = (text: string, fn: string, when: string): void => {
    if (log.some((l) => new RegExp(`^\\[DEBUG\\] .*: ${text}$`).test(l))) return;
    const other = log.find((l) => l.includes(text));
    missing.push(
      other === undefined
        ? `"${text}" (${fn} logs it at DEBUG level, ${when})`
        : `"${text}" as a DEBUG line of the logger (logger("DEBUG", "${fn}()", "${text}")); it printed "${other}"`,
    );
  };
  core("created core", "coreCreate", "before the listeners");
  core("destroyed core", "coreDestroy", "last");
  if (missing.length > 0) t.fail(`the log lacks ${missing.join(", ")}: the server creates the core first, and the shutdown after SIGINT destroys every listener and connection, then the core`);
}

/** Bytes counted by value: the reverse of a read reorders them, so the flood compares counts. */
function histogram(): Float64Array {
  return new Float64Array(256);
}

/**
 * A client sends `total` bytes of lines and reads nothing until it is done;
 * meanwhile a client of another port is served within 1 s; then the flood
 * reads back every byte it sent (as reversed lines, so its bytes, counted by
 * value, match). `checkHeld` gets the server's stats while the flood waits.
 */
export async function floodWithoutReading(
  t: MilestoneContext,
  server: StageServer,
  total: number,
  checkHeld?: (stats: Record<string, number>) => void,
): Promise<void> {
  const [floodPort, otherPort] = server.ports;
  const flood = await connect(t, floodPort!, `port ${floodPort}`);
  t.cleanup(() => flood.destroy());
  flood.keep = false;
  const got = histogram();
  flood.onData = (chunk) => {
    for (const b of chunk) got[b]!++;
  };
  flood.socket.pause(); // reads nothing until it has sent everything
  const line = Buffer.from(`${"x".repeat(40)}${"0123456789".repeat(5)}\n`);
  const sent = histogram();
  // Pieces of about 50,000 bytes with a short gap after each, so that the
  // server reads each one on its own: its replies are not whole 64 KiB
  // reads, they do not fill the socket's 256 KiB write buffer exactly, and
  // some send takes only part of a queued reply (the part a write handler
  // must keep).
  const chunk = Buffer.concat(Array.from({ length: Math.floor(50_000 / line.length) }, () => line));
  let rounds = 0;
  let offset = 0;
  let probed = false;
  let held = false;
  while (offset < total) {
    if (rounds > 0) await sleep(1);
    rounds++;
    const writing = flood.send(chunk);
    if (!probed && offset >= total / 4) {
      probed = true;
      const started = Date.now();
      const other = await connect(t, otherPort!, `port ${otherPort}, while another client floods port ${floodPort}`);
      await exchange(t, other, [{ what: "a line, while another client floods", msg: Buffer.from("am I served?\n") }], `a client of port ${otherPort} while port ${floodPort} is flooded`);
      other.destroy();
      const took = Date.now() - started;
      if (took > 1000) t.fail(`while one client flooded port ${floodPort} without reading, a client of port ${otherPort} waited ${took} ms for its reply (the bound is 1 s): one slow reader must not hold the others up`);
    }
    // What the server holds, once the flood has surely filled both kernels'
    // buffers (loopback autotuning lets them take several MiB; before that a
    // server that hands everything to its socket can look right).
    if (checkHeld && !held && offset >= (total * 3) / 4) {
      held = true;
      checkHeld((await server.stats()) as unknown as Record<string, number>);
    }
    const ok = await Promise.race([writing, sleep(10_000).then(() => null)]);
    if (ok !== true) {
      t.fail({
        problem: `the server stopped taking the flood after ${countBytes(offset)} of ${countBytes(total)} (${ok === null ? "nothing moved for 10 s: it stopped reading" : "the connection broke"})`,
        ending: flood.ending === "open" ? undefined : describeOutcome({ outcome: flood.ending === "ended" ? "ended" : flood.ending, received: flood.received }, 0, flood.errorCode),
      });
    }
    offset += chunk.length;
  }
  const expectedTotal = rounds * chunk.length;
  for (const b of chunk) sent[b]! += rounds;
  flood.socket.resume();
  // The replies come back as fast as the client reads; a server that stops
  // sending is given up on after 3 s without a byte, not after a minute.
  const deadline = Date.now() + 60_000;
  let r = await flood.waitForBytes(expectedTotal, 0);
  while (r.outcome === "timeout" && Date.now() < deadline) {
    const before = flood.received;
    r = await flood.waitForBytes(expectedTotal, Math.min(3000, deadline - Date.now()));
    if (r.outcome === "timeout" && flood.received === before) break;
  }
  if (r.outcome !== "complete") {
    const stalled = r.outcome === "timeout" && Date.now() < deadline;
    t.fail({
      problem: `the flooding client read back ${countBytes(flood.received)} of the ${countBytes(expectedTotal)} it sent${stalled ? ", and then nothing came for 3 s while it read: replies stayed queued that nobody sent" : ""}`,
      ending: describeOutcome(r, stalled ? 3000 : 60_000, flood.errorCode),
    });
  }
  for (let b = 0; b < 256; b++) {
    if (got[b] !== sent[b]) {
      t.fail(`the flooding client got all ${countBytes(expectedTotal)} back, but not the same bytes: byte 0x${b.toString(16)} came back ${got[b]} times, it was sent ${sent[b]} times (bytes lost, repeated or changed)`);
    }
  }
}
