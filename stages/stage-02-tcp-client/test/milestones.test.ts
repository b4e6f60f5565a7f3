// Stage 2 milestones. The client and the multi-client run as processes of
// their own against a reversing server in the test process, driven through
// their stdin and read through their stdout; the looping server runs on a
// free port and is spoken to over real TCP.
import { freePorts, defineStage, connectOrFail, exchangeExact, expectSilence, sleep, type MilestoneContext, type StageServer, type TestClient } from "@xps/testkit";
import { STAGE_DIR, output, startProgram, testServer } from "./helpers.ts";

const stage = defineStage(STAGE_DIR);

/** Wait until the program has printed `n` lines matching `re`; returns them (fewer on timeout or exit). */
async function linesMatching(program: StageServer, re: RegExp, n: number, ms: number): Promise<string[]> {
  const deadline = Date.now() + ms;
  for (;;) {
    const found = program.log().filter((l) => re.test(l));
    if (found.length >= n || Date.now() >= deadline || (!program.alive() && program.output.ended)) return found;
    await sleep(25);
  }
}

async function connected(t: MilestoneContext, client: StageServer): Promise<void> {
  const line = await client.waitForLine(/\[INFO\] Connected to tcp server/, 10_000, true);
  if (line === null) t.fail(`the client never printed "[INFO] Connected to tcp server"; its output:\n${output(client)}`);
}

const REPLY = /^\[SERVER MESSAGE\] /;

stage.milestone("m1", async (t) => {
  const server = await testServer(t, { delayMs: 30 });
  const client = await startProgram(t, "client.ts", ["--port", String(server.port)], true);
  await connected(t, client);
  const lines = ["hello", "eXpServer in Node", "a b c", " spaces at both ends ", "x".repeat(300)];
  // All the lines at once, as a pipe or a paste delivers them.
  client.child.stdin!.write(lines.map((l) => `${l}\n`).join(""));
  const replies = await linesMatching(client, REPLY, lines.length, 8000);
  const sent = server.chunks[0] ?? [];
  for (const [i, chunk] of sent.entries()) {
    const text = chunk.toString();
    if (text.split("\n").length > 2) {
      t.fail({
        problem: `the server received ${text.split("\n").length - 1} lines in one read (read ${i + 1}) before it had replied to the first of them: the client must send one line, then wait for its reply`,
        got: chunk,
        hint: "h1",
      });
    }
  }
  for (const [i, line] of lines.entries()) {
    const want = `[SERVER MESSAGE] ${[...line].reverse().join("")}`;
    if (replies[i] !== want) {
      t.fail(
        `after ${lines.length} lines on its input, the client's reply line ${i + 1} is ${replies[i] === undefined ? "missing" : JSON.stringify(replies[i])}; expected ${JSON.stringify(want)}. Its output:\n${output(client)}`,
      );
    }
  }
  if (Buffer.concat(sent).toString() !== lines.map((l) => `${l}\n`).join("")) {
    t.fail(`the server received ${JSON.stringify(Buffer.concat(sent).toString().slice(0, 120))}; the client's input was ${JSON.stringify(lines.map((l) => `${l}\n`).join("").slice(0, 120))}: each line, with its newline, and nothing else`);
  }
  client.child.stdin!.end();
  if (!(await client.waitExit(3000))) t.fail(`the client's input ended, and 3 s later it was still running: at the end of its input it closes the connection and exits`);
  if (client.exitCode !== 0) t.fail(`the client's input ended, and it exited with code ${client.exitCode ?? client.exitSignal}, not 0. Its output:\n${output(client)}`);
  if (client.log().includes("[INFO] Server closed the connection")) {
    t.fail({ problem: 'the client\'s own input ended, and it printed "[INFO] Server closed the connection": that line is for a server that closes first', hint: "h3" });
  }
  await sleep(200);
  if (server.open() !== 0) t.fail("the client exited, but its connection to the server was still open");
});

