// Stage 12's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ files.
import { catalogue } from "@xps/course/mistakes";

export const mistakes = catalogue([
  // TODO 1: resolve the path and keep it inside public/
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "prefix-without-boundary",
    todo: 1,
    file: "file.ts",
    what: "the real path only has to start with the public folder's, so public-secret/ passes as public/",
    edits: [{ find: "  if (!isInside(real, root)) {\n", replace: "  if (!real.startsWith(root)) {\n" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "resolve-not-realpath",
    todo: 1,
    file: "file.ts",
    what: "the file's path is made absolute (path.resolve) instead of real, so a symbolic link out of public/ passes",
    edits: [{ find: "    real = fs.realpathSync.native(filePath);\n", replace: "    real = path.resolve(filePath);\n" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "missing-is-e-fail",
    todo: 1,
    file: "file.ts",
    what: "a file that realpath cannot find is refused with E_FAIL, as in the C course, instead of E_NOTFOUND (stage 14 needs its 404)",
    edits: [{ find: "    logger(\"ERROR\", \"fileCreate()\", `realpath() failed for ${filePath}: ${fsReason(err)}`);\n    return fileErrorCode(err);\n", replace: "    logger(\"ERROR\", \"fileCreate()\", `realpath() failed for ${filePath}: ${fsReason(err)}`);\n    return E_FAIL;\n" }],
    caughtBy: "m6",
    hint: "h5",
    check: "a file others may not read, a missing file, a missing public folder, a folder",
  },

  // TODO 2: check the file, open it, and make its source
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "no-others-read-check",
    todo: 2,
    file: "file.ts",
    what: "the others-read bit is never looked at, so a file of mode 640 is served",
    edits: [{ find: "  if ((stat.mode & fs.constants.S_IROTH) === 0) {", replace: "  if (false) {" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "owner-read-bit",
    todo: 2,
    file: "file.ts",
    what: "the owner's read bit (S_IRUSR) is checked instead of the others' (S_IROTH)",
    edits: [{ find: "  if ((stat.mode & fs.constants.S_IROTH) === 0) {", replace: "  if ((stat.mode & fs.constants.S_IRUSR) === 0) {" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "source-not-ready",
    todo: 2,
    file: "file.ts",
    what: "the new file's source is not marked ready, so its handler is never called and nothing is read",
    edits: [{ find: "  file.source.ready = true;\n  logger(\"DEBUG\", \"fileCreate()\", \"created file\");\n", replace: "  logger(\"DEBUG\", \"fileCreate()\", \"created file\");\n" }],
    caughtBy: "m1",
    hint: "h3",
  },

  // TODO 3: read the file into the pipe
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "read-ignores-room",
    todo: 3,
    file: "file.ts",
    what: "every read asks for DEFAULT_BUFFER_SIZE bytes, whatever room the pipe has left, so the pipe overshoots its threshold",
    edits: [{ find: "  const want = Math.min(DEFAULT_BUFFER_SIZE, pipeRoom(pipe));\n", replace: "  const want = DEFAULT_BUFFER_SIZE;\n" }],
    caughtBy: "m3",
    hint: "h2",
  },
  {
    id: "reads-the-rest",
    todo: 3,
    file: "file.ts",
    what: "one read asks for the rest of the file at once",
    edits: [{ find: "  const want = Math.min(DEFAULT_BUFFER_SIZE, pipeRoom(pipe));\n", replace: "  const want = file.size - file.position;\n" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "eof-not-destroyed",
    todo: 3,
    file: "file.ts",
    what: "the end of the file is not the end of the stream: the file is not destroyed, so the client is never closed",
    edits: [{ find: "  if (file.eof) {\n    fileDestroy(file);\n    return;\n  }\n", replace: "" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 4: take a finished read
  { id: "stub-4", todo: 4, stub: true, caughtBy: "m1", hint: "h3" },
  {
    id: "no-loop-schedule",
    todo: 4,
    file: "file.ts",
    what: "a finished read marks the source ready but does not tell the loop, which sleeps with the bytes parked",
    edits: [{ find: "  file.source.ready = true;\n  loopSchedule(file.core.loop);\n", replace: "  file.source.ready = true;\n" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "ready-not-restored",
    todo: 4,
    file: "file.ts",
    what: "a finished read schedules a pass but leaves the source not ready, so its chunk is never put into the pipe",
    edits: [{ find: "  file.source.ready = true;\n  loopSchedule(file.core.loop);\n", replace: "  loopSchedule(file.core.loop);\n" }],
    caughtBy: "m1",
    hint: "h3",
  },

  {
    id: "whole-buffer",
    todo: 4,
    file: "file.ts",
    what: "C habit of ignoring read()'s count: parks the whole buffer, so a short read sends the stale bytes after the n it read",
    edits: [{ find: "    file.chunk = n === buffer.length ? buffer : buffer.subarray(0, n);\n", replace: "    file.chunk = buffer;\n" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 5: destroy the file
  { id: "stub-5", todo: 5, stub: true, caughtBy: "m4", hint: "h4" },
  {
    id: "fd-not-closed",
    todo: 5,
    file: "file.ts",
    what: "fileDestroy leaves the descriptor open",
    edits: [{ find: "  if (!file.reading) closeFd(file);\n", replace: "" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "close-handler-does-nothing",
    todo: 5,
    file: "file.ts",
    what: "when the pipe loses the client, the file is left as it is: nobody destroys it",
    edits: [{ find: "  fileDestroy(source.ptr);\n", replace: "" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "source-not-destroyed",
    todo: 5,
    file: "file.ts",
    what: "fileDestroy closes the file but its source stays in the pipe, so the client is never told the file has ended",
    edits: [{ find: "  pipeSourceDestroy(file.source);\n", replace: "" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 6: look up a MIME type
  { id: "stub-6", todo: 6, stub: true, caughtBy: "m8", hint: "h6" },
  {
    id: "ext-ignores-slash",
    todo: 6,
    file: "mime.ts",
    what: "the extension is taken from the last dot even when a slash comes after it (a.d/README)",
    edits: [{ find: "  if (dot < 0 || dot < filePath.lastIndexOf(\"/\")) return null;\n", replace: "  if (dot < 0) return null;\n" }],
    caughtBy: "m8",
    hint: "h6",
    check: "getFileExt: the last dot, after the last slash, dot included",
  },
  {
    id: "ext-without-dot",
    todo: 6,
    file: "mime.ts",
    what: "the extension loses its dot, so no key of the table ever matches",
    edits: [{ find: "  return filePath.slice(dot);\n", replace: "  return filePath.slice(dot + 1);\n" }],
    caughtBy: "m8",
    hint: "h6",
  },
  {
    id: "last-match",
    todo: 6,
    file: "mime.ts",
    what: "the lookup keeps the last matching row instead of the first",
    edits: [
      { find: "  for (const row of MIME_TYPES) {\n    if (row.key === ext) return row.val;\n  }\n  return null;\n", replace: "  let found: string | null = null;\n  for (const row of MIME_TYPES) {\n    if (row.key === ext) found = row.val;\n  }\n  return found;\n" },
    ],
    caughtBy: "m8",
    hint: "h6",
    check: "the first exact match in the table, and no match",
  },

  // TODO 7: send a file to a client
  { id: "stub-7", todo: 7, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "refused-client-left-open",
    todo: 7,
    file: "routes.ts",
    what: "when the file cannot be served, the route returns without closing the client, which waits for ever",
    edits: [{ find: "    connectionClose(client, false, resultName(error), `${filePath} cannot be served`);\n", replace: "" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "bigger-threshold",
    todo: 7,
    file: "routes.ts",
    what: "the file's pipe gets a larger threshold, for speed",
    edits: [{ find: "pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, file.source, client.sink)", replace: "pipeCreate(client.core, 16 * DEFAULT_PIPE_BUFF_THRESH, file.source, client.sink)" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "result-unchecked",
    todo: 7,
    file: "routes.ts",
    what: "fileCreate's result is not checked, C style: a file that cannot be served reaches pipeCreate as null, and the handler throws",
    edits: [
      {
        find: "  if (file === null) {\n    connectionClose(client, false, resultName(error), `${filePath} cannot be served`);\n    return;\n  }\n  if (pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, file.source, client.sink) === null) {",
        replace: "  void error;\n  if (pipeCreate(client.core, DEFAULT_PIPE_BUFF_THRESH, file!.source, client.sink) === null) {",
      },
    ],
    caughtBy: "m5",
    hint: "h5",
  },
]);
