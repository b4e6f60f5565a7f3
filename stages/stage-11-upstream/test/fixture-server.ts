// Stage 11's server with port A wired in a way the real server.ts never
// wires it, so that the milestones can reach the failure branches of your
// code (XPS_TEST_FIXTURE picks the case; the command line is server.ts's):
//
//   bad-address   port A proxies to an address that is unusable from the
//                 start (an empty host, with XPS_TEST_PORT as its port), which
//                 the --upstream option would refuse: upstreamCreate must
//                 refuse it too, and proxy must then close the client (M4).
//   proxy-twice   port A calls proxy twice for each client: the second
//                 call's pipes cannot be made, because the client's source
//                 and sink already have theirs, so proxy must destroy both the
//                 client and the upstream connection it just made (M6).
//
// Ports B to D echo, as in server.ts. Your src/ files are used, as for server.ts.
import { echo, proxy, proxyTo } from "@xps/connection/routes";
import type { ConnectionHandler } from "@xps/connection/listener";
import { runStageServer } from "@xps/connection/server";

const fixture = process.env.XPS_TEST_FIXTURE;

await runStageServer(
  {
    stage: "stage-11",
    title: `the upstream module, port A wired for a test (${fixture})`,
    portRoles: ["reverse proxy, wired for a test", "echo", "echo", "echo"],
    upstream: true,
  },
  (options): ConnectionHandler[] => {
    switch (fixture) {
      case "bad-address":
        return [proxyTo({ host: "", port: Number(process.env.XPS_TEST_PORT) }), echo, echo, echo];
      case "proxy-twice":
        return [
          (client) => {
            proxy(client, options.upstream);
            proxy(client, options.upstream);
          },
          echo,
          echo,
          echo,
        ];
      default:
        throw new Error(`XPS_TEST_FIXTURE must be bad-address or proxy-twice, not ${JSON.stringify(fixture)}`);
    }
  },
);
