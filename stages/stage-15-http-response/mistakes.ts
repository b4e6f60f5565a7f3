// Stage 15's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ files.
import { catalogue } from "@xps/course/mistakes";

export const mistakes = catalogue([
  // TODO 1: start the response: status line and default headers
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m3", hint: "h3" },
  {
    id: "no-reason-phrase",
    todo: 1,
    file: "http-response.ts",
    what: "the status line stops after the code (HTTP/1.1 200), with no reason phrase",
    edits: [{ find: "responseLine: `HTTP/1.1 ${code} ${HTTP_STATUS[code]}`", replace: "responseLine: `HTTP/1.1 ${code}`" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "no-cors-header",
    todo: 1,
    file: "http-response.ts",
    what: "Access-Control-Allow-Origin is left out of the default headers",
    edits: [{ find: '  httpSetHeader(res.headers, "Access-Control-Allow-Origin", "*");\n', replace: "" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "date-not-now",
    todo: 1,
    file: "http-response.ts",
    what: "the Date is written once, for a fixed instant, instead of the time the response is made",
    edits: [{ find: '  httpSetHeader(res.headers, "Date", imfDate(now));', replace: '  httpSetHeader(res.headers, "Date", imfDate(new Date(0)));' }],
    caughtBy: "m3",
    hint: "h3",
  },

  // TODO 2: write the date in IMF-fixdate
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m3", hint: "h3" },
  {
    id: "iso-date",
    todo: 2,
    file: "http-response.ts",
    what: "the date is written with toISOString (2026-01-02T03:04:05.000Z), which HTTP does not read",
    edits: [{ find: "  return `${day}, ${two(date.getUTCDate())} ${month}", replace: "  return date.toISOString() || `${day}, ${two(date.getUTCDate())} ${month}" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "local-time",
    todo: 2,
    file: "http-response.ts",
    what: "the hours come from getHours, the local time, but the string says GMT",
    edits: [{ find: "${two(date.getUTCHours())}", replace: "${two(date.getHours())}" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "no-padding",
    todo: 2,
    file: "http-response.ts",
    what: "the day of the month is not padded to two digits (Sat, 1 Jan 2000)",
    edits: [{ find: "  return `${day}, ${two(date.getUTCDate())} ${month}", replace: "  return `${day}, ${date.getUTCDate()} ${month}" }],
    caughtBy: "m2",
    hint: "h2",
  },

  // TODO 3: serialize the response
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m3", hint: "h3" },
  {
    id: "bare-lf",
    todo: 3,
    file: "http-response.ts",
    what: "the status line and the empty line end with a bare LF, as the C text's format string has it",
    edits: [{ find: '[Buffer.from(`${res.responseLine}\\r\\n`, "latin1"), httpSerializeHeaders(res.headers), Buffer.from("\\r\\n", "latin1")]', replace: '[Buffer.from(`${res.responseLine}\\n`, "latin1"), httpSerializeHeaders(res.headers), Buffer.from("\\n", "latin1")]' }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "no-empty-line",
    todo: 3,
    file: "http-response.ts",
    what: "no empty line after the headers: the client takes the body for more headers",
    edits: [{ find: ', httpSerializeHeaders(res.headers), Buffer.from("\\r\\n", "latin1")]', replace: ", httpSerializeHeaders(res.headers)]" }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "body-dropped",
    todo: 3,
    file: "http-response.ts",
    what: "the body is never appended, so an error reply promises bytes it does not send",
    edits: [{ find: "  if (res.body !== null) parts.push(res.body);\n", replace: "" }],
    caughtBy: "m4",
    hint: "h4",
  },
]);
