// Stage 12 milestones, black-box: the stage's server runs as its own process
// on free ports, serving a public folder given with --public (the course's
// own, or a scratch one), and is spoken to over real TCP.
import fs from "node:fs";
import path from "node:path";
import { afterAll } from "vitest";
import {
  TestClient,
  countBytes,
  defineStage,
  describeOutcome,
  expectEcho,
  httpGet,
  openCount,
  randomBytes,
  sleep,
  startPythonUpstream,
  statsUntil,
  type MilestoneContext,
  type StageServer,
} from "@xps/testkit";
import { BIG, BIG_SIZE, MiB, REPO_PUBLIC, THRESHOLD, bigScratch, forgetBig, removeScratch, scratch, type Scratch } from "./folders.ts";

const stage = defineStage(path.join(import.meta.dirname, ".."));
afterAll(() => {
  removeScratch();
  forgetBig();
});

function serve(t: MilestoneContext, publicDir: string, args: string[] = []): Promise<StageServer> {
  return t.server({ args: ["--public", publicDir, ...args] });
}

/** Connect to `port` and read until the server ends the connection (or `ms` pass). */
async function fetchAll(port: number, ms = 3000): Promise<{ client: TestClient; got: Buffer; outcome: string }> {
  const client = await TestClient.connect(port);
  const r = await client.waitForEnd(ms);
  client.destroy();
  return { client, got: client.bytes(), outcome: r.outcome };
}

/** The client must get exactly `want`, then a close. */
function expectFile(t: MilestoneContext, what: string, r: { client: TestClient; got: Buffer; outcome: string }, want: Buffer, ms = 3000): void {
  if (r.got.equals(want) && r.outcome === "ended") return;
  if (r.outcome === "timeout" && r.got.length === 0) {
    t.fail({
      problem: `${what}: nothing arrived within ${ms / 1000} s, and the connection stayed open`,
      expected: want,
      got: r.got,
      notes: ["no byte of the file reached the pipe: is the file's source ready when it is made, and does the loop hear when a read has finished?"],
      hint: "h3",
    });
  }
  t.fail({
    problem: `${what}: the client did not get the file, then a close`,
    expected: want,
    got: r.got,
    ending: r.outcome === "ended" ? "the server closed the connection" : describeOutcome({ outcome: r.outcome as never, received: r.got.length }, ms, r.client.errorCode),
  });
}

stage.milestone("m1", async (t: MilestoneContext) => {
  const want = fs.readFileSync(path.join(REPO_PUBLIC, "sample.txt"));
  const server = await serve(t, REPO_PUBLIC);
  const port = server.ports[1]!;
  const results = await Promise.all(Array.from({ length: 20 }, () => fetchAll(port)));
  results.forEach((r, i) => expectFile(t, `client ${i + 1} of 20 on the second port`, r, want));
  // What a client sends there is ignored: the file still comes, then the close.
  const client = await TestClient.connect(port);
  await client.send("hello? this is ignored\n");
  const r = await client.waitForEnd(5000);
  client.destroy();
  expectFile(t, "a client that also sends something", { client, got: client.bytes(), outcome: r.outcome }, want);
  if (!server.alive()) t.fail("the server exited while sending sample.txt");
});

stage.milestone(
  "m2",
  async (t: MilestoneContext) => {
    const big = bigScratch();
    const server = await serve(t, big.public);
    // Warm up: the first MiB of the file on a connection that then goes.
    const warm = await TestClient.connect(server.ports[1]!, { keep: false });
    const first = await warm.waitForBytes(MiB, 10_000);
    warm.destroy();
    if (first.outcome !== "complete") {
      t.fail({ problem: "the second port did not even send the first MiB of a 64 MiB sample.txt", ending: describeOutcome(first, 10_000, warm.errorCode) });
    }
    await statsUntil(server, (s) => s.connections === 0 && s.pipes === 0);
    await sleep(300);
    const baseline = server.rssBytes();
    let peak = baseline;
    const sampler = setInterval(() => (peak = Math.max(peak, server.rssBytes())), 50);
    t.cleanup(() => clearInterval(sampler));

    const client = await TestClient.connect(server.ports[1]!, { keep: false });
    t.cleanup(() => client.destroy());
    let at = 0;
    let bad = -1;
    let tick = 0;
    const slow = { on: true };
    client.onData = (chunk) => {
      if (bad < 0) {
        const m = BIG.mismatch(at, chunk);
        if (m >= 0) bad = at + m;
      }
      at += chunk.length;
      tick += chunk.length;
      if (slow.on && tick >= 50 * 1024) client.socket.pause();
    };
    // About 1 MiB/s: 50 KiB every 50 ms.
    const reader = setInterval(() => {
      tick = 0;
      client.socket.resume();
    }, 50);
    t.cleanup(() => clearInterval(reader));
    await sleep(3000);
    clearInterval(sampler);
    const growth = peak - baseline;
    const during = await server.stats();
    const bound = 2 * THRESHOLD + 48 * MiB;
    const overPipe = (peakPipe: number): void => {
      if (peakPipe > THRESHOLD) {
        t.fail(`a pipe held ${countBytes(peakPipe)} at its fullest (stats' peakPipeBuffered), more than its threshold of ${countBytes(THRESHOLD)}: a read must never ask for more than the pipe's room`);
      }
    };
    overPipe(during.peakPipeBuffered);
    if (growth > bound) {
      t.fail(
        `while a client read the 64 MiB file at about 1 MiB/s the server's memory grew by ${(growth / MiB).toFixed(1)} MiB ` +
          `(bound: two pipe thresholds + 48 MiB = ${(bound / MiB).toFixed(1)} MiB): the file must be read as the pipe drains, not ahead of it`,
      );
    }
    if (at === 0) t.fail({ problem: "a slow reader of the second port got nothing in 3 s", ending: describeOutcome({ outcome: "timeout", received: 0 }, 3000, client.errorCode) });
    // Now read the rest at full speed: every byte must still be right.
    clearInterval(reader);
    slow.on = false;
    client.socket.resume();
    const r = await client.waitForEnd(60_000);
    if (at !== BIG_SIZE || bad >= 0) {
      t.fail({
        problem: `the client got ${countBytes(at)} of the 64 MiB sample.txt${bad >= 0 ? `, differing from the file at byte ${bad.toLocaleString("en-US")}` : ""}`,
        ending: describeOutcome(r, 60_000, client.errorCode),
      });
    }
    if (r.outcome !== "ended") t.fail(`after the whole file the connection was not closed by the server (${describeOutcome(r, 60_000, client.errorCode)})`);
    overPipe((await server.stats()).peakPipeBuffered);
  },
  { timeout: 120_000 },
);

