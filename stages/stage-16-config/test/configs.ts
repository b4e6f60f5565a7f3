// The config stages' test helpers: configs written to a folder of the
// test's own, with free ports, and the server started on them (the ports
// come from the config, so the server is started without --ports and the
// test waits for its "Server listening" line on each). Stage 18 uses them too.
import fs from "node:fs";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { freePorts, sleep, type MilestoneContext, type StageServer } from "@xps/testkit";

export const STAGE16_DIR = path.resolve(import.meta.dirname, "..");
export const REPO_PUBLIC = path.resolve(STAGE16_DIR, "..", "..", "public");

/** A folder for the test's configs and files, removed after the test. */
export function tempDir(t: MilestoneContext): string {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xps-config-"));
  t.cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  return dir;
}

/** Write `config` as JSON into `dir` and return its path. */
export function writeConfig(dir: string, config: unknown, name = "xps_config.json"): string {
  const file = path.join(dir, name);
  fs.writeFileSync(file, typeof config === "string" ? config : JSON.stringify(config, null, 2));
  return file;
}

type Json = Record<string, unknown>;

/**
 * A copy of a config file with its listeners moved to `ports` (in order of
 * appearance), its reverse_proxy upstreams to `upstream`, and its relative
 * dir_paths made absolute against the config's own folder.
 */
export function movedConfig(file: string, ports: number[], upstream?: string): Json {
  const config = JSON.parse(fs.readFileSync(file, "utf8")) as Json;
  let i = 0;
  for (const server of config.servers as Json[]) {
    for (const l of server.listeners as Json[]) l.port = ports[i++];
    for (const r of (server.routes ?? []) as Json[]) {
      if (typeof r.dir_path === "string") r.dir_path = path.resolve(path.dirname(file), r.dir_path);
      if (r.type === "reverse_proxy" && upstream !== undefined) r.upstreams = [upstream];
    }
  }
  delete config.$schema;
  return config;
}

/** The number of listeners a config has. */
export function listenerCount(config: Json): number {
  return (config.servers as Json[]).reduce((n, s) => n + (s.listeners as unknown[]).length, 0);
}

/** Start the stage's server on `configFile` and wait until it listens on every one of `ports`. */
export async function startOnConfig(t: MilestoneContext, configFile: string, ports: number[], args: string[] = []): Promise<StageServer> {
  const server = await t.server({ ports: 0, args: [...args, configFile] });
  const waiting = new Set(ports);
  const deadline = Date.now() + 30_000;
  // A server that listens on some ports and then prints nothing for 3 s has started all it will.
  let lines = 0;
  let quietSince = Date.now();
  let settled = false;
  while (waiting.size > 0 && Date.now() < deadline && server.exitCode === null && !settled) {
    const log = server.log();
    if (log.length !== lines) [lines, quietSince] = [log.length, Date.now()];
    for (const line of log) {
      const m = /Server listening on http:\/\/.*:(\d+)\s*$/.exec(line);
      if (m) waiting.delete(Number(m[1]));
    }
    settled = waiting.size < ports.length && Date.now() - quietSince > 3000;
    if (waiting.size > 0) await sleep(50);
  }
  if (waiting.size > 0) {
    const state =
      server.exitCode !== null ? `it exited with code ${server.exitCode}` : settled ? "it listened on the others, then printed nothing more for 3 s" : "it is still starting after 30 s";
    t.fail(`the server did not listen on port(s) ${[...waiting].join(", ")} of the config (${state}); its output:\n    ${server.log().slice(-12).join("\n    ") || "(nothing)"}`);
  }
  return server;
}

/** Start the server on `configFile` and wait for it to exit (it must, within 20 s, and before it listens): its code and output. */
export async function runToExit(t: MilestoneContext, args: string[]): Promise<{ code: number | null; lines: string[]; server: StageServer }> {
  const server = await t.server({ ports: 0, args });
  const deadline = Date.now() + 20_000;
  // A server that has begun to listen is not going to give up: half a second more, then stop waiting.
  let listenedAt = 0;
  while (server.exitCode === null && server.exitSignal === null && Date.now() < deadline && (listenedAt === 0 || Date.now() - listenedAt < 500)) {
    if (listenedAt === 0 && server.log().some((l) => /Server listening/.test(l))) listenedAt = Date.now();
    await sleep(50);
  }
  await sleep(50);
  return { code: server.exitCode, lines: server.log(), server };
}

/** `n` free ports. */
export const ports = (n: number): Promise<number[]> => freePorts(n);

/** A TCP server that only counts the connections made to it (a host the server must never dial), closed after the test. */
export async function countingServer(t: MilestoneContext): Promise<{ port: number; count: () => number }> {
  let count = 0;
  const server = net.createServer((s) => {
    count++;
    s.destroy();
  });
  await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
  t.cleanup(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as net.AddressInfo).port, count: () => count };
}
