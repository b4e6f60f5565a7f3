// Stage 4's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ file.
import { catalogue } from "@xps/course/mistakes";

const file = "loop-server.ts";

export const mistakes = catalogue([
  // TODO 1: accept every client
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "first-only",
    todo: 1,
    file,
    what: "keeps stage 1's rule and watches only the first client",
    edits: [{ find: "  clients.add(socket);\n  console.log", replace: "  if (clients.size > 0) return;\n  clients.add(socket);\n  console.log" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "not-in-table",
    todo: 1,
    file,
    what: "watches the client but never adds it to the table",
    edits: [{ find: "  clients.add(socket);\n", replace: "" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "counted-before-added",
    todo: 1,
    file,
    what: "prints the count before adding the client, so every line is one short",
    edits: [
      {
        find: "  clients.add(socket);\n  console.log(`[INFO] Client connected to server (${clients.size} connected)`);",
        replace: "  console.log(`[INFO] Client connected to server (${clients.size} connected)`);\n  clients.add(socket);",
      },
    ],
    caughtBy: "m3",
    hint: "h3",
  },

  // TODO 2: a client leaves
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "exits",
    todo: 2,
    file,
    what: "keeps stage 1's exit(1) when a client leaves",
    edits: [{ find: "    console.log(`[INFO] Client disconnected (${clients.size} connected)`);\n", replace: "    console.log(`[INFO] Client disconnected (${clients.size} connected)`);\n    process.exit(1);\n" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "closes-everyone",
    todo: 2,
    file,
    what: "destroys every client in the table when one of them leaves",
    edits: [{ find: "    clients.delete(socket);\n", replace: "    clients.delete(socket);\n    for (const other of clients) other.destroy();\n" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "stays-in-table",
    todo: 2,
    file,
    what: "never takes a client that left out of the table",
    edits: [{ find: "    clients.delete(socket);\n", replace: "" }],
    caughtBy: "m3",
    hint: "h3",
  },
]);
