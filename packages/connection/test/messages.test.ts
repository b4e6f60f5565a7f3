// What the server tells a new user who got an address wrong: the real stage 11
// server (the reference) started as a child process, as `pnpm --filter
// stage-11 start` starts it, and its log lines read from outside. Each case
// must get its own true line: a name that does not resolve is not "nothing
// is listening", an address that cannot be bound is not a busy port, a
// refused connect is not a peer that closed, and binding beyond loopback is
// said out loud. The reset case runs in-process, where the reset reliably
// beats the connect's completion (as it often does across processes too).
import { spawn, type ChildProcess } from "node:child_process";
import net from "node:net";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterEach, expect, test } from "vitest";
import { captureLog } from "@xps/utils";
import { LineLog } from "@xps/utils/lines";
import { coreCreate } from "@xps/core/core";
import { serverStart, serverStop } from "../src/server.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../../..");
const STAGE_11 = path.join(REPO, "stages/stage-11-upstream");
const SERVER = path.join(STAGE_11, "server.ts");
// As `pnpm --filter stage-11 start` runs it: the server as it stands at stage 11 (its view).
const REGISTER = path.join(REPO, "packages/course/variant/register.mjs");
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

async function freePorts(n: number): Promise<number[]> {
  const servers = await Promise.all(
    Array.from({ length: n }, () => new Promise<net.Server>((resolve) => {
      const s = net.createServer();
      s.listen(0, "127.0.0.1", () => resolve(s));
    })),
  );
  const ports = servers.map((s) => (s.address() as net.AddressInfo).port);
  await Promise.all(servers.map((s) => new Promise<void>((r) => s.close(() => r()))));
  return ports;
}

interface Run {
  child: ChildProcess;
  ports: number[];
  log: LineLog;
  exited: Promise<number | null>;
  /** A line matching `re`, already printed or still to come; null on timeout or exit. */
  line(re: RegExp, timeoutMs?: number): Promise<string | null>;
}

const running: ChildProcess[] = [];
afterEach(async () => {
  for (const child of running.splice(0)) {
    if (child.exitCode === null && child.signalCode === null) {
      const gone = new Promise((r) => child.once("exit", r));
      child.kill("SIGTERM");
      await gone;
    }
  }
});

