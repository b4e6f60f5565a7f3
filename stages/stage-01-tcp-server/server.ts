// Stage 1's program: a TCP server on 127.0.0.1:8080 that serves exactly one
// client, sends back each message reversed, and exits with code 1 when that
// client leaves. This file reads the options and starts the program; the code
// you write is in src/tcp-server.ts.
import { parseArgs } from "node:util";
import { describeError } from "@xps/utils/todo";
import { scriptArgs } from "@xps/utils/args";
import { main } from "./reference/tcp-server.ts";

const USAGE = `usage: pnpm --filter stage-01 start [-- --port N] [--host H] [config]

  --port N   the port to listen on (default 8080; --ports N works too)
  --host H   the address to listen on (default 127.0.0.1)
  config     ignored: the official tester passes a config path`;

// A TODO that is still a stub throws a TodoError. Say which one, and exit
// with code 2, so that a crash is never mistaken for the exit code 1 that
// this stage asks for when the client leaves.
process.on("uncaughtException", (err) => {
  console.log(`[ERROR] ${describeError(err)}`);
  process.exit(2);
});

function fail(message: string): never {
  console.error(`error: ${message}\n${USAGE}`);
  process.exit(2);
}

let values: { port?: string; ports?: string; host?: string; help?: boolean };
try {
  ({ values } = parseArgs({
    args: scriptArgs(),
    options: { port: { type: "string" }, ports: { type: "string" }, host: { type: "string" }, help: { type: "boolean", short: "h" } },
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

main({ host: values.host ?? "127.0.0.1", port });
