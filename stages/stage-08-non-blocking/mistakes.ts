// Stage 8's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ files.
import { catalogue } from "@xps/course/mistakes";

export const mistakes = catalogue([
  // TODO 1: the read handler queues the reply
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "sends-at-once",
    todo: 1,
    file: "connection.ts",
    what: "the reply is written to the socket at once, as in stage 7, so a client that does not read makes Node queue without end",
    edits: [{ find: "  connection.writeBuffList.append(reverseMessage(got));", replace: "  connection.socket.write(reverseMessage(got));" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "queues-unreversed",
    todo: 1,
    file: "connection.ts",
    what: "the message itself is queued, not its reverse",
    edits: [{ find: "  connection.writeBuffList.append(reverseMessage(got));", replace: "  connection.writeBuffList.append(got);" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "eof-ignored",
    todo: 1,
    file: "connection.ts",
    what: "E_EOF is treated like E_AGAIN, so a client that leaves is never closed",
    edits: [{ find: '  if (got === E_EOF) {\n    connectionClose(connection, "peer closed connection");\n    return;\n  }', replace: "  if (got === E_EOF) return;" }],
    caughtBy: "m3",
    hint: "h3",
  },

  // TODO 2: the write handler
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "clears-whole-chunk",
    todo: 2,
    file: "connection.ts",
    what: "after a partial send the whole chunk is cleared, as if send() always took everything: the rest of the reply is lost",
    edits: [{ find: "  list.clear(sent);", replace: "  list.clear(chunk.length);" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "no-empty-check",
    todo: 2,
    file: "connection.ts",
    what: "the write handler does not return when nothing is queued, and the level-triggered loop calls it with an empty queue at once",
    edits: [{ find: "  if (chunk === null) return;\n", replace: "" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "never-cleared",
    todo: 2,
    file: "connection.ts",
    what: "what was sent is never cleared from write_buff_list, so the same reply is sent again and again",
    edits: [{ find: "  list.clear(sent);", replace: "" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 3: the close handler
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m3", hint: "h3" },
  {
    id: "close-handler-empty",
    todo: 3,
    file: "connection.ts",
    what: "the close handler does nothing (EPOLLHUP ignored): a client that resets stays a connection",
    edits: [{ find: '  connectionClose(connection, "peer closed connection");\n}', replace: "}" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "close-handler-socket-only",
    todo: 3,
    file: "connection.ts",
    what: "the close handler destroys the socket, not the connection, which stays in the core's list",
    edits: [{ find: '  connectionClose(connection, "peer closed connection");\n}', replace: "  connection.socket.destroy();\n}" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "close-handler-reads",
    todo: 3,
    file: "connection.ts",
    what: "C habit: leaves the hang-up to the read handler (recv() gives 0 on a hang-up in C), but a reset leaves nothing to read, so the connection stays",
    edits: [{ find: '  connectionClose(connection, "peer closed connection");\n}', replace: "  connectionReadHandler(connection);\n}" }],
    caughtBy: "m3",
    hint: "h3",
  },
]);
