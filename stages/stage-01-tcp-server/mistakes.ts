// Stage 1's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ file.
import { catalogue } from "@xps/course/mistakes";

const file = "tcp-server.ts";

export const mistakes = catalogue([
  // TODO 1: listen
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "c-listening-line",
    todo: 1,
    file,
    what: "prints the C program's line, \"Server listening on port N\", which names no address",
    edits: [{ find: "console.log(`[INFO] Server listening on http://${opts.host}:${opts.port}`);", replace: "console.log(`[INFO] Server listening on port ${opts.port}`);" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "half-open",
    todo: 1,
    file,
    what: "makes the server with allowHalfOpen: true, so a client's FIN leaves the socket open and 'close' never comes",
    edits: [{ find: "net.createServer({ pauseOnConnect: true }, onConnection)", replace: "net.createServer({ pauseOnConnect: true, allowHalfOpen: true }, onConnection)" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "port-8080-in-the-line",
    todo: 1,
    file,
    what: "listens on opts.port but prints 8080, the C program's PORT, in the listening line",
    edits: [{ find: "console.log(`[INFO] Server listening on http://${opts.host}:${opts.port}`);", replace: "console.log(`[INFO] Server listening on http://${opts.host}:8080`);" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 2: serve exactly one client
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "serves-everyone",
    todo: 2,
    file,
    what: "serves every client that connects, not just the first",
    edits: [{ find: "  if (client !== null) return;\n", replace: "" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "never-resumed",
    todo: 2,
    file,
    what: "attaches the handlers but never lets Node read the paused client",
    edits: [{ find: "  serve(socket);\n  socket.resume();\n", replace: "  serve(socket);\n" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "newest-wins",
    todo: 2,
    file,
    what: "every new client replaces the one being served",
    edits: [{ find: "  if (client !== null) return;\n  client = socket;\n", replace: "  client = socket;\n" }],
    caughtBy: "m2",
    hint: "h2",
  },

  // TODO 3: reply to each message
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "echo",
    todo: 3,
    file,
    what: "writes the chunk back as it came, not reversed",
    edits: [{ find: "    socket.write(reverse(chunk));", replace: "    socket.write(chunk);" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "through-a-string",
    todo: 3,
    file,
    what: "turns the chunk into a UTF-8 string and back, which damages bytes that are not text",
    edits: [{ find: "    socket.write(reverse(chunk));", replace: "    socket.write(reverse(Buffer.from(chunk.toString())));" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "extra-newline",
    todo: 3,
    file,
    what: "adds a newline after every reply, as printf(\"%s\\n\") would",
    edits: [{ find: "    socket.write(reverse(chunk));", replace: "    socket.write(Buffer.concat([reverse(chunk), Buffer.from(\"\\n\")]));" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 4: exit when the client leaves
  { id: "stub-4", todo: 4, stub: true, caughtBy: "m3", hint: "h3" },
  {
    id: "exit-0",
    todo: 4,
    file,
    what: "exits with code 0 when the client leaves",
    edits: [{ find: "Closing server\");\n    process.exit(1);", replace: "Closing server\");\n    process.exit(0);" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "only-on-end",
    todo: 4,
    file,
    what: "exits on 'end' only, so a client that resets (no FIN, an 'error' instead) leaves the program running",
    edits: [{ find: "  socket.on(\"close\", () => {\n    console.log(\"[INFO] Client disconnected. Closing server\");", replace: "  socket.on(\"end\", () => {\n    console.log(\"[INFO] Client disconnected. Closing server\");" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "no-error-listener",
    todo: 4,
    file,
    what: "has no 'error' listener, so a reset is thrown and crashes the program (exit code 2) instead of ending it",
    edits: [{ find: "  socket.on(\"error\", () => {\n    // 'close' follows; that is where the program ends.\n  });\n", replace: "" }],
    caughtBy: "m3",
    hint: "h3",
  },

  // TODO 5: reverse a message
  { id: "stub-5", todo: 5, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "newline-reversed-too",
    todo: 5,
    file,
    what: "reverses every byte, the final newline included",
    edits: [{ find: "  const keep = message.at(-1) === 0x0a ? 1 : 0;", replace: "  const keep = 0;" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "c-strlen-minus-one",
    todo: 5,
    file,
    what: "always keeps the last byte in place, newline or not (the C helper's strlen - 2)",
    edits: [{ find: "  const keep = message.at(-1) === 0x0a ? 1 : 0;", replace: "  const keep = message.length > 0 ? 1 : 0;" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "characters-not-bytes",
    todo: 5,
    file,
    what: "reverses the characters of the decoded text rather than the bytes",
    edits: [
      {
        find: "  const head = Buffer.from(message.subarray(0, message.length - keep)).reverse();",
        replace: "  const head = Buffer.from([...message.subarray(0, message.length - keep).toString()].reverse().join(\"\"));",
      },
    ],
    caughtBy: "m1",
    hint: "h1",
  },
]);