stage.milestone("m4", async (t: MilestoneContext) => {
  const big = bigScratch();
  const real = fs.realpathSync(big.sample);
  const server = await serve(t, big.public);
  const before = openCount(server.pid, real);
  const client = await TestClient.connect(server.ports[1]!, { keep: false });
  const r = await client.waitForBytes(MiB, 10_000);
  if (r.outcome !== "complete") {
    client.destroy();
    t.fail({ problem: "the second port did not send the first MiB of a 64 MiB sample.txt", ending: describeOutcome(r, 10_000, client.errorCode) });
  }
  const during = openCount(server.pid, real);
  if (during !== before + 1) t.fail(`while one client reads sample.txt the server should hold the file open once; /proc/${server.pid}/fd shows it ${during} time(s)`);
  // The client stops reading: the pipe fills and the file stops reading too. Then it leaves.
  client.socket.pause();
  await sleep(500);
  client.destroy(); // the client leaves mid-file
  let now = openCount(server.pid, real);
  for (let i = 0; i < 30 && now > before; i++) {
    await sleep(100);
    now = openCount(server.pid, real);
  }
  if (now > before) t.fail(`3 s after the client left mid-file the server still holds sample.txt open (${now} descriptor(s) in /proc/${server.pid}/fd): the file must be destroyed, and its descriptor closed, when its pipe loses the client`);
  const stats = await statsUntil(server, (s) => s.connections === 0 && s.pipes === 0);
  if (stats.connections !== 0 || stats.pipes !== 0) t.fail(`after the client left, the server still holds ${stats.connections} connection(s) and ${stats.pipes} pipe(s)`);
  // And the next client gets the file from its start.
  const next = await TestClient.connect(server.ports[1]!, { keep: true });
  const n = await next.waitForBytes(100_000, 10_000);
  const head = next.bytes().subarray(0, 100_000);
  next.destroy();
  if (n.outcome !== "complete" || !head.equals(BIG.slice(0, 100_000))) t.fail({ problem: "a new client after the one that left does not get sample.txt from its start", expected: BIG.slice(0, 100_000), got: head });
});

// ------------------------------------------------------------------ refusals

interface Refusal {
  name: string;
  /** Make the case in the scratch folder (the server resolves the file anew for each client); returns which port (index) to try. */
  make(s: Scratch): number;
  /** The log line that must say why. */
  reason: RegExp;
  what: string;
}

const SAMPLE = Buffer.from("the sample that may be served\n");
const REFUSALS: Refusal[] = [
  {
    name: "a path outside public/ (the third port's ../temp/file.txt)",
    make: () => 2,
    reason: /^\[(WARNING|ERROR)\].*outside/i,
    what: "a WARNING that the file is outside the public folder",
  },
  {
    name: "a symbolic link inside public/ that points outside it",
    make: (s) => {
      fs.rmSync(s.sample, { force: true });
      fs.symlinkSync(s.outside, s.sample);
      return 1;
    },
    reason: /^\[(WARNING|ERROR)\].*outside/i,
    what: "a WARNING that the file is outside the public folder",
  },
  {
    name: "a file in a folder whose name only begins like public/ (public-secret/)",
    make: (s) => {
      const alike = `${s.public}-secret`;
      fs.mkdirSync(alike, { recursive: true });
      fs.writeFileSync(path.join(alike, "sample.txt"), "secret: not inside public/\n");
      fs.chmodSync(path.join(alike, "sample.txt"), 0o644);
      fs.rmSync(s.sample, { force: true });
      fs.symlinkSync(path.join(alike, "sample.txt"), s.sample);
      return 1;
    },
    reason: /^\[(WARNING|ERROR)\].*outside/i,
    what: "a WARNING that the file is outside the public folder",
  },
  {
    name: "a file that others may not read",
    make: (s) => {
      fs.rmSync(s.sample, { force: true });
      fs.writeFileSync(s.sample, SAMPLE);
      fs.chmodSync(s.sample, 0o640);
      return 1;
    },
    reason: /^\[(WARNING|ERROR)\].*(others|permission|S_IROTH)/i,
    what: "a WARNING that others may not read the file",
  },
  {
    name: "a missing file",
    make: (s) => {
      fs.rmSync(s.sample, { force: true });
      return 1;
    },
    reason: /^\[(WARNING|ERROR)\].*(ENOENT|no such file|not found|does not exist)/i,
    what: "a line that says the file does not exist",
  },
];

