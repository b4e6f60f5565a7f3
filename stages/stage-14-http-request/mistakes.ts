// Stage 14's mistakes catalogue: wrong solutions a learner writes, many of
// them habits from the C course, and the milestone that must catch each
// one (verify proves it; see packages/course/src/mistakes.ts). The edits
// apply to the solved src/ files.
import { catalogue } from "@xps/course/mistakes";

export const mistakes = catalogue([
  // TODO 1: read the method
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m5", hint: "h5" },
  {
    id: "any-method",
    todo: 1,
    file: "http.ts",
    what: "any run of capitals is taken as a method, so GOT is served (as a 405) instead of refused with 400",
    edits: [{ find: "      if (req.methodN === null) return parseFail(req, `unknown method ${JSON.stringify(name)}`, req.methodStart);\n", replace: "" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "spaces-after-method",
    todo: 1,
    file: "http.ts",
    what: "spaces after the method are skipped, as the C text's RL_SP_AFTER_METHOD does, so GET  / is accepted",
    edits: [{ find: "    default: // RL_SP_AFTER_METHOD\n      if (c === 0x2f) {", replace: "    default: // RL_SP_AFTER_METHOD\n      if (c === SP) return E_AGAIN;\n      if (c === 0x2f) {" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "cr-lf-skipped",
    todo: 1,
    file: "http.ts",
    what: "every CR and LF before the request line is skipped, a bare CR too (the C text skips both)",
    edits: [{ find: "      if (c === CR) {\n        req.parserState = RL_START_CR;\n        return E_AGAIN;\n      }\n", replace: "      if (c === CR || c === LF) return E_AGAIN;\n" }],
    caughtBy: "m5",
    hint: "h5",
  },

  // TODO 2: read the request target
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m5", hint: "h5" },
  {
    id: "pathname-stops-at-equals",
    todo: 2,
    file: "http.ts",
    what: "the pathname ends at & and = as well as ? and # (the C text's list), so /a=b.txt names the file /a",
    edits: [{ find: "      if (c === 0x3f || c === 0x23) {", replace: "      if (c === 0x3f || c === 0x23 || c === 0x26 || c === 0x3d) {" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "path-any-byte",
    todo: 2,
    file: "http.ts",
    what: "the path takes every byte but a space, CR and LF (the C text's rule), control bytes and raw bytes from 0x80 on included",
    edits: [{ find: "      if (isVisible(c)) return E_AGAIN;\n      return parseFail(req, `a path is visible ASCII", replace: "      if (c !== CR && c !== LF) return E_AGAIN;\n      return parseFail(req, `a path is visible ASCII" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "port-in-host",
    todo: 2,
    file: "http.ts",
    what: "the host takes the colon and the port as part of the name",
    edits: [{ find: "      if (req.parserState === RL_HOST && isHostChar(c)) return E_AGAIN;", replace: "      if (req.parserState === RL_HOST && (isHostChar(c) || isDigit(c) || c === 0x3a)) return E_AGAIN;" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 3: read the version and the end of the line
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m5", hint: "h5" },
  {
    id: "any-minor",
    todo: 3,
    file: "http.ts",
    what: "any digit is taken as the minor version, so HTTP/1.2 is accepted",
    edits: [{ find: "      if (c !== 0x30 && c !== 0x31) return parseFail(", replace: "      if (!isDigit(c)) return parseFail(" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "bare-lf-ends-line",
    todo: 3,
    file: "http.ts",
    what: "a bare LF ends the request line, as in the C text (RL_VERSION_MINOR goes to RL_LF)",
    edits: [
      {
        find: "      if (c !== CR) return parseFail(req, `the request line ends with CRLF right after the version, not ${showByte(c)}`, i);\n",
        replace: "      if (c === LF) {\n        req.requestLineEnd = i;\n        req.parserState = H_START;\n        return OK;\n      }\n      if (c !== CR) return parseFail(req, `the request line ends with CRLF right after the version, not ${showByte(c)}`, i);\n",
      },
    ],
    caughtBy: "m5",
    hint: "h5",
  },

  {
    id: "major-marks-the-slash",
    todo: 3,
    file: "http.ts",
    what: "off by one: the version's mark is set on the slash, one state early, so the version reads \"/1.1\"",
    edits: [
      { find: "    case RL_VERSION_HTTP:\n      return expect(0x2f, RL_VERSION_HTTP_SLASH);", replace: "    case RL_VERSION_HTTP:\n      req.httpMajor = i;\n      return expect(0x2f, RL_VERSION_HTTP_SLASH);" },
      { find: "    case RL_VERSION_HTTP_SLASH:\n      req.httpMajor = i;\n", replace: "    case RL_VERSION_HTTP_SLASH:\n" },
    ],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 4: read one header line
  { id: "stub-4", todo: 4, stub: true, caughtBy: "m5", hint: "h5" },
  {
    id: "space-before-colon",
    todo: 4,
    file: "http.ts",
    what: "a space before the colon is taken as part of the name",
    edits: [{ find: "    case H_NAME:\n      if (isTokenChar(c)) return E_AGAIN;", replace: "    case H_NAME:\n      if (isTokenChar(c) || c === SP) return E_AGAIN;" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "obs-fold-accepted",
    todo: 4,
    file: "http.ts",
    what: "a line that starts with a space continues the previous value (obs-fold), as old servers did",
    edits: [
      {
        find: '      if (c === SP || c === HTAB) return parseFail(req, "a header line starts with a space or a tab (obs-fold, a value folded onto the next line)", i);',
        replace: "      if (c === SP || c === HTAB) {\n        req.parserState = H_VAL;\n        return E_AGAIN;\n      }",
      },
    ],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "bare-lf-ends-header",
    todo: 4,
    file: "http.ts",
    what: "a bare LF ends a header line (the C text's H_VAL goes to H_LF on LF)",
    edits: [{ find: "    case H_VAL:\n      if (c === CR) {\n        req.parserState = H_CR;", replace: "    case H_VAL:\n      if (c === CR || c === LF) {\n        req.parserState = c === CR ? H_CR : H_LF;" }],
    caughtBy: "m5",
    hint: "h5",
  },

  // TODO 5: find a header, whatever its case
  { id: "stub-5", todo: 5, stub: true, caughtBy: "m5", hint: "h5" },
  {
    id: "case-sensitive",
    todo: 5,
    file: "http.ts",
    what: "names are compared exactly, as strcmp does, so host does not find Host",
    edits: [{ find: "    if (h.key.toLowerCase() === want) return h.val;", replace: "    if (h.key === key) return h.val;" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "last-match",
    todo: 5,
    file: "http.ts",
    what: "the search goes on after a match, so the last header of that name wins",
    edits: [{ find: "  const want = key.toLowerCase();\n  for (const h of headers) {\n    if (h.key.toLowerCase() === want) return h.val;\n  }\n  return null;", replace: "  const want = key.toLowerCase();\n  let found: string | null = null;\n  for (const h of headers) {\n    if (h.key.toLowerCase() === want) found = h.val;\n  }\n  return found;" }],
    caughtBy: "m2",
    hint: "h2",
  },

  {
    id: "strncmp-prefix",
    todo: 5,
    file: "http.ts",
    what: "C habit of strncmp with the key's length: a header whose name starts with the key matches, so \"Hos\" finds Host",
    edits: [{ find: "    if (h.key.toLowerCase() === want) return h.val;", replace: "    if (h.key.toLowerCase().startsWith(want)) return h.val;" }],
    caughtBy: "m2",
    hint: "h2",
  },

  // TODO 6: copy out the request line's parts
  { id: "stub-6", todo: 6, stub: true, caughtBy: "m5", hint: "h5" },
  {
    id: "port-always-80",
    todo: 6,
    file: "http-request.ts",
    what: "a URL without a port gets 80 whatever its schema, https too",
    edits: [{ find: '(req.schema.toLowerCase() === "https" ? 443 : 80)', replace: "80" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "pathname-with-query",
    todo: 6,
    file: "http-request.ts",
    what: "the pathname is copied from the path's marks, query included, so /sample.txt?v=1 names no file",
    edits: [{ find: "  req.pathname = strFromOffsets(req, req.pathnameStart, req.pathnameEnd) || \"/\";", replace: "  req.pathname = strFromOffsets(req, req.pathStart, req.pathEnd) || \"/\";" }],
    caughtBy: "m3",
    hint: "h3",
  },

  {
    id: "version-end-exclusive",
    todo: 6,
    file: "http-request.ts",
    what: "off by one: the version is copied up to the minor digit's offset, which strFromOffsets leaves out, so it reads \"1.\"",
    edits: [{ find: "strFromOffsets(req, req.httpMajor, req.httpMinor + 1)", replace: "strFromOffsets(req, req.httpMajor, req.httpMinor)" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 7: collect the headers and check them
  { id: "stub-7", todo: 7, stub: true, caughtBy: "m5", hint: "h5" },
  {
    id: "last-header-lost",
    todo: 7,
    file: "http-request.ts",
    what: "a header is kept only on E_NEXT, so the last line of the block is lost",
    edits: [
      {
        find: "    req.headers.push({ key: strFromOffsets(req, req.headerKeyStart, req.headerKeyEnd), val: strFromOffsets(req, req.headerValStart, req.headerValEnd) });\n    if (r === E_NEXT) continue;\n    break;",
        replace: "    if (r !== E_NEXT) break;\n    req.headers.push({ key: strFromOffsets(req, req.headerKeyStart, req.headerKeyEnd), val: strFromOffsets(req, req.headerValStart, req.headerValEnd) });",
      },
    ],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "host-not-checked",
    todo: 7,
    file: "http-request.ts",
    what: "Host is never checked: an HTTP/1.1 request without one, or with two, is served",
    edits: [{ find: "  if (hosts > 1 || (hosts === 0 && req.httpVersion === \"1.1\")) return requestFail(", replace: "  if (false) return requestFail(" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "cl-and-te",
    todo: 7,
    file: "http-request.ts",
    what: "Content-Length and Transfer-Encoding together are accepted, the smuggling shape RFC 9112 says to refuse",
    edits: [{ find: "  if (length !== null && chunked !== null) return requestFail(", replace: "  if (false) return requestFail(" }],
    caughtBy: "m5",
    hint: "h5",
  },

  // TODO 8: gather the head, within the limit
  { id: "stub-8", todo: 8, stub: true, caughtBy: "m5", hint: "h5" },
  {
    id: "no-limit",
    todo: 8,
    file: "http-request.ts",
    what: "the whole chunk is appended, whatever the buffer holds: no limit, and no 431",
    edits: [
      { find: "  const take = Math.min(chunk.length, HTTP_HEAD_LIMIT - buff.len);", replace: "  const take = chunk.length;" },
      { find: "Math.min(HTTP_HEAD_LIMIT, Math.max(buff.size * 2, buff.len + take))", replace: "Math.max(buff.size * 2, buff.len + take)" },
    ],
    caughtBy: "m6",
    hint: "h6",
  },
  {
    id: "each-chunk-alone",
    todo: 8,
    file: "http-request.ts",
    what: "each chunk replaces the buffer's bytes, as C's peek of the pipe does, so a request split in two loses its start",
    edits: [{ find: "  chunk.copy(buff.data, buff.len, 0, take);\n  buff.len += take;", replace: "  chunk.copy(buff.data, 0, 0, take);\n  buff.len = take;\n  buff.pos = 0;" }],
    caughtBy: "m6",
    hint: "h6",
  },
  {
    id: "no-431",
    todo: 8,
    file: "http-request.ts",
    what: "a full buffer stays E_AGAIN: the client that sends a head too large waits for ever",
    edits: [{ find: "  if (r === E_AGAIN && buff.len >= HTTP_HEAD_LIMIT) {", replace: "  if (false) {" }],
    caughtBy: "m6",
    hint: "h6",
  },

  // TODO 9: read the request, chunk by chunk
  { id: "stub-9", todo: 9, stub: true, caughtBy: "m5", hint: "h5" },
  {
    id: "new-request-per-chunk",
    todo: 9,
    file: "session.ts",
    what: "every chunk is parsed as a new request, as the C session does with its peek",
    edits: [{ find: "  if (httpReqFeed(session.httpReq!, chunk) === E_AGAIN) return;", replace: "  session.httpReq = httpReqCreate();\n  if (httpReqFeed(session.httpReq, chunk) === E_AGAIN) return;" }],
    caughtBy: "m6",
    hint: "h6",
  },
  {
    id: "reads-without-taking",
    todo: 9,
    file: "session.ts",
    what: "the chunk is peeked (pipeSinkRead) and never cleared, so the same bytes are fed again on the next call",
    edits: [{ find: '  const chunk = takeChunk(sink, "clientSinkHandler()");\n  if (chunk === null) return;\n  if (httpReqFeed(', replace: '  const chunk = pipeSinkRead(sink);\n  if (chunk === null) return;\n  if (httpReqFeed(' }],
    caughtBy: "m6",
    hint: "h6",
  },

  {
    id: "only-ok-is-done",
    todo: 9,
    file: "session.ts",
    what: "waits for OK alone (!== OK instead of === E_AGAIN), so a request the parser refused (E_FAIL) is never answered",
    edits: [{ find: "  if (httpReqFeed(session.httpReq!, chunk) === E_AGAIN) return;", replace: "  if (httpReqFeed(session.httpReq!, chunk) !== OK) return;" }],
    caughtBy: "m5",
    hint: "h5",
  },

  // TODO 10: choose the answer
  { id: "stub-10", todo: 10, stub: true, caughtBy: "m5", hint: "h5" },
  {
    id: "all-errors-500",
    todo: 10,
    file: "session.ts",
    what: "every file that cannot be opened is a 500, a missing one too (the stage 12 realpath check gives E_FAIL in C)",
    edits: [
      {
        find: "  if (error === E_PERMISSION) return { status: 403, file: null, why: `${req.pathname} may not be served` };\n  if (error === E_NOTFOUND) return { status: 404, file: null, why: `${req.pathname} is not there` };\n",
        replace: "",
      },
    ],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "not-decoded",
    todo: 10,
    file: "session.ts",
    what: "the pathname is used as it came, %-escapes and all, so /a%20b.txt is not the file a b.txt",
    edits: [{ find: "    name = decodeURIComponent(req.pathname);", replace: "    name = req.pathname;" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "method-before-body",
    todo: 10,
    file: "session.ts",
    what: "the method is checked before the body, so a POST with a 100 MB body gets 405 instead of 413",
    edits: [
      {
        find: "  if (httpReqHasBody(req)) return { status: 413, file: null, why: \"this server takes no request body\" };\n  if (req.methodN !== \"GET\" && req.methodN !== \"HEAD\") return { status: 405, file: null, why: `${req.method} is not served here; GET and HEAD are` };\n",
        replace: "  if (req.methodN !== \"GET\" && req.methodN !== \"HEAD\") return { status: 405, file: null, why: `${req.method} is not served here; GET and HEAD are` };\n  if (httpReqHasBody(req)) return { status: 413, file: null, why: \"this server takes no request body\" };\n",
      },
    ],
    caughtBy: "m7",
    hint: "h7",
  },
]);
