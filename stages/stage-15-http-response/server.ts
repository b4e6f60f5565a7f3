// Stage 15's server: every port serves the public folder by the path of
// each request, as in stage 14, and every reply is now built by the
// response module you write (src/http-response.ts): a status line, Date,
// Server and Access-Control-Allow-Origin, the headers the session sets,
// and the body. One request per connection. This file is the composition
// (main.c); the code you write is in src/.
import { runStageServer } from "@xps/connection/server";

await runStageServer(
  {
    stage: "stage-15",
    title: "the HTTP response module: every port serves files by request path, with the standard headers",
    portRoles: ["HTTP: files from the public folder", "HTTP: files from the public folder", "HTTP: files from the public folder", "HTTP: files from the public folder"],
    files: true,
  },
  (options) => [0, 1, 2, 3].map(() => ({ files: options.publicDir })),
);
