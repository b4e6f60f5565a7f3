// Stage 11's server: the first port is a reverse proxy to the upstream
// (default 127.0.0.1:3000, python3 -m http.server), the other three echo as
// in stage 10. This file is the composition (main.c); the code you write is
// in src/.
import { echo, proxyTo } from "@xps/connection/routes";
import { runStageServer } from "@xps/connection/server";

await runStageServer(
  {
    stage: "stage-11",
    title: "the upstream module: the first port proxies to an upstream server, the others echo",
    portRoles: ["reverse proxy to the upstream", "echo", "echo", "echo"],
    upstream: true,
  },
  (options) => [proxyTo(options.upstream), echo, echo, echo],
);
