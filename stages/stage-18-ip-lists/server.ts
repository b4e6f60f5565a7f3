// Stage 18's server: stage 16's, driven by the config, and each route may
// now say who may use it (ip_whitelist, ip_blacklist). Start it with the
// config's path:
//   pnpm --filter stage-18 start -- xps_config.json
// This file is the composition (main.c); the code you write is in src/.
import { runConfigServer } from "@xps/connection/server";

await runConfigServer({
  stage: "stage-18",
  title: "IP allow and deny lists: routes from xps_config.json, each with who may use it",
  portRoles: [],
  readsConfig: true,
});