stage.milestone("m2", async (t) => {
  const [port] = await freePorts(1); // nothing listens there
  const client = await startProgram(t, "client.ts", ["--port", String(port)]);
  if (!(await client.waitExit(5000))) t.fail(`with nothing listening on port ${port}, the client was still running 5 s later. Its output:\n${output(client)}`);
  const line = client.log().find((l) => l.startsWith("[ERROR] Failed to connect to tcp server"));
  if (line === undefined) return t.fail(`with nothing listening on port ${port}, the client must print "[ERROR] Failed to connect to tcp server at HOST:PORT: CODE". Its output:\n${output(client)}`);
  if (!line.includes("ECONNREFUSED")) t.fail(`the connect error line must give the reason (ECONNREFUSED here): ${JSON.stringify(line)}`);
  if (client.exitCode !== 1) t.fail(`with nothing listening, the client must exit with code 1; it exited with ${client.exitCode ?? client.exitSignal}. Its output:\n${output(client)}`);
  if (client.log().some((l) => l.includes("[INFO] Connected to tcp server"))) t.fail("the client printed \"[INFO] Connected to tcp server\" although the connection failed");
});

stage.milestone("m3", async (t) => {
  const server = await testServer(t, { closeAfter: 1 });
  const client = await startProgram(t, "client.ts", ["--port", String(server.port)], true);
  await connected(t, client);
  client.child.stdin!.write("first\n"); // and the input stays open
  const replies = await linesMatching(client, REPLY, 1, 5000);
  if (replies[0] !== "[SERVER MESSAGE] tsrif") t.fail(`the client's first reply line is ${replies[0] === undefined ? "missing" : JSON.stringify(replies[0])}; expected "[SERVER MESSAGE] tsrif". Its output:\n${output(client)}`);
  if (!(await client.waitExit(3000))) {
    t.fail(`the server closed the connection after its reply, and 3 s later the client was still running (waiting for input): it must notice the close at once. Its output:\n${output(client)}`);
  }
  if (!client.log().includes("[INFO] Server closed the connection")) t.fail(`the server closed the connection, and the client exited without printing "[INFO] Server closed the connection". Its output:\n${output(client)}`);
  if (client.exitCode !== 0) t.fail(`when the server closes the connection, the client exits with code 0; it exited with ${client.exitCode ?? client.exitSignal}. Its output:\n${output(client)}`);
});

async function line(t: MilestoneContext, c: TestClient, text: string, who: string): Promise<void> {
  await exchangeExact(t, c, [{ what: JSON.stringify(text), msg: Buffer.from(text) }], who, { hint: "h4" });
}

stage.milestone("m4", async (t) => {
  const server = await t.server({ ports: 1, startTimeoutMs: 10_000 });
  const port = server.ports[0]!;
  const alive = (after: string): void => {
    if (!server.alive()) t.fail({ problem: `${after}, the server exited (code ${server.exitCode ?? server.exitSignal}): this server loops, and serves the next client`, hint: "h4" });
  };
  const a = await connectOrFail(t, port, "client A");
  await line(t, a, "A1\n", "client A, the first");
  const b = await connectOrFail(t, port, "client B");
  await b.send("B1\n");
  const c = await connectOrFail(t, port, "client C");
  await c.send("C1\n");
  await expectSilence(t, b, 500, "client B got a reply while client A was being served: this server serves one client at a time", "h4");
  await line(t, a, "A2\n", "client A, while B and C wait");
  a.end();
  // B's turn: the line it sent while it waited is answered first.
  const rb = await b.waitForBytes(3, 3000);
  alive("after client A left");
  if (rb.outcome !== "complete" || !b.bytes().equals(Buffer.from("1B\n"))) {
    t.fail({ problem: "client A left; client B, the next in line, must now be served, starting with the line it sent while it waited", expected: Buffer.from("1B\n"), got: b.bytes(), hint: "h4" });
  }
  if (c.received > 0) t.fail({ problem: "client A left, and client C was served too, or before client B: the clients wait in the order they came", got: c.bytes(), hint: "h4" });
  await line(t, b, "B2\n", "client B, during its turn");
  b.destroy();
  const rc = await c.waitForBytes(3, 3000);
  alive("after client B left");
  if (rc.outcome !== "complete" || !c.bytes().equals(Buffer.from("1C\n"))) t.fail({ problem: "client B left; client C must now be served", expected: Buffer.from("1C\n"), got: c.bytes(), hint: "h4" });
  // A client that leaves while it waits must not hold up the ones behind it.
  const gone = await connectOrFail(t, port, "client D");
  await gone.send("D1\n");
  await sleep(100);
  gone.destroy();
  const e = await connectOrFail(t, port, "client E");
  await e.send("E1\n");
  c.end();
  const re = await e.waitForBytes(3, 3000);
  alive("after client C left");
  if (re.outcome !== "complete" || !e.bytes().equals(Buffer.from("1E\n"))) {
    t.fail({ problem: "client D left while it waited its turn, and client E, behind it, was not served once C had left", expected: Buffer.from("1E\n"), got: e.bytes(), hint: "h4" });
  }
  e.destroy();
  await sleep(200);
  // Nobody is left: the next client is served at once.
  const f = await connectOrFail(t, port, "client F, once everyone had left");
  await line(t, f, "F1\n", "client F, who came when nobody was being served");
  f.destroy();
});

