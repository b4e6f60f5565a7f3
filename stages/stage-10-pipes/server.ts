// Stage 10's server: four listeners, and every client is echoed through one
// pipe from its own source to its own sink. This file is the composition
// (main.c); the code you write is in src/.
import { echo } from "@xps/connection/routes";
import { runStageServer } from "@xps/connection/server";

await runStageServer(
  {
    stage: "stage-10",
    title: "the pipe module: every port echoes what it receives",
    portRoles: ["echo", "echo", "echo", "echo"],
  },
  () => [echo, echo, echo, echo],
);
