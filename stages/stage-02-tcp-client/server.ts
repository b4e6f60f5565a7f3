// Stage 2's server: stage 1's server made to loop, so that it serves clients
// one after another instead of exiting when the first one leaves. This file
// reads the options and starts the program; the code you write is in
// src/tcp-server.ts.
import { readOptions, reportStubs } from "./options.ts";
import { main } from "./reference/tcp-server.ts";

reportStubs();
const opts = readOptions(`usage: pnpm --filter stage-02 server [-- --port N] [--host H] [config]

  --port N   the port to listen on (default 8080)
  --host H   the address to listen on (default 127.0.0.1)
  config     ignored: the official tester passes a config path`);
main({ host: opts.host, port: opts.port });