stage.milestone("m5", async (t) => {
  // The server answers nobody until all three clients are connected at once (or 10 s have passed).
  const server = await testServer(t, { holdUntil: 3, holdMs: 10_000 });
  const multi = await startProgram(t, "multi-client.ts", ["--port", String(server.port), "--clients", "3"]);
  if (!(await multi.waitExit(30_000))) t.fail(`the multi-client was still running 30 s after it started. Its output:\n${output(multi)}`);
  const log = multi.log();
  for (let n = 1; n <= 3; n++) {
    const msg = `hello from client ${n}`;
    const want = [`[Client ${n}] Sent: ${msg}`, `[Client ${n}] [SERVER MESSAGE] ${[...msg].reverse().join("")}`];
    for (const w of want) if (!log.includes(w)) t.fail(`the multi-client's output lacks ${JSON.stringify(w)}. Its output:\n${output(multi, 20)}`);
  }
  if (server.maxOpen < 3) {
    t.fail({ problem: `the three clients were never connected at the same time (at most ${server.maxOpen} at once): start every child before waiting for any of them`, hint: "h5" });
  }
  const done = log.findIndex((l) => l === "[INFO] all 3 clients are done");
  const lastChild = Math.max(...log.map((l, i) => (l.startsWith("[Client ") ? i : -1)));
  if (done < 0) t.fail(`the parent never printed "[INFO] all 3 clients are done". Its output:\n${output(multi, 20)}`);
  if (done < lastChild) t.fail({ problem: "the parent printed \"[INFO] all 3 clients are done\" before its children had finished: it must wait for every child's exit", hint: "h5" });
  if (multi.exitCode !== 0) t.fail(`the multi-client exited with code ${multi.exitCode ?? multi.exitSignal}, not 0, although every child was served. Its output:\n${output(multi, 20)}`);
  // A server that closes the connection without a reply: the child says so and fails, and so does the parent.
  const rude = await testServer(t, { hangUp: true });
  const lone = await startProgram(t, "multi-client.ts", ["--port", String(rude.port), "--clients", "1"]);
  if (!(await lone.waitExit(20_000))) t.fail(`against a server that closes the connection without replying, the multi-client was still running 20 s later. Its output:\n${output(lone, 20)}`);
  if (!lone.log().includes("[Client 1] [ERROR] the connection closed before the reply")) {
    t.fail({
      problem: `the server closed client 1's connection without a reply, and the client did not print "[Client 1] [ERROR] the connection closed before the reply": wait for the reply or the close, whichever comes first. Its output:\n${output(lone, 20)}`,
      hint: "h5",
    });
  }
  if (lone.exitCode !== 1) t.fail(`the server closed the only client's connection without a reply; the multi-client must exit with code 1, and it exited with ${lone.exitCode ?? lone.exitSignal}. Its output:\n${output(lone, 20)}`);
});
