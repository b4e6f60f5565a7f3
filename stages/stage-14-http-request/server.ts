// Stage 14's server: every port serves the public folder by the path of
// each request. The session reads the request with the parser you write
// (src/http.ts, src/http-request.ts), picks the file or the error that
// answers it (src/session.ts), and sends a header block and the file, then
// closes: one request per connection. The upstream is not used in this
// stage (the response module and the config bring it back). This file is
// the composition (main.c); the code you write is in src/.
import { runStageServer } from "@xps/connection/server";

await runStageServer(
  {
    stage: "stage-14",
    title: "the HTTP request parser: every port serves files by request path",
    portRoles: ["HTTP: files from the public folder", "HTTP: files from the public folder", "HTTP: files from the public folder", "HTTP: files from the public folder"],
    files: true,
  },
  (options) => [0, 1, 2, 3].map(() => ({ files: options.publicDir })),
);
