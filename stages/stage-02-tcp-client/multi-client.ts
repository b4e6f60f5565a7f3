// Stage 2's multi-client: starts several client processes at once, each of
// which sends one message and prints the reply, and waits for them all. This
// file reads the options and starts the parent; the code you write, the
// children's included, is in src/multi-client.ts.
import { readOptions, reportStubs } from "./options.ts";
import { main } from "./reference/multi-client.ts";

reportStubs();
const opts = readOptions<"clients">(
  `usage: pnpm --filter stage-02 multi [-- --clients N] [--port N] [--host H]

  --clients N   how many client processes (default 3)
  --port N      the server's port (default 8080)
  --host H      the server's address (default 127.0.0.1)`,
  { clients: { type: "string" } },
);
const clients = Number(opts.values.clients ?? "3");
if (!Number.isInteger(clients) || clients < 1 || clients > 50) {
  console.error(`error: --clients wants a number from 1 to 50, not "${String(opts.values.clients)}"`);
  process.exit(2);
}
process.exit(await main({ host: opts.host, port: opts.port, clients }));
