// Stage 18's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ files.
import { catalogue } from "@xps/course/mistakes";

export const mistakes = catalogue([
  // TODO 1: write the address as a person does
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "no-normalizing",
    todo: 1,
    file: "config.ts",
    what: "the address is kept as the socket reports it, so on a :: bind 127.0.0.2 arrives as ::ffff:127.0.0.2 and matches no entry",
    edits: [{ find: "  return mapped !== null ? mapped[1]! : lower;", replace: "  return address;" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "prefix-case-sensitive",
    todo: 1,
    file: "config.ts",
    what: "only a lower-case ::ffff: prefix is taken off, so the entry ::FFFF:127.0.0.3 never matches",
    edits: [{ find: "  const lower = address.trim().toLowerCase();", replace: "  const lower = address.trim();" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "after-last-colon",
    todo: 1,
    file: "config.ts",
    what: "everything up to the last colon is cut off, which turns ::1 into 1",
    edits: [{ find: "  return mapped !== null ? mapped[1]! : lower;", replace: '  return lower.slice(lower.lastIndexOf(":") + 1);' }],
    caughtBy: "m3",
    hint: "h3",
  },

  // TODO 2: allow or deny
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "deny-list-first",
    todo: 2,
    file: "config.ts",
    what: "the deny list is read first, so an address on both lists is turned away",
    edits: [
      {
        find: "  if (lookup.ipWhitelist.length > 0) return lookup.ipWhitelist.includes(ip) ? null : `client ip ${ip} is not whitelisted`;\n  if (lookup.ipBlacklist.includes(ip)) return `client ip ${ip} is blacklisted`;",
        replace: "  if (lookup.ipBlacklist.includes(ip)) return `client ip ${ip} is blacklisted`;\n  if (lookup.ipWhitelist.length > 0) return lookup.ipWhitelist.includes(ip) ? null : `client ip ${ip} is not whitelisted`;",
      },
    ],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "whitelist-only-alone",
    todo: 2,
    file: "config.ts",
    what: "the allow list is read only when there is no deny list, so with both an address on neither gets in",
    edits: [{ find: "  if (lookup.ipWhitelist.length > 0) return", replace: "  if (lookup.ipWhitelist.length > 0 && lookup.ipBlacklist.length === 0) return" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "client-not-normalized",
    todo: 2,
    file: "config.ts",
    what: "the client's address is compared as the socket reports it (the list entries were normalized, the client was not)",
    edits: [{ find: "  const ip = normalizeIp(remoteIp);", replace: "  const ip = remoteIp;" }],
    caughtBy: "m3",
    hint: "h3",
  },

  // TODO 3: turn away who may not come in
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "logged-only",
    todo: 3,
    file: "session.ts",
    what: "the refusal is logged but the request is served anyway",
    edits: [{ find: "  sessionSendAnswer(session, req, refusal(403, why));\n  return false;", replace: "  return true;" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "closed-without-reply",
    todo: 3,
    file: "session.ts",
    what: "a refused client is closed without a reply: it cannot tell a refusal from a crash",
    edits: [{ find: "  sessionSendAnswer(session, req, refusal(403, why));\n  return false;", replace: "  sessionDestroy(session);\n  return false;" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "403-by-hand",
    todo: 3,
    file: "session.ts",
    what: "the 403 is a bare status line: no Server, no Content-Length, no Connection: close",
    edits: [{ find: "  sessionSendAnswer(session, req, refusal(403, why));\n  return false;", replace: '  setToClientBuff(session, Buffer.from("HTTP/1.1 403 Forbidden\\r\\n\\r\\n"));\n  return false;' }],
    caughtBy: "m1",
    hint: "h1",
  },
]);