stage.milestone("m5", async (t: MilestoneContext) => {
  const s = scratch(SAMPLE);
  const server = await serve(t, s.public);
  // What may be served is served: the second port, beside the refusals.
  expectFile(t, "the second port, with a sample.txt that may be served", await fetchAll(server.ports[1]!), SAMPLE);
  for (const c of REFUSALS) {
    const index = c.make(s);
    const seen = server.log().length;
    const r = await fetchAll(server.ports[index]!, 3000);
    if (r.outcome === "timeout") t.fail(`${c.name}: the client was left waiting 3 s; it should be closed at once`);
    if (r.got.length > 0) t.fail({ problem: `${c.name}: the server sent the client bytes; it must send nothing and close`, got: r.got });
    let line: string | undefined;
    for (let i = 0; i < 20 && line === undefined; i++) {
      line = server.log().slice(seen).find((l) => c.reason.test(l));
      if (line === undefined) await sleep(50);
    }
    if (line === undefined) t.fail(`${c.name}: the client was closed, but the server's log has no line that says why (wanted: ${c.what}, matching ${c.reason})`);
    const fault = server.log().slice(seen).find((l) => /closing the connection that hit it|closing this client/.test(l));
    if (fault !== undefined) {
      t.fail({
        problem: `${c.name}: the client was closed by the server's fault handler, not by the route: a handler threw (${fault})`,
        notes: ["fileCreate returns no file (and an error) for a file that may not be served: check it, and close the client with resultName(error) as the reason"],
        hint: "h5",
      });
    }
    if (!server.alive()) t.fail(`${c.name}: the server exited`);
  }
  (await expectEcho(t, server.ports[3]!, randomBytes(10_000), { what: "the echo port, after the refusals" })).destroy();
});

// ------------------------------------------------------------------ the other ports

stage.milestone("m7", async (t: MilestoneContext) => {
  const site = scratch();
  const files = new Map<string, Buffer>([
    ["/hello.txt", Buffer.from("Hello from the upstream, beside the file port.\n")],
    ["/big.bin", randomBytes(2 * MiB)],
  ]);
  for (const [name, bytes] of files) fs.writeFileSync(path.join(site.root, name), bytes);
  const up = await startPythonUpstream(site.root);
  t.cleanup(() => up.stop());
  const server = await serve(t, REPO_PUBLIC, ["--upstream", `127.0.0.1:${up.port}`]);
  const sample = fs.readFileSync(path.join(REPO_PUBLIC, "sample.txt"));
  expectFile(t, "the second port", await fetchAll(server.ports[1]!), sample);
  // Three requests at once on the first port match what python returns directly.
  const names = ["/", "/hello.txt", "/big.bin"];
  const direct = await Promise.all(names.map((n) => httpGet(up.port, n, { timeoutMs: 10_000 })));
  const proxied = await Promise.all(names.map((n) => httpGet(server.ports[0]!, n, { timeoutMs: 10_000 })));
  names.forEach((n, i) => {
    const a = direct[i]!;
    const b = proxied[i]!;
    a.client.destroy();
    b.client.destroy();
    if (b.statusLine !== a.statusLine || !b.body.equals(a.body)) {
      t.fail({ problem: `GET ${n} through the first port is not what python returns`, expected: a.body, got: b.raw.length === 0 ? b.raw : b.body, notes: [`status line: ${JSON.stringify(b.statusLine)} (python's: ${JSON.stringify(a.statusLine)})`] });
    }
  });
  (await expectEcho(t, server.ports[3]!, randomBytes(300_000), { what: "the fourth port (echo)" })).destroy();
  // With the upstream gone, a client of the proxy is closed, and the server goes on.
  await up.stop();
  const r = await httpGet(server.ports[0]!, "/", { timeoutMs: 3000 });
  r.client.destroy();
  if (r.result.outcome === "timeout") t.fail("with the upstream gone, a client of the first port was left waiting; it should be closed at once");
  if (r.raw.length > 0) t.fail({ problem: "with the upstream gone, the first port sent the client bytes", got: r.raw });
  if (!server.alive()) t.fail("the server exited when the upstream went away");
  expectFile(t, "the second port, after the upstream went away", await fetchAll(server.ports[1]!), sample);
});
