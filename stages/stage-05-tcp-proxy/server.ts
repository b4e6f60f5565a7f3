// Stage 5's program: a TCP proxy on 127.0.0.1:8080 that joins every client to
// a connection of its own to the upstream, 127.0.0.1:3000 (python3 -m
// http.server), and writes whatever either side sends across to the other.
// This file reads the options and starts the program; the code you write is
// in src/tcp-proxy.ts. (For `pnpm xps run stage-05`, which starts python on
// the upstream when nothing listens there: this program has an upstream: true.)
import { parseArgs } from "node:util";
import { describeError } from "@xps/utils/todo";
import { scriptArgs } from "@xps/utils/args";
import { formatHostPort, parseHostPort } from "@xps/utils/net";
import { main } from "./reference/tcp-proxy.ts";

const USAGE = `usage: pnpm --filter stage-05 start [-- --port N] [--host H] [--upstream HOST:PORT] [config]

  --port N               the port to listen on (default 8080; --ports N works too)
  --host H               the address to listen on (default 127.0.0.1)
  --upstream HOST:PORT   where to forward each client (default 127.0.0.1:3000)
  config                 ignored: the official tester passes a config path`;

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

let values: { port?: string; ports?: string; host?: string; upstream?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    args: scriptArgs(),
    options: {
      port: { type: "string" },
      ports: { type: "string" },
      host: { type: "string" },
      upstream: { type: "string" },
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
const upstreamText = values.upstream ?? process.env.XPS_UPSTREAM ?? "127.0.0.1:3000";
const upstream = parseHostPort(upstreamText);
if (upstream === null) fail(`--upstream wants HOST:PORT (like 127.0.0.1:3000), not "${upstreamText}"`);

console.log(`[INFO] forwarding every client to ${formatHostPort(upstream)}`);
main({ host: values.host ?? "127.0.0.1", port, upstream });
