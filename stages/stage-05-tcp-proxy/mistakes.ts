// Stage 5's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ file.
import { catalogue } from "@xps/course/mistakes";

const file = "tcp-proxy.ts";

export const mistakes = catalogue([
  // TODO 1: connect the client's upstream
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "one-upstream-for-all",
    todo: 1,
    file,
    what: "dials the upstream once and gives that one connection to every client",
    edits: [
      {
        find: "  const upstream = net.connect({ host: upstreamAddress.host, port: upstreamAddress.port });",
        replace: "  const upstream = (shared ??= net.connect({ host: upstreamAddress.host, port: upstreamAddress.port }));",
      },
      { find: "let upstreamAddress: HostPort", replace: "let shared: net.Socket | undefined;\nlet upstreamAddress: HostPort" },
    ],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "one-way-only",
    todo: 1,
    file,
    what: "sets up the client's direction and forgets the upstream's",
    edits: [{ find: "  handleClient(route);\n  handleUpstream(route);\n", replace: "  handleClient(route);\n" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "not-in-table",
    todo: 1,
    file,
    what: "makes the route but never adds it to the table",
    edits: [{ find: "  routes.push(route);\n", replace: "" }],
    caughtBy: "m3",
    hint: "h3",
  },

  // TODO 2: from the client to the upstream
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "back-to-the-client",
    todo: 2,
    file,
    what: "writes the client's bytes back to the client instead of to its upstream",
    edits: [{ find: "    route.upstream.write(chunk);", replace: "    route.client.write(chunk);" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "newest-upstream",
    todo: 2,
    file,
    what: "writes every request to the upstream of the route opened last (the last row of the table)",
    edits: [{ find: "    route.upstream.write(chunk);", replace: "    routes.at(-1)!.upstream.write(chunk);" }],
    caughtBy: "m1",
    hint: "h1",
  },

  {
    id: "one-recv",
    todo: 2,
    file,
    what: "C habit of one recv() for the request: once('data') forwards the client's first chunk only, so a request that comes in two pieces never reaches the upstream whole",
    edits: [{ find: "  route.client.on(\"data\", (chunk: Buffer) => {", replace: "  route.client.once(\"data\", (chunk: Buffer) => {" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 3: the client leaves
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "upstream-left-open",
    todo: 3,
    file,
    what: "takes the route out of the table but leaves its upstream connection open",
    edits: [{ find: "    route.upstream.destroy();\n    removeRoute(route);", replace: "    removeRoute(route);" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "route-stays",
    todo: 3,
    file,
    what: "closes the upstream but never takes the route out of the table",
    edits: [{ find: "    route.upstream.destroy();\n    removeRoute(route);", replace: "    route.upstream.destroy();" }],
    caughtBy: "m3",
    hint: "h3",
  },

  {
    id: "no-client-error-listener",
    todo: 3,
    file,
    what: "listens for the client's 'close' but not its 'error', so a client that resets crashes the proxy",
    edits: [{ find: "  route.client.on(\"error\", () => {\n    // 'close' follows.\n  });\n", replace: "" }],
    caughtBy: "m3",
    hint: "h3",
  },

  // TODO 4: from the upstream to the client
  { id: "stub-4", todo: 4, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "as-text",
    todo: 4,
    file,
    what: "writes each chunk of the response as a UTF-8 string, which damages bytes that are not text",
    edits: [{ find: "    route.client.write(chunk);\n  });", replace: "    route.client.write(chunk.toString());\n  });" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "newest-client",
    todo: 4,
    file,
    what: "writes every response to the client of the route opened last",
    edits: [{ find: "    route.client.write(chunk);\n  });", replace: "    routes.at(-1)!.client.write(chunk);\n  });" }],
    caughtBy: "m1",
    hint: "h1",
  },

  {
    id: "back-to-the-upstream",
    todo: 4,
    file,
    what: "the wrong end: writes the upstream's bytes back to the upstream instead of to the client",
    edits: [{ find: "    route.client.write(chunk);\n  });", replace: "    route.upstream.write(chunk);\n  });" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 5: the upstream ends or fails
  { id: "stub-5", todo: 5, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "destroy-not-end",
    todo: 5,
    file,
    what: "destroys the client when the upstream ends, which throws away what is still queued for it",
    edits: [{ find: "  route.upstream.on(\"end\", () => route.client.end());", replace: "  route.upstream.on(\"end\", () => route.client.destroy());" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "client-never-ended",
    todo: 5,
    file,
    what: "does nothing when the upstream ends, so the client waits for ever for the end of the response",
    edits: [{ find: "  route.upstream.on(\"end\", () => route.client.end());\n", replace: "" }],
    caughtBy: "m1",
    hint: "h3",
  },
  {
    id: "no-error-listener",
    todo: 5,
    file,
    what: "has no 'error' listener on the upstream, so a refused connect crashes the proxy",
    edits: [
      {
        find: "  route.upstream.on(\"error\", (err) => {\n    console.log(`[ERROR] upstream ${upstreamAddress.host}:${upstreamAddress.port}: ${(err as NodeJS.ErrnoException).code}`);\n    route.client.destroy();\n  });\n",
        replace: "",
      },
    ],
    caughtBy: "m3",
    hint: "h3",
  },
]);
