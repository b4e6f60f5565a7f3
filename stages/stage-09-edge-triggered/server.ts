// Stage 9's server: four listeners, and every client gets each message
// back reversed (a final newline stays at the end). This file is the
// composition (main.c); the code you write is in src/.
import { runStageServer } from "@xps/connection/server";

await runStageServer({
  stage: "stage-09",
  title: "edge-triggered epoll: every port reverses what it receives",
  portRoles: ["reverse", "reverse", "reverse", "reverse"],
});
