// A client that floods a server and never reads: the stage 10 experiment.
//
//   pnpm --filter stage-10 flood -- [--port 8001] [--size 1GiB] [--host 127.0.0.1]
//
// It sends SIZE bytes without reading a byte back and prints, every second,
// how much it has sent and the resident memory of whichever process listens
// on that port. With pipes and a threshold the server's memory stays flat
// and the sending stalls: that stall is backpressure.
import fs from "node:fs";
import net from "node:net";
import { parseArgs } from "node:util";
import { isMainModule, scriptArgs } from "@xps/utils/args";
import { rssBytes } from "./proc.ts";

/** The pid of the process listening on a TCP port (from /proc/net/tcp*), or null. */
export function pidListeningOn(port: number): number | null {
  const inodes = new Set<string>();
  for (const table of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    let text = "";
    try {
      text = fs.readFileSync(table, "utf8");
    } catch {
      continue;
    }
    for (const row of text.split("\n").slice(1)) {
      const cols = row.trim().split(/\s+/);
      if (cols.length < 10) continue;
      const localPort = parseInt(cols[1]!.split(":")[1]!, 16);
      if (localPort === port && cols[3] === "0A") inodes.add(cols[9]!); // 0A = LISTEN
    }
  }
  if (inodes.size === 0) return null;
  for (const pid of fs.readdirSync("/proc").filter((d) => /^\d+$/.test(d))) {
    try {
      for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        if (m && inodes.has(m[1]!)) return Number(pid);
      }
    } catch {
      // not ours to read, or gone
    }
  }
  return null;
}

export function parseSize(text: string): number | null {
  const m = /^(\d+(?:\.\d+)?)\s*(b|k|kb|kib|m|mb|mib|g|gb|gib)?$/i.exec(text.trim());
  if (!m) return null;
  const unit = (m[2] ?? "b").toLowerCase()[0]!;
  const mult = unit === "g" ? 2 ** 30 : unit === "m" ? 2 ** 20 : unit === "k" ? 2 ** 10 : 1;
  return Math.floor(Number(m[1]) * mult);
}

const MiB = 2 ** 20;

async function main(): Promise<void> {
  let values;
  try {
    ({ values } = parseArgs({
      args: scriptArgs(),
      options: { port: { type: "string", default: "8001" }, host: { type: "string", default: "127.0.0.1" }, size: { type: "string", default: "1GiB" }, help: { type: "boolean" } },
    }));
  } catch (err) {
    console.error(`error: ${(err as Error).message} (try --help)`);
    process.exit(2);
  }
  if (values.help) {
    console.log("flood [--port 8001] [--host 127.0.0.1] [--size 1GiB]: send without ever reading, and watch the server's memory");
    return;
  }
  const port = Number(values.port);
  const size = parseSize(values.size!);
  if (!Number.isInteger(port) || port < 1 || port > 65535 || size === null) {
    console.error('error: --port wants 1-65535 and --size a size like "1GiB" or "500MiB"');
    process.exit(2);
  }
  const pid = pidListeningOn(port);
  const socket = net.connect({ host: values.host!, port });
  socket.pause(); // never read
  socket.on("error", (err) => {
    console.error(`connection failed: ${(err as NodeJS.ErrnoException).code ?? err.message}`);
    process.exit(1);
  });
  await new Promise<void>((r) => socket.once("connect", () => r()));
  console.log(`flooding ${values.host}:${port} with ${(size / MiB).toFixed(0)} MiB, reading nothing back${pid ? ` (server pid ${pid})` : ""}`);
  const chunk = Buffer.alloc(256 * 1024, 0x61);
  let sent = 0;
  let lastSent = -1;
  const report = setInterval(() => {
    const rss = pid ? `, server RSS ${(rssBytes(pid) / MiB).toFixed(1)} MiB` : "";
    const stalled = sent === lastSent ? " (stalled: the server stopped reading, that is backpressure)" : "";
    console.log(`sent ${(sent / MiB).toFixed(0)} MiB${rss}${stalled}`);
    lastSent = sent;
  }, 1000);
  while (sent < size) {
    const n = Math.min(chunk.length, size - sent);
    if (!socket.write(n === chunk.length ? chunk : chunk.subarray(0, n))) {
      await new Promise<void>((r) => socket.once("drain", () => r()));
    }
    sent += n;
  }
  clearInterval(report);
  console.log(`sent all ${(size / MiB).toFixed(0)} MiB`);
  socket.destroy();
}

if (isMainModule(import.meta.url)) await main();
