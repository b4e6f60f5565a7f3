// Stage 13's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ files.
import { catalogue } from "@xps/course/mistakes";

export const mistakes = catalogue([
  // TODO 1: create the session and its client pipes
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "client-sink-not-ready",
    todo: 1,
    file: "session.ts",
    what: "the client sink does not start ready, so the session never takes what the client sends",
    edits: [{ find: "  session.clientSink.ready = true;\n", replace: "" }],
    caughtBy: "m6",
    hint: "h6",
  },
  {
    id: "file-sink-not-ready",
    todo: 1,
    file: "session.ts",
    what: "the file sink does not start ready, so the first chunk of the file is never taken",
    edits: [{ find: "  session.fileSink.ready = true;\n", replace: "" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "not-registered",
    todo: 1,
    file: "session.ts",
    what: "the session is never added to core.sessions, so nobody can count or stop it",
    edits: [{ find: "  core.sessions.add(session);\n", replace: "" }],
    caughtBy: "m5",
    hint: "h5",
  },

  // TODO 2: attach what serves the client
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "no-request-pipe",
    todo: 2,
    file: "session.ts",
    what: "only the response pipe is made: the session's upstreamSource never reaches the upstream",
    edits: [{ find: "  const request = pipeCreate(core, DEFAULT_PIPE_BUFF_THRESH, session.upstreamSource, upstream.sink);\n", replace: "  const request = true;\n" }],
    caughtBy: "m7",
    hint: "h7",
    check: "the backend of the client's port: an upstream, a file",
  },
  {
    id: "no-file-pipe",
    todo: 2,
    file: "session.ts",
    what: "the file is created but never joined to the session's fileSink",
    edits: [{ find: "    if (pipeCreate(core, DEFAULT_PIPE_BUFF_THRESH, file.source, session.fileSink) === null) {", replace: "    if (false) {" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "file-error-ignored",
    todo: 2,
    file: "session.ts",
    what: "when the file cannot be served the session carries on without a backend, so the client waits for a file that never comes",
    edits: [
      {
        find: "      logger(\"ERROR\", \"sessionCreate()\", `fileCreate() failed (${resultName(error)})`);\n      sessionDestroy(session);\n      return false;\n",
        replace: "      logger(\"ERROR\", \"sessionCreate()\", `fileCreate() failed (${resultName(error)})`);\n      return true;\n",
      },
    ],
    caughtBy: "m2",
    hint: "h2",
  },

  // TODO 3: hand one buffer on
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "sinks-stay-closed",
    todo: 3,
    file: "session.ts",
    what: "setToClientBuff(null) leaves the upstream sink not ready, so a response stops after its first chunk",
    edits: [{ find: "  session.upstreamSink.ready = !held;\n", replace: "  if (held) session.upstreamSink.ready = false;\n" }],
    caughtBy: "m7",
    hint: "h7",
    check: "the one-buffer handoff: each buffer decides who may run",
  },
  {
    id: "client-sink-stays-closed",
    todo: 3,
    file: "session.ts",
    what: "setFromClientBuff(null) leaves the client sink not ready, so a request stops after its first chunk",
    edits: [{ find: "  session.clientSink.ready = !held;\n", replace: "  if (held) session.clientSink.ready = false;\n" }],
    caughtBy: "m7",
    hint: "h7",
    check: "the one-buffer handoff: each buffer decides who may run",
  },

  {
    id: "source-flag-forgotten",
    todo: 3,
    file: "session.ts",
    what: "setToClientBuff flips the sinks but forgets the client source's ready flag, so a held buffer is never written towards the client",
    edits: [{ find: "  session.clientSource.ready = held;\n", replace: "" }],
    caughtBy: "m2",
    hint: "h2",
  },

  // TODO 4: carry the client's bytes to the upstream
  { id: "stub-4", todo: 4, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "reads-without-taking",
    todo: 4,
    file: "session.ts",
    what: "the client sink peeks at the chunk (pipeSinkRead) without clearing it from the pipe, so it is taken again and again",
    edits: [{ find: "  const chunk = takeChunk(sink, \"clientSinkHandler()\");\n", replace: "  const chunk = pipeSinkRead(sink);\n" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "rest-dropped",
    todo: 4,
    file: "session.ts",
    what: "what did not fit into the upstream's pipe is dropped instead of kept for the next call",
    edits: [{ find: "  setFromClientBuff(session, rest);\n", replace: "  setFromClientBuff(session, null);\n" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "parks-without-upstream",
    todo: 4,
    file: "session.ts",
    what: "with no upstream the client's chunk is parked as in the C course, so the client's pipe fills and its FIN is never seen",
    edits: [{ find: "  if (chunk === null || sink.ptr.upstream === null) return;\n", replace: "  if (chunk === null) return;\n" }],
    caughtBy: "m6",
    hint: "h6",
  },

  // TODO 5: carry the response or the file to the client
  { id: "stub-5", todo: 5, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "file-chunk-not-cleared",
    todo: 5,
    file: "session.ts",
    what: "the file sink peeks at the chunk without clearing it from the pipe, so the client gets it again and again",
    edits: [{ find: "  const chunk = takeChunk(sink, \"fileSinkHandler()\");\n", replace: "  const chunk = pipeSinkRead(sink);\n" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "write-ignores-room",
    todo: 5,
    file: "session.ts",
    what: "the buffer for the client is written whole, whatever room its pipe has left",
    edits: [{ find: "  setToClientBuff(session, writeSome(source, buff));\n", replace: "  pipeSourceWrite(source, buff);\n  setToClientBuff(session, null);\n" }],
    caughtBy: "m8",
    hint: "h8",
  },

  {
    id: "rest-of-buffer-lost",
    todo: 5,
    file: "session.ts",
    what: "C habit of ignoring send()'s count: the client source writes what fits and then drops the buffer (setToClientBuff(null)), so the part that did not fit is lost",
    edits: [{ find: "  setToClientBuff(session, writeSome(source, buff));\n", replace: "  writeSome(source, buff);\n  setToClientBuff(session, null);\n" }],
    caughtBy: "m8",
    hint: "h8",
  },

  // TODO 6: end the session once no flow can continue
  { id: "stub-6", todo: 6, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "never-destroys",
    todo: 6,
    file: "session.ts",
    what: "sessionCheckDestroy never destroys the session",
    edits: [{ find: "  if (clientToUpstream || upstreamToClient || fileToClient) return false;\n", replace: "  return false;\n" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "any-flow-over",
    todo: 6,
    file: "session.ts",
    what: "the session ends as soon as any one of its flows cannot continue",
    edits: [{ find: "  if (clientToUpstream || upstreamToClient || fileToClient) return false;\n", replace: "  if (clientToUpstream && upstreamToClient && fileToClient) return false;\n" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "request-flow-outlives-upstream",
    todo: 6,
    file: "session.ts",
    what: "the C course's client -> upstream flow as it is: it stays possible after the upstream has finished, so the session (and the client) outlive the response",
    edits: [{ find: " && (clientSink.active || session.fromClientBuff !== null) && upstreamSink.active;\n", replace: " && (clientSink.active || session.fromClientBuff !== null);\n" }],
    caughtBy: "m7",
    hint: "h7",
    check: "which flows can continue decides when a session ends",
  },
  {
    id: "client-close-no-check",
    todo: 6,
    file: "session.ts",
    what: "the close handlers of the client and file ends do nothing, so a session whose client has gone is never checked",
    edits: [{ find: "  sessionCheckDestroy(end.ptr);\n", replace: "" }],
    caughtBy: "m6",
    hint: "h6",
  },

  // TODO 7: destroy the session
  { id: "stub-7", todo: 7, stub: true, caughtBy: "m7", hint: "h7", check: "which flows can continue decides when a session ends" },
  {
    id: "not-removed",
    todo: 7,
    file: "session.ts",
    what: "a destroyed session stays in core.sessions",
    edits: [{ find: "  session.toClientBuff = null;\n  session.fromClientBuff = null;\n  session.core.sessions.remove(session);\n", replace: "  session.toClientBuff = null;\n  session.fromClientBuff = null;\n" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "ends-not-destroyed",
    todo: 7,
    file: "session.ts",
    what: "the session's ends stay in their pipes, so the pipe rules never close the client",
    edits: [
      {
        find: "  pipeSourceDestroy(session.clientSource);\n  pipeSinkDestroy(session.clientSink);\n  pipeSourceDestroy(session.upstreamSource);\n  pipeSinkDestroy(session.upstreamSink);\n  pipeSinkDestroy(session.fileSink);\n",
        replace: "",
      },
    ],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "file-sink-forgotten",
    todo: 7,
    file: "session.ts",
    what: "destroys the four ends of a proxy session and forgets the file sink, so the file's pipe keeps its sink and the file is never closed",
    edits: [{ find: "  pipeSinkDestroy(session.upstreamSink);\n  pipeSinkDestroy(session.fileSink);\n", replace: "  pipeSinkDestroy(session.upstreamSink);\n" }],
    caughtBy: "m5",
    hint: "h5",
  },
]);
