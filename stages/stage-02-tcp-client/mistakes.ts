// Stage 2's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ files.
import { catalogue } from "@xps/course/mistakes";

export const mistakes = catalogue([
  // TODO 1: connect to the server
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "failure-exits-0",
    todo: 1,
    file: "tcp-client.ts",
    what: "exits with code 0 when the connection fails",
    edits: [{ find: "${err.code ?? err.message}`);\n    process.exit(1);", replace: "${err.code ?? err.message}`);\n    process.exit(0);" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "no-reason",
    todo: 1,
    file: "tcp-client.ts",
    what: "prints the C client's line alone, without saying why the connect failed",
    edits: [{ find: "console.log(`[ERROR] Failed to connect to tcp server at ${opts.host}:${opts.port}: ${err.code ?? err.message}`);", replace: "console.log(\"[ERROR] Failed to connect to tcp server\");" }],
    caughtBy: "m2",
    hint: "h2",
  },

  {
    id: "connect-blocks",
    todo: 1,
    file: "tcp-client.ts",
    what: "C habit: takes net.connect's return as a made connection, so it prints \"Connected\" and converses before 'connect' (even when nothing listens)",
    edits: [
      {
        find: "  socket.once(\"connect\", () => {\n    connected = true;\n    console.log(\"[INFO] Connected to tcp server\");\n    converse(socket);\n  });\n",
        replace: "  console.log(\"[INFO] Connected to tcp server\");\n  converse(socket);\n",
      },
    ],
    caughtBy: "m2",
    hint: "h2",
  },

  // TODO 2: one line, one reply
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "no-wait-for-reply",
    todo: 2,
    file: "tcp-client.ts",
    what: "sends every line as soon as it is read and prints the replies whenever they come",
    edits: [
      {
        find: "    const [chunk] = await reply;\n    console.log(`[SERVER MESSAGE] ${chunk.toString().replace(/\\n$/, \"\")}`);",
        replace: "    void reply.then(([chunk]) => console.log(`[SERVER MESSAGE] ${chunk.toString().replace(/\\n$/, \"\")}`));",
      },
    ],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "no-newline",
    todo: 2,
    file: "tcp-client.ts",
    what: "sends the line that readline gives, which has lost its newline",
    edits: [{ find: "    socket.write(`${line}\\n`);", replace: "    socket.write(line);" }],
    caughtBy: "m1",
    hint: "h1",
  },

  {
    id: "reply-trimmed",
    todo: 2,
    file: "tcp-client.ts",
    what: "trims the reply (trim()) instead of taking off its final newline only, so a line's spaces at either end are lost",
    edits: [{ find: "    console.log(`[SERVER MESSAGE] ${chunk.toString().replace(/\\n$/, \"\")}`);", replace: "    console.log(`[SERVER MESSAGE] ${chunk.toString().trim()}`);" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 3: the end of the conversation
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "input-end-ignored",
    todo: 3,
    file: "tcp-client.ts",
    what: "does nothing when the input ends, so the connection stays open and the client never exits",
    edits: [{ find: "      leaving = true;\n      socket.end();", replace: "      leaving = true;" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "notices-at-next-line",
    todo: 3,
    file: "tcp-client.ts",
    what: "has no 'close' handler, so, like the C client, it notices a server that left only at its next line",
    edits: [{ find: "  socket.on(\"close\", () => {\n    if (!leaving) console.log(\"[INFO] Server closed the connection\");\n    process.exit(0);\n  });\n", replace: "" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "always-blames-the-server",
    todo: 3,
    file: "tcp-client.ts",
    what: "prints \"Server closed the connection\" even when the client's own input ended",
    edits: [{ find: "    if (!leaving) console.log(\"[INFO] Server closed the connection\");", replace: "    console.log(\"[INFO] Server closed the connection\");" }],
    caughtBy: "m1",
    hint: "h3",
  },

  // TODO 4: wait in line
  { id: "stub-4", todo: 4, stub: true, caughtBy: "m4", hint: "h4" },
  {
    id: "serves-at-once",
    todo: 4,
    file: "tcp-server.ts",
    what: "serves every new client at once, whoever is being served",
    edits: [{ find: "  waiting.push(socket);\n  if (current === null) serveNext();", replace: "  waiting.push(socket);\n  serveNext();" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "busy-means-never",
    todo: 4,
    file: "tcp-server.ts",
    what: "ignores a client that arrives while another is served, instead of queueing it",
    edits: [{ find: "  waiting.push(socket);\n  if (current === null) serveNext();", replace: "  if (current !== null) return;\n  waiting.push(socket);\n  serveNext();" }],
    caughtBy: "m4",
    hint: "h4",
  },

  {
    id: "queue-at-the-front",
    todo: 4,
    file: "tcp-server.ts",
    what: "puts the new client at the front of the queue (unshift), the wrong end, so the last to come is served first",
    edits: [{ find: "  waiting.push(socket);\n  if (current === null) serveNext();", replace: "  waiting.unshift(socket);\n  if (current === null) serveNext();" }],
    caughtBy: "m4",
    hint: "h4",
  },

  // TODO 5: serve the next client
  { id: "stub-5", todo: 5, stub: true, caughtBy: "m4", hint: "h4" },
  {
    id: "newest-first",
    todo: 5,
    file: "tcp-server.ts",
    what: "takes the newest waiting client (pop) instead of the oldest",
    edits: [{ find: "  const next = waiting.shift();", replace: "  const next = waiting.pop();" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "never-resumed",
    todo: 5,
    file: "tcp-server.ts",
    what: "gives the client to serve() but never lets Node read it",
    edits: [{ find: "  serve(next, serveNext);\n  next.resume();", replace: "  serve(next, serveNext);" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "still-busy",
    todo: 5,
    file: "tcp-server.ts",
    what: "leaves `current` set when nobody is waiting, so the next client to come waits for ever",
    edits: [{ find: "  if (next === undefined) {\n    current = null;\n    return;\n  }", replace: "  if (next === undefined) return;" }],
    caughtBy: "m4",
    hint: "h4",
  },

  // TODO 6: fork the clients and wait for them
  { id: "stub-6", todo: 6, stub: true, caughtBy: "m5", hint: "h5" },
  {
    id: "one-at-a-time",
    todo: 6,
    file: "multi-client.ts",
    what: "forks a child, waits for it to exit, then forks the next",
    edits: [
      {
        find: "  const children = Array.from({ length: opts.clients }, (_, i) => fork(CHILD_SCRIPT, childArgs(i + 1, opts), { execArgv: CHILD_EXEC_ARGV }));\n  const codes = await Promise.all(children.map(async (child) => ((await once(child, \"exit\")) as [number | null])[0] ?? 1));",
        replace: "  const codes: number[] = [];\n  for (let i = 0; i < opts.clients; i++) {\n    const child = fork(CHILD_SCRIPT, childArgs(i + 1, opts), { execArgv: CHILD_EXEC_ARGV });\n    codes.push(((await once(child, \"exit\")) as [number | null])[0] ?? 1);\n  }",
      },
    ],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "parent-does-not-wait",
    todo: 6,
    file: "multi-client.ts",
    what: "forks the children and returns at once, without waiting for them",
    edits: [
      {
        find: "  const codes = await Promise.all(children.map(async (child) => ((await once(child, \"exit\")) as [number | null])[0] ?? 1));",
        replace: "  const codes = children.map(() => 0);",
      },
    ],
    caughtBy: "m5",
    hint: "h5",
  },

  {
    id: "numbered-from-0",
    todo: 6,
    file: "multi-client.ts",
    what: "numbers the children from 0, C loop style (childArgs(i, opts)), so there is a client 0 and no client N",
    edits: [{ find: "fork(CHILD_SCRIPT, childArgs(i + 1, opts), { execArgv: CHILD_EXEC_ARGV })", replace: "fork(CHILD_SCRIPT, childArgs(i, opts), { execArgv: CHILD_EXEC_ARGV })" }],
    caughtBy: "m5",
    hint: "h5",
  },

  // TODO 7: one client
  { id: "stub-7", todo: 7, stub: true, caughtBy: "m5", hint: "h5" },
  {
    id: "c-message",
    todo: 7,
    file: "multi-client.ts",
    what: "sends the C program's \"hello\\n\", the same for every child",
    edits: [{ find: "  socket.write(messageOf(n));", replace: "  socket.write(\"hello\\n\");" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "no-reply-awaited",
    todo: 7,
    file: "multi-client.ts",
    what: "sends the message and exits without waiting for the reply",
    edits: [{ find: "  const chunk = await reply;\n  if (chunk === null) {\n    console.log(`[Client ${n}] [ERROR] the connection closed before the reply`);\n    return 1;\n  }\n  console.log(`[Client ${n}] [SERVER MESSAGE] ${chunk.toString().replace(/\\n$/, \"\")}`);\n", replace: "" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "waits-for-data-only",
    todo: 7,
    file: "multi-client.ts",
    what: "waits for the reply with once(socket, \"data\") alone, so a connection that closes without a reply is never reported",
    edits: [
      {
        find: "  const reply = new Promise<Buffer | null>((resolve) => {\n    socket.once(\"data\", resolve);\n    socket.once(\"close\", () => resolve(null));\n  });",
        replace: "  const reply = (once(socket, \"data\") as Promise<[Buffer]>).then(([chunk]) => chunk as Buffer | null);",
      },
    ],
    caughtBy: "m5",
    hint: "h5",
  },
]);
