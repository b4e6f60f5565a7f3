// Stage 6's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ files.
import { catalogue } from "@xps/course/mistakes";

const LISTEN_AWAITED = `  const failure = await new Promise<NodeJS.ErrnoException | null>((resolve) => {
    server.once("error", resolve);
    server.listen({ host, port, backlog: DEFAULT_BACKLOG }, () => {
      server.off("error", resolve);
      resolve(null);
    });
  });
`;

export const mistakes = catalogue([
  // TODO 1: listenerCreate
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "listen-not-awaited",
    todo: 1,
    file: "listener.ts",
    what: "listen() is called as in C, where it returns once the socket listens, and not awaited: a port in use goes unnoticed",
    edits: [{ find: LISTEN_AWAITED, replace: "  server.listen({ host, port, backlog: DEFAULT_BACKLOG });\n  const failure = null as NodeJS.ErrnoException | null;\n" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "listen-failure-not-null",
    todo: 1,
    file: "listener.ts",
    what: "a failed listen() is logged, but the function goes on and returns a listener for a port it does not hold",
    edits: [{ find: "    server.close();\n    return null;\n  }\n  serverOpen(server);", replace: "    server.close();\n  }\n  serverOpen(server);" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "listen-error-ignored",
    todo: 1,
    file: "listener.ts",
    what: "listen() is awaited, but only its callback: an 'error' never settles the promise, and nobody listens for it",
    edits: [{ find: '    server.once("error", resolve);\n', replace: "" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "listener-not-attached",
    todo: 1,
    file: "listener.ts",
    what: "the listening server is never attached to the loop, so nobody hears of its clients",
    edits: [{ find: "  const attached = loopAttach(epoll, server);", replace: "  const attached = OK;" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "listener-not-listed",
    todo: 1,
    file: "listener.ts",
    what: "the listener is not added to listeners, where the loop looks a ready handle up",
    edits: [{ find: "  listeners.add(listener);\n", replace: "" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "no-accept-queue",
    todo: 1,
    file: "listener.ts",
    what: "the server gets no accept queue (serverOpen), so socketAccept never finds a client",
    edits: [{ find: "  serverOpen(server);\n", replace: "" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 2: accepting a client
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "accept-null-check-inverted",
    todo: 2,
    file: "listener.ts",
    what: "the null check is written the wrong way round (if (client) in C), so every good client is destroyed",
    edits: [{ find: "      if (client === null) {", replace: "      if (client !== null) {" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "accept-no-log",
    todo: 2,
    file: "listener.ts",
    what: 'the new client is served, but "new connection" is never logged',
    edits: [{ find: '      logger("INFO", "listenerConnectionHandler()", "new connection");\n', replace: "" }],
    caughtBy: "m1",
    hint: "h1",
  },

  {
    id: "accepts-again",
    todo: 2,
    file: "listener.ts",
    what: "C habit: calls accept() again in the TODO, as the C handler does, and wraps that socket, so the client the loop accepted is never served",
    edits: [
      {
        find: "      client = connectionCreate(listener.epoll, socket);\n",
        replace: "      const accepted = socketAccept(listener.server);\n      if (accepted === E_AGAIN) return;\n      client = connectionCreate(listener.epoll, accepted);\n",
      },
    ],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 3: reverseMessage
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m4", hint: "h4" },
  {
    id: "reverse-as-string",
    todo: 3,
    file: "connection.ts",
    what: "the message is reversed as a string, which turns bytes that are not UTF-8 into replacement characters and keeps multi-byte letters whole",
    edits: [
      {
        find: "  const out = Buffer.allocUnsafe(bytes.length);\n  for (let i = 0; i < body; i++) out[i] = bytes[body - 1 - i]!;\n  if (body < bytes.length) out[body] = 0x0a;\n  return out;",
        replace: '  const text = [...bytes.subarray(0, body).toString()].reverse().join("");\n  return Buffer.from(body < bytes.length ? `${text}\\n` : text);',
      },
    ],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "reverse-newline-too",
    todo: 3,
    file: "connection.ts",
    what: "the whole message is reversed, the final newline with it (it comes first)",
    edits: [{ find: "  const body = bytes.length > 0 && bytes[bytes.length - 1] === 0x0a ? bytes.length - 1 : bytes.length;", replace: "  const body = bytes.length;" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "reverse-in-place",
    todo: 3,
    file: "connection.ts",
    what: "the message is reversed in place, as strrev does in C, and the caller's Buffer returned",
    edits: [
      {
        find: "  const out = Buffer.allocUnsafe(bytes.length);\n  for (let i = 0; i < body; i++) out[i] = bytes[body - 1 - i]!;\n  if (body < bytes.length) out[body] = 0x0a;\n  return out;",
        replace: "  bytes.subarray(0, body).reverse();\n  return bytes;",
      },
    ],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "reverse-off-by-one",
    todo: 3,
    file: "connection.ts",
    what: "the copy starts one byte too far (bytes[body - i]), so the first byte is the newline or garbage and the last is lost",
    edits: [{ find: "out[i] = bytes[body - 1 - i]!;", replace: "out[i] = bytes[body - i] ?? 0;" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "reverse-drops-newline",
    todo: 3,
    file: "connection.ts",
    what: "the final newline is left out of the reply instead of being put back at the end",
    edits: [{ find: "  if (body < bytes.length) out[body] = 0x0a;\n  return out;", replace: "  return out.subarray(0, body);" }],
    caughtBy: "m4",
    hint: "h4",
  },

  // TODO 4: connectionCreate
  { id: "stub-4", todo: 4, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "no-receive-queue",
    todo: 4,
    file: "connection.ts",
    what: "the socket gets no receive queue (socketOpen): the loop's 'data' listener starts the flow, and the first bytes fall on the floor",
    edits: [{ find: "  socketOpen(socket);\n", replace: "" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "connection-not-listed",
    todo: 4,
    file: "connection.ts",
    what: "the connection is not added to connections, so the loop never finds it when its socket is ready",
    edits: [{ find: "  connections.add(connection);\n", replace: "" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "connection-not-attached",
    todo: 4,
    file: "connection.ts",
    what: "the socket is never attached to the loop (loopAttach), so its bytes are never announced",
    edits: [{ find: "  const attached = loopAttach(epoll, socket);", replace: "  const attached = 0;" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "remembers-last-socket",
    todo: 4,
    file: "connection.ts",
    what: "the socket is kept in a module-level variable (the last one accepted), and the reply goes there",
    edits: [
      { find: "/** A short, printable preview of a message for the log. */", replace: "let current: Socket | null = null;\n\n/** A short, printable preview of a message for the log. */" },
      { find: "  socketOpen(socket);\n", replace: "  socketOpen(socket);\n  current = socket;\n" },
      { find: "  socketSend(connection.socket, reverseMessage(got));", replace: "  socketSend(current ?? connection.socket, reverseMessage(got));" },
    ],
    caughtBy: "m2",
    hint: "h2",
  },

  // TODO 5: connectionDestroy
  { id: "stub-5", todo: 5, stub: true, caughtBy: "m3", hint: "h3" },
  {
    id: "destroy-not-unlisted",
    todo: 5,
    file: "connection.ts",
    what: "the connection stays in connections after it is destroyed (a leak the stats show)",
    edits: [{ find: "  connections.remove(connection);\n", replace: "" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "destroy-not-detached",
    todo: 5,
    file: "connection.ts",
    what: "the socket stays attached to the loop after the connection is destroyed; its end keeps it ready, and the loop spins",
    edits: [{ find: "  loopDetach(connection.epoll, connection.socket);\n", replace: "" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "destroy-not-closed",
    todo: 5,
    file: "connection.ts",
    what: "the socket is never closed, so the client that left waits for an end that never comes",
    edits: [{ find: "  socketClose(connection.socket);\n", replace: "" }],
    caughtBy: "m3",
    hint: "h3",
  },

  // TODO 6: the read handler
  { id: "stub-6", todo: 6, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "eof-ignored",
    todo: 6,
    file: "connection.ts",
    what: "E_EOF is treated like E_AGAIN (nothing yet), so a client that leaves is never closed",
    edits: [{ find: '  if (got === E_EOF) {\n    connectionClose(connection, "peer closed connection");\n    return;\n  }', replace: "  if (got === E_EOF) return;" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "eof-as-failure",
    todo: 6,
    file: "connection.ts",
    what: 'the end of the stream is logged as a failed recv() ("recv() failed"), not as the peer closing',
    edits: [{ find: '  if (got === E_EOF) {\n    connectionClose(connection, "peer closed connection");', replace: '  if (got === E_EOF) {\n    connectionClose(connection, "recv() failed");' }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "small-recv-buffer",
    todo: 6,
    file: "connection.ts",
    what: "recv() takes a fixed 16 bytes (char buf[16]), so a longer message is reversed in pieces",
    edits: [{ find: "  const got = socketRecv(connection.socket, DEFAULT_BUFFER_SIZE);", replace: "  const got = socketRecv(connection.socket, 16);" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "echo-not-reversed",
    todo: 6,
    file: "connection.ts",
    what: "the message is sent back as it came (an echo server), not reversed",
    edits: [{ find: "  socketSend(connection.socket, reverseMessage(got));", replace: "  socketSend(connection.socket, got);" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "no-message-log",
    todo: 6,
    file: "connection.ts",
    what: "the reply is sent, but the client's message is never logged",
    edits: [{ find: '  logger("INFO", "connectionReadHandler()", `[CLIENT MESSAGE] ${preview(got)}`);\n', replace: "" }],
    caughtBy: "m1",
    hint: "h1",
  },
]);