/** Start the stage 11 reference on four free ports with `args`; do not wait for anything. */
async function run(args: string[]): Promise<Run> {
  const ports = await freePorts(4);
  const child = spawn(process.execPath, ["--import", "tsx", "--import", REGISTER, SERVER, "--ports", ports.join(","), ...args], {
    cwd: REPO,
    env: { ...process.env, XPS_VARIANT: "solution", XPS_STAGE_DIR: STAGE_11, NO_COLOR: "1", FORCE_COLOR: "0", XPS_LOG: "", XPS_DEBUG: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  running.push(child);
  const log = new LineLog();
  child.stdout!.on("data", (d: Buffer) => log.feed(d));
  child.stderr!.on("data", (d: Buffer) => log.feed(d));
  const exited = new Promise<number | null>((resolve) =>
    child.once("exit", (code) => {
      log.end();
      resolve(code);
    }),
  );
  return { child, ports, log, exited, line: (re, timeoutMs = 15_000) => log.waitFor(re, timeoutMs, true) };
}

/** Start it and wait until it listens on all four ports and has printed its pid line. */
async function started(args: string[]): Promise<Run> {
  const r = await run(args);
  const ready = await r.line(/runStageServer\(\) : pid \d+/);
  if (ready === null) throw new Error(`the server did not start; its output:\n${r.log.lines().join("\n")}`);
  return r;
}

/** Connect to port A, wait for the server to close the connection. */
function clientClosed(port: number): Promise<void> {
  return new Promise((resolve) => {
    const s = net.connect({ port, host: "127.0.0.1" });
    s.on("connect", () => s.write("GET / HTTP/1.0\r\n\r\n"));
    s.on("data", () => {});
    s.on("error", () => resolve());
    s.on("close", () => resolve());
  });
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

test("an upstream name that does not resolve is said so, at start-up and for each client", async () => {
  const r = await started(["--upstream", "nosuchhost.invalid:1"]);
  const probe = await r.line(/probeUpstream\(\)/);
  expect(probe).toMatch(
    /^\[WARNING\] probeUpstream\(\) : the upstream host name "nosuchhost\.invalid" could not be resolved \((ENOTFOUND|EAI_AGAIN.*)\); give --upstream an address such as 127\.0\.0\.1:3000$/,
  );
  await clientClosed(r.ports[0]!);
  const connect = await r.line(/upstreamCreate\(\)/);
  expect(connect).toMatch(/^\[ERROR\] upstreamCreate\(\) : the upstream host name "nosuchhost\.invalid" could not be resolved \((ENOTFOUND|EAI_AGAIN.*)\); give --upstream an address such as 127\.0\.0\.1:3000$/);
  const closed = await r.line(/connectionClose\(\) : .*nosuchhost/);
  expect(closed).toMatch(/^\[INFO\] connectionClose\(\) : closing connection: the upstream host name "nosuchhost\.invalid" could not be resolved \((ENOTFOUND|EAI_AGAIN)\)$/);
  const all = r.log.lines().join("\n");
  expect(all).not.toMatch(/nothing is listening|python3 -m http\.server|peer closed connection \((ENOTFOUND|EAI_AGAIN)/);
}, 30_000);

test("a refused upstream connect is not a peer that closed", async () => {
  const [dead] = await freePorts(1);
  const r = await started(["--upstream", `127.0.0.1:${dead}`]);
  // The start-up line stage 11's M4 looks for stays as it was.
  expect(await r.line(/probeUpstream\(\)/)).toBe(
    `[WARNING] probeUpstream() : nothing is listening on 127.0.0.1:${dead} (ECONNREFUSED); is an upstream running there? Start one with: python3 -m http.server ${dead} --bind 127.0.0.1`,
  );
  await clientClosed(r.ports[0]!);
  const closed = await r.line(/connectionClose\(\) : .*ECONNREFUSED/);
  expect(closed).toBe(`[INFO] connectionClose() : closing connection: upstream 127.0.0.1:${dead} refused the connection (ECONNREFUSED)`);
  expect(r.log.lines().join("\n")).not.toMatch(/peer closed connection \(ECONNREFUSED\)/);
  // Loopback only (the default): no exposure warning.
  expect(r.log.lines().filter((l) => /other machines can connect/.test(l))).toEqual([]);
}, 30_000);

/** Start the server with `args`, which must make it fail: exit code 1 and exactly one ERROR line. */
async function failsToStart(args: string[]): Promise<{ error: string; all: string }> {
  const r = await run(args);
  const code = await Promise.race([r.exited, sleep(20_000).then(() => "still running")]);
  const lines = r.log.lines();
  expect(code, lines.join("\n")).toBe(1);
  const errors = lines.filter((l) => l.startsWith("[ERROR]"));
  expect(errors, lines.join("\n")).toHaveLength(1);
  return { error: errors[0]!, all: lines.join("\n") };
}

test("a --host that is not an address of this machine: that, and 127.0.0.1, not --ports", async () => {
  // 192.0.2.1 is TEST-NET-1 (RFC 5737), reserved for documentation: no machine has it.
  const { error, all } = await failsToStart(["--host", "192.0.2.1"]);
  expect(error).toBe("[ERROR] runStageServer() : cannot listen on 192.0.2.1: it is not an address of this machine (EADDRNOTAVAIL); use --host 127.0.0.1 (the default: this machine only)");
  expect(all).not.toMatch(/--ports|Server listening/);
}, 30_000);

test("a --host name that does not resolve: that, and 127.0.0.1, not --ports", async () => {
  const { error, all } = await failsToStart(["--host", "nosuchhost.invalid"]);
  expect(error).toMatch(
    /^\[ERROR\] runStageServer\(\) : cannot listen on nosuchhost\.invalid: the host name could not be resolved \((ENOTFOUND|EAI_AGAIN.*)\); use --host 127\.0\.0\.1 \(the default: this machine only\)$/,
  );
  expect(all).not.toMatch(/--ports|Server listening/);
}, 30_000);

test("a port in use keeps the --ports advice", async () => {
  const holder = net.createServer();
  await new Promise<void>((r) => holder.listen(0, "127.0.0.1", () => r()));
  const busy = (holder.address() as net.AddressInfo).port;
  try {
    const [a, b, c] = await freePorts(3);
    const r = await run(["--ports", `${a},${busy},${b},${c}`]);
    expect(await r.exited).toBe(1);
    const all = r.log.lines().join("\n");
    expect(all).toContain(`[ERROR] runStageServer() : could not listen on every port: port ${busy} is already in use; pick free ones with --ports A,B,C,D`);
  } finally {
    holder.close();
  }
}, 30_000);

const EXPOSED = (host: string, ports: number[], upstream: string) =>
  new RegExp(
    `^\\[WARNING\\] runStageServer\\(\\) : listening on ${esc(host)} \\(every network interface of this machine\\): ` +
      `other machines can connect to ports ${ports[0]} \\(reverse proxy to the upstream\\), ${ports[1]} \\(echo\\), ${ports[2]} \\(echo\\) and ${ports[3]} \\(echo\\), ` +
      `and the proxy hands them whatever the upstream ${esc(upstream)} serves \\(python3 -m http\\.server serves every file under the folder it was started in\\); ` +
      `to listen on this machine only, use --host 127\\.0\\.0\\.1 \\(the default\\)$`,
  );

test("--host 0.0.0.0 starts with a WARNING that says what is exposed and how to go back", async () => {
  const [dead] = await freePorts(1);
  const r = await started(["--host", "0.0.0.0", "--upstream", `127.0.0.1:${dead}`]);
  const warning = await r.line(/other machines can connect/);
  expect(warning).toMatch(EXPOSED("0.0.0.0", r.ports, `127.0.0.1:${dead}`));
}, 30_000);

test("--host :: starts with the same WARNING", async (ctx) => {
  const v6 = await new Promise<boolean>((resolve) => {
    const s = net.createServer();
    s.once("error", () => resolve(false));
    s.listen(0, "::", () => s.close(() => resolve(true)));
  });
  if (!v6) ctx.skip();
  const [dead] = await freePorts(1);
  const r = await started(["--host", "::", "--upstream", `127.0.0.1:${dead}`]);
  expect(await r.line(/other machines can connect/)).toMatch(EXPOSED("::", r.ports, `127.0.0.1:${dead}`));
}, 30_000);

test("an upstream that accepts and resets at once is not logged as a failed connect", async () => {
  const { lines: log, restore } = captureLog();
  const upstream = net.createServer((s) => s.resetAndDestroy());
  await new Promise<void>((r) => upstream.listen(0, "127.0.0.1", () => r()));
  const upPort = (upstream.address() as net.AddressInfo).port;
  const core = coreCreate();
  try {
    const [port] = await freePorts(1);
    expect(await serverStart(core, "127.0.0.1", [{ port: port!, backend: { upstream: { host: "127.0.0.1", port: upPort } } }])).not.toBeNull();
    await clientClosed(port!);
    for (let i = 0; i < 50 && !log.some((l) => /ECONNRESET/.test(l)); i++) await sleep(20);
    const about = log.filter((l) => /ECONNRESET|upstreamCreate/.test(l));
    expect(about.length, log.join("\n")).toBeGreaterThan(0);
    // Whether Node saw the reset before or after 'connect', the line says the upstream accepted and then reset.
    for (const l of about) {
      expect(l).toMatch(
        new RegExp(
          `^\\[ERROR\\] upstreamCreate\\(\\) : upstream 127\\.0\\.0\\.1:${upPort} accepted the connection, then reset it before sending anything \\(ECONNRESET\\); ` +
            "something listens there but drops its clients: is it the server you meant\\?$" +
            "|^\\[INFO\\] connectionClose\\(\\) : peer closed connection \\(ECONNRESET\\)$",
        ),
      );
    }
    expect(log.join("\n")).not.toMatch(/failed|nothing is listening|refused|python3/);
  } finally {
    serverStop(core);
    upstream.close();
    restore();
  }
});
