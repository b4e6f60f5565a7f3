// Stage 9's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ files.
import { catalogue } from "@xps/course/mistakes";

const FIRST_WALK = `    if (c === null || c === undefined) continue;
    if (c.readReady) loopCall(loop, c, c.recvHandler);
    if (items[i] === c && c.writeReady && c.writeBuffList.len > 0) loopCall(loop, c, c.sendHandler);
`;
const SECOND_WALK = "    if (c !== null && (c.readReady || (c.writeReady && c.writeBuffList.len > 0))) return true;";

export const mistakes = catalogue([
  // TODO 1: the read handler clears read_ready on E_AGAIN
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "read-ready-never-cleared",
    todo: 1,
    file: "connection.ts",
    what: "readReady is never cleared, so the pass keeps calling the read handler of an idle client",
    edits: [{ find: "  if (got === E_AGAIN) {\n    connection.readReady = false;\n    return;\n  }", replace: "  if (got === E_AGAIN) return;" }],
    caughtBy: "m6",
    hint: "h6",
  },
  {
    id: "read-ready-cleared-after-read",
    todo: 1,
    file: "connection.ts",
    what: "readReady is cleared after every read, the level-triggered way: what is already queued waits for an edge that does not come",
    edits: [{ find: "  connection.writeBuffList.append(reverseMessage(got));\n}", replace: "  connection.writeBuffList.append(reverseMessage(got));\n  connection.readReady = false;\n}" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "eof-ignored",
    todo: 1,
    file: "connection.ts",
    what: "E_EOF is treated like E_AGAIN (the flag is cleared and nothing else), so a client that leaves is never closed",
    edits: [{ find: '  if (got === E_EOF) {\n    connectionClose(connection, "peer closed connection");\n    return;\n  }', replace: "  if (got === E_EOF) {\n    connection.readReady = false;\n    return;\n  }" }],
    caughtBy: "m3",
    hint: "h3",
  },

  // TODO 2: the write handler clears write_ready on E_AGAIN
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "write-ready-never-cleared",
    todo: 2,
    file: "connection.ts",
    what: "writeReady stays set when the socket takes nothing more, so the pass spins while a client's replies wait",
    edits: [{ find: "  if (sent === E_AGAIN) {\n    connection.writeReady = false;\n    return;\n  }", replace: "  if (sent === E_AGAIN) return;" }],
    caughtBy: "m6",
    hint: "h6",
  },
  {
    id: "write-ready-cleared-after-send",
    todo: 2,
    file: "connection.ts",
    what: "writeReady is cleared after every send, but 'drain' only comes after a refusal, so the next reply is never sent",
    edits: [{ find: "  list.clear(sent);\n}", replace: "  list.clear(sent);\n  connection.writeReady = false;\n}" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "clears-whole-chunk",
    todo: 2,
    file: "connection.ts",
    what: "after a partial send the whole chunk is cleared, and the rest of the reply is lost",
    edits: [{ find: "  list.clear(sent);\n}", replace: "  list.clear(chunk.length);\n}" }],
    caughtBy: "m5",
    hint: "h5",
  },

  // TODO 3: the loop callbacks only set the flags
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "write-callback-sets-read",
    todo: 3,
    file: "connection.ts",
    what: "the write callback sets readReady (copied from the read callback), so a socket that drained is never written again",
    edits: [{ find: "function connectionLoopWriteHandler(connection: Connection): void {\n  connection.writeReady = true;", replace: "function connectionLoopWriteHandler(connection: Connection): void {\n  connection.readReady = true;" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "read-callback-sets-write",
    todo: 3,
    file: "connection.ts",
    what: "the read callback sets writeReady, so nothing is ever read",
    edits: [{ find: "  // handle_connections calls the handlers.\n  connection.readReady = true;", replace: "  // handle_connections calls the handlers.\n  connection.writeReady = true;" }],
    caughtBy: "m1",
    hint: "h1",
  },

  {
    id: "event-as-mask",
    todo: 3,
    file: "connection.ts",
    what: "C habit of an event mask (events = EPOLLIN): the read callback sets readReady and clears writeReady, so a reply waits for a write edge that never comes",
    edits: [{ find: "  // handle_connections calls the handlers.\n  connection.readReady = true;", replace: "  // handle_connections calls the handlers.\n  connection.readReady = true;\n  connection.writeReady = false;" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 4: handle_connections
  { id: "stub-4", todo: 4, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "pass-returns-false",
    todo: 4,
    file: "handle-connections.ts",
    what: "the pass always returns false, so the loop only runs it again on the next event",
    edits: [{ find: SECOND_WALK, replace: "    if (c !== null && c === undefined) return true;" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "pass-returns-true",
    todo: 4,
    file: "handle-connections.ts",
    what: "the pass always returns true (as if epoll_wait always had work), so the loop never blocks",
    edits: [{ find: SECOND_WALK, replace: "    if (c !== null) return true;" }],
    caughtBy: "m6",
    hint: "h6",
  },
  {
    id: "write-ready-alone",
    todo: 4,
    file: "handle-connections.ts",
    what: "the second walk counts writeReady without asking whether anything is queued",
    edits: [{ find: SECOND_WALK, replace: "    if (c !== null && (c.readReady || c.writeReady)) return true;" }],
    caughtBy: "m6",
    hint: "h6",
  },
  {
    id: "stops-at-empty-slot",
    todo: 4,
    file: "handle-connections.ts",
    what: "the first walk stops at the first empty slot, as a C loop over a NULL-terminated array does",
    edits: [{ find: "    if (c === null || c === undefined) continue;\n", replace: "    if (c === null || c === undefined) break;\n" }],
    caughtBy: "m7",
    hint: "h7",
  },
  {
    id: "no-null-check",
    todo: 4,
    file: "handle-connections.ts",
    what: "the first walk reads the flags of empty slots that destroyed connections left, and the pass throws",
    edits: [{ find: "    if (c === null || c === undefined) continue;\n", replace: "" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "one-connection-per-pass",
    todo: 4,
    file: "handle-connections.ts",
    what: "the pass returns false as soon as it has served one connection",
    edits: [{ find: FIRST_WALK, replace: `${FIRST_WALK}    if (c.readReady || c.writeBuffList.len === 0) return false;\n` }],
    caughtBy: "m7",
    hint: "h7",
  },
]);
