// Stage 13's server: every client gets a session, and the session attaches
// what the client's port serves: the first port proxies to the upstream, the
// second sends public/sample.txt, the third and fourth have nothing behind
// them (echo is gone: the session has no backend there). This file is the
// composition (main.c); the code you write is in src/.
import path from "node:path";
import { runStageServer } from "@xps/connection/server";

await runStageServer(
  {
    stage: "stage-13",
    title: "the session module: proxy and file through a session; the last two ports serve nothing",
    portRoles: ["reverse proxy to the upstream (through the session)", "sends public/sample.txt (through the session)", "no backend: accepted, nothing sent", "no backend: accepted, nothing sent"],
    upstream: true,
    files: true,
  },
  (options) => [
    { upstream: options.upstream },
    { file: path.join(options.publicDir, "sample.txt"), publicDir: options.publicDir },
    null,
    null,
  ],
);
