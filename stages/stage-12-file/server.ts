// Stage 12's server: the first port is stage 11's reverse proxy; the second
// sends public/sample.txt to every client as soon as it connects; the third
// is a file port configured with a file outside public/ (../temp/file.txt,
// as the official tester has it), which must be refused; the fourth echoes.
// This file is the composition (main.c); the code you write is in src/.
import path from "node:path";
import { echo, proxyTo, serveFileAt } from "@xps/connection/routes";
import { runStageServer } from "@xps/connection/server";

await runStageServer(
  {
    stage: "stage-12",
    title: "the file module: the second port sends public/sample.txt, the third refuses a file outside public/",
    portRoles: ["reverse proxy to the upstream", "sends public/sample.txt", "a file outside public/ (refused)", "echo"],
    upstream: true,
    files: true,
  },
  (options) => [
    proxyTo(options.upstream),
    serveFileAt(path.join(options.publicDir, "sample.txt"), options.publicDir),
    serveFileAt(path.join(options.publicDir, "..", "temp", "file.txt"), options.publicDir),
    echo,
  ],
);
