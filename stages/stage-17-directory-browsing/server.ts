// Stage 17's server: stage 16's, driven by the config file, and a folder
// without an index file is now answered with its listing, which your
// src/directory.ts writes and your src/session.ts sends. Start it with the
// config's path:
//   pnpm --filter stage-17 start -- xps_config.json
// This file is the composition (main.c); the code you write is in src/.
import { runConfigServer } from "@xps/connection/server";

await runConfigServer({
  stage: "stage-17",
  title: "directory browsing: a folder without an index file is answered with its listing",
  portRoles: [],
  readsConfig: true,
});
