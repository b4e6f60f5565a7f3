// A hidden test, as docs/instructors.md describes them ("Hidden tests"):
// `pnpm xps grade --stage 10 --tests packages/cli/examples/hidden` runs it
// beside stage 10's own tests.
// #region hidden-test
import { defineStage, expectEcho, randomBytes } from "@xps/testkit";

// Any folder inside the stage works: the copy lives in the stage's .xps/.
const stage = defineStage(import.meta.dirname);

stage.milestone("x1", async (t) => {
  const server = await t.server();
  (await expectEcho(t, server.ports[2]!, randomBytes(200_000))).destroy();
});

stage.check("m2", "hidden: two clients on one port", async (t) => {
  // ... counts toward M2
});
// #endregion
