// Stage 7 milestones, black-box: the stage's server runs as its own process
// on free ports and is spoken to over real TCP, one message at a time, as
// the official tester does.
import path from "node:path";
import { concurrentClients, defineStage, reversesOnEveryPort, shutsDownOnSigint, survivesDisconnects } from "@xps/testkit";

const stage = defineStage(path.join(import.meta.dirname, ".."));

stage.milestone("m1", async (t) => {
  await reversesOnEveryPort(t, await t.server());
});

stage.milestone("m2", async (t) => {
  await concurrentClients(t, await t.server());
});

stage.milestone("m3", async (t) => {
  await survivesDisconnects(t, await t.server());
});

stage.milestone("m4", async (t) => {
  await shutsDownOnSigint(t, await t.server({ env: { XPS_DEBUG: "1" } }));
});
