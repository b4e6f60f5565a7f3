// Stage 2's client: reads lines from its input, sends each one to the server
// on 127.0.0.1:8080, and prints the reply. This file reads the options and
// starts the program; the code you write is in src/tcp-client.ts.
import { readOptions, reportStubs } from "./options.ts";
import { main } from "./reference/tcp-client.ts";

reportStubs();
const opts = readOptions(`usage: pnpm --filter stage-02 start [-- --port N] [--host H]

  --port N   the server's port (default 8080)
  --host H   the server's address (default 127.0.0.1)`);
main({ host: opts.host, port: opts.port });
