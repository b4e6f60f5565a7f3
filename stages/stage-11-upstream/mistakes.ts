// Stage 11's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ files.
import { catalogue } from "@xps/course/mistakes";

export const mistakes = catalogue([
  // TODO 1: upstreamCreate
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "no-error-listener",
    todo: 1,
    file: "upstream.ts",
    what: "no 'error' listener: a refused connect closes the client, but nothing in the log says why",
    edits: [
      {
        find:
          '  const onConnectError = (err: NodeJS.ErrnoException): void => {\n    logger("ERROR", "upstreamCreate()", upstreamConnectError(host, port, err));\n  };\n  socket.once("error", onConnectError);\n  socket.once("connect", () => socket.off("error", onConnectError));\n',
        replace: "",
      },
    ],
    caughtBy: "m4",
    hint: "h3",
  },
  {
    id: "null-while-connecting",
    todo: 1,
    file: "upstream.ts",
    what: "a connect still in progress is taken for a failure (C's EINPROGRESS read as an error): null for every client",
    edits: [
      {
        find: "  const connection = connectionCreate(core, socket);\n",
        replace:
          '  if (socket.connecting) {\n    logger("ERROR", "upstreamCreate()", `connect to ${formatHostPort({ host, port })} did not complete`);\n    socket.destroy();\n    return null;\n  }\n  const connection = connectionCreate(core, socket);\n',
      },
    ],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "empty-host-accepted",
    todo: 1,
    file: "upstream.ts",
    what: "only the port is checked: an empty host goes to net.connect, which quietly dials localhost",
    edits: [{ find: 'if (host === "" || !isValidPort(port)) {', replace: "if (!isValidPort(port)) {" }],
    caughtBy: "m4",
    hint: "h3",
  },

  // TODO 2: proxy
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "response-pipe-unbounded",
    todo: 2,
    file: "routes.ts",
    what: "the response pipe is made with a threshold of 1e12 \"for speed\": a slow reader makes it hold the whole file",
    edits: [{ find: "pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, conn.source, client.sink)", replace: "pipeCreate(client.core, 1e12, conn.source, client.sink)" }],
    caughtBy: "m8",
    hint: "h6",
  },
  {
    id: "request-pipe-unbounded",
    todo: 2,
    file: "routes.ts",
    what: "the request pipe is made with a threshold of 1e12: a fast uploader to a slow upstream makes it hold the whole upload",
    edits: [{ find: "pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, client.source, conn.sink)", replace: "pipeCreate(client.core, 1e12, client.source, conn.sink)" }],
    caughtBy: "m11",
    hint: "h8",
  },
  {
    id: "pipes-swapped",
    todo: 2,
    file: "routes.ts",
    what: "each connection piped to itself (client source to client sink, upstream source to upstream sink): the request comes back to the client",
    edits: [
      {
        find:
          "  const request = pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, client.source, conn.sink);\n  const response = pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, conn.source, client.sink);\n",
        replace:
          "  const request = pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, client.source, client.sink);\n  const response = pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, conn.source, conn.sink);\n",
      },
    ],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "fixed-address",
    todo: 2,
    file: "routes.ts",
    what: "the C course's address written into the code: every client is proxied to 127.0.0.1:3000, whatever --upstream says",
    edits: [{ find: "upstreamCreate(client.core, upstream.host, upstream.port)", replace: 'upstreamCreate(client.core, "127.0.0.1", 3000)' }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "client-kept-on-null",
    todo: 2,
    file: "routes.ts",
    what: "when upstreamCreate gives null the ERROR is logged but the client is not destroyed: it waits forever",
    edits: [{ find: '    logger("ERROR", "proxy()", "upstreamCreate() failed; closing the client");\n    connectionDestroy(client);\n', replace: '    logger("ERROR", "proxy()", "upstreamCreate() failed");\n' }],
    caughtBy: "m4",
    hint: "h3",
  },
  {
    id: "only-client-destroyed",
    todo: 2,
    file: "routes.ts",
    what: "when a pipe cannot be made only the client is destroyed: the upstream connection is left over",
    edits: [{ find: "    connectionDestroy(conn);\n    connectionDestroy(client);\n", replace: "    connectionDestroy(client);\n" }],
    caughtBy: "m6",
    hint: "h4",
  },
]);
