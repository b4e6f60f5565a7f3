// Stage 3's program: a UDP server on 127.0.0.1:8080 that hands every datagram
// to a pool of worker threads, which reverse it, and sends each reply back to
// the client that sent it. This file reads the options and starts the
// program; the code you write is in src/udp-server.ts and src/udp-worker.ts.
import os from "node:os";
import { parseArgs } from "node:util";
import { describeError } from "@xps/utils/todo";
import { scriptArgs } from "@xps/utils/args";
import { main } from "./reference/udp-server.ts";

const USAGE = `usage: pnpm --filter stage-03 start [-- --port N] [--host H] [--threads N] [--slow-ms MS] [config]

  --port N       the UDP port to listen on (default 8080; --ports N works too)
  --host H       the address to listen on (default 127.0.0.1)
  --threads N    how many worker threads (default: the number of CPUs, ${os.availableParallelism()} here);
                 0 does all the work on the main thread, with no pool
  --slow-ms MS   make every reverse cost MS milliseconds of CPU (default 0)
  config         ignored: the official tester passes a config path`;

// A TODO that is still a stub throws a TodoError. Say which one, and exit
// with code 2 (a crash would otherwise look like any other exit).
process.on("uncaughtException", (err) => {
  console.log(`[ERROR] ${describeError(err)}`);
  process.exit(2);
});

function fail(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

let values: { port?: string; ports?: string; host?: string; threads?: string; "slow-ms"?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    args: scriptArgs(),
    options: {
      port: { type: "string" },
      ports: { type: "string" },
      host: { type: "string" },
      threads: { type: "string" },
      "slow-ms": { type: "string" },
      help: { type: "boolean", short: "h" },
    },
    allowPositionals: true,
  }));
} catch (err) {
  fail((err as Error).message);
}
if (values.help) {
  console.log(USAGE);
  process.exit(0);
}
const portText = values.port ?? values.ports?.split(",")[0] ?? "8080";
const port = Number(portText);
if (!Number.isInteger(port) || port < 1 || port > 65535) fail(`--port wants a port number from 1 to 65535, not "${portText}"`);
const threads = Number(values.threads ?? os.availableParallelism());
if (!Number.isInteger(threads) || threads < 0 || threads > 64) fail(`--threads wants a number from 0 to 64, not "${values.threads}"`);
const slowMs = Number(values["slow-ms"] ?? "0");
if (!Number.isFinite(slowMs) || slowMs < 0 || slowMs > 10_000) fail(`--slow-ms wants a number of milliseconds from 0 to 10000, not "${values["slow-ms"]}"`);

main({ host: values.host ?? "127.0.0.1", port, threads, slowMs });
