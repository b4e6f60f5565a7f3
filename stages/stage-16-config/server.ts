// Stage 16's server: the config file says everything. Its servers'
// listeners are the ports; each request is looked up (src/config.ts) and
// answered by its route: files from a folder, a reverse proxy to the route's
// upstream, or a redirect. Start it with the config's path:
//   pnpm --filter stage-16 start -- xps_config.json
// This file is the composition (main.c); the code you write is in src/.
import { runConfigServer } from "@xps/connection/server";

await runConfigServer({
  stage: "stage-16",
  title: "the config: listeners and routes from xps_config.json (file_serve, reverse_proxy, redirect)",
  portRoles: [],
  readsConfig: true,
});
