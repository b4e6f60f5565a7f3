// Raw HTTP exchanges with the stage's server, and the checks every reply
// must pass: a complete header block (status line, CRLF line endings, an
// empty line), Server: eXpServer, Connection: close, a Content-Length that
// matches the body, and then a clean close. Stage 15's tests use these too.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { TestClient, describeOutcome, sleep, type MilestoneContext, type WaitResult } from "@xps/testkit";

export const REPO_PUBLIC = path.resolve(import.meta.dirname, "..", "..", "..", "public");

/** The files the official tester asks for, with the exact types. */
export const TESTER_FILES: readonly { name: string; type: string }[] = [
  { name: "/sample.txt", type: "text/plain" },
  { name: "/cat.jpg", type: "image/jpeg" },
  { name: "/sample.pdf", type: "application/pdf" },
  { name: "/xps_config.json", type: "application/json" },
  { name: "/test/cat.jpg", type: "image/jpeg" },
  { name: "/test/sample.pdf", type: "application/pdf" },
  { name: "/test/sample.txt", type: "text/plain" },
];

export interface Reply {
  raw: Buffer;
  /** The header block's lines (without the empty line), or null when no complete block arrived. */
  head: string[] | null;
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  result: WaitResult;
  client: TestClient;
}

/** Split what arrived into its header block and body, without normalising anything. */
export function splitReply(raw: Buffer): Pick<Reply, "head" | "status" | "headers" | "body"> {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return { head: null, status: NaN, headers: new Map(), body: Buffer.alloc(0) };
  const head = raw.subarray(0, end).toString("latin1").split("\r\n");
  const status = Number(/^HTTP\/1\.[01] (\d{3}) /.exec(head[0] ?? "")?.[1] ?? NaN);
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers.set(line.slice(0, i).toLowerCase(), line.slice(i + 1).trim());
  }
  return { head, status, headers, body: raw.subarray(end + 4) };
}

/**
 * Send `parts` to the port (each part written on its own, `gapMs` apart)
 * and read until the server ends the connection.
 */
export async function exchange(port: number, parts: (Buffer | string)[] | Buffer | string, opts: { gapMs?: number; timeoutMs?: number } = {}): Promise<Reply> {
  const client = await TestClient.connect(port);
  client.socket.setNoDelay(true);
  const list = Array.isArray(parts) ? parts : [parts];
  for (const [i, p] of list.entries()) {
    if (!(await client.send(p))) break;
    if (opts.gapMs !== undefined && i < list.length - 1) await sleep(opts.gapMs);
  }
  const result = await client.waitForEnd(opts.timeoutMs ?? 5000);
  client.destroy();
  const raw = client.bytes();
  return { raw, ...splitReply(raw), result, client };
}

/** What a reply must be, beyond a complete block: its status, and optionally its type and body. */
export interface Want {
  status: number;
  type?: string;
  body?: Buffer;
  /** The reply must carry a Date in IMF-fixdate, near now (stage 15 on). */
  date?: boolean;
}

/** IMF-fixdate (RFC 9110, 5.6.7): "Sun, 06 Nov 1994 08:49:37 GMT". */
export const IMF_FIXDATE = /^(Mon|Tue|Wed|Thu|Fri|Sat|Sun), \d{2} (Jan|Feb|Mar|Apr|May|Jun|Jul|Aug|Sep|Oct|Nov|Dec) \d{4} \d{2}:\d{2}:\d{2} GMT$/;

/** The problems with a reply: a complete block, the defaults, a matching Content-Length, a close; then `want`. */
export function replyProblems(r: Pick<Reply, "raw" | "head" | "status" | "headers" | "body" | "result">, want: Want, closed = true): string[] {
  const out: string[] = [];
  if (r.head === null) {
    const bareLf = r.raw.includes("\n\n") || /[^\r]\n/.test(r.raw.toString("latin1"));
    return [r.raw.length === 0 ? "nothing came back" : `no complete header block came back (it must end with an empty line, CRLF CRLF${bareLf ? "; these lines end with a bare LF" : ""})`];
  }
  if (r.head.some((l) => l.includes("\n") || l.includes("\r"))) out.push("a header line holds a bare CR or LF: every line ends with CRLF");
  if (Number.isNaN(r.status)) out.push(`the status line ${JSON.stringify(r.head[0])} is not "HTTP/1.1 <code> <reason>"`);
  else if (r.status !== want.status) out.push(`the status is ${r.status}, not ${want.status}`);
  if (r.headers.get("server") !== "eXpServer") out.push(`Server is ${JSON.stringify(r.headers.get("server") ?? null)}, not "eXpServer"`);
  if (r.headers.get("connection")?.toLowerCase() !== "close") out.push(`Connection is ${JSON.stringify(r.headers.get("connection") ?? null)}, not "close"`);
  const length = r.headers.get("content-length");
  if (length === undefined) out.push("there is no Content-Length");
  else if (Number(length) !== r.body.length) out.push(`Content-Length says ${length} but ${r.body.length} bytes of body came`);
  if (want.type !== undefined && r.headers.get("content-type") !== want.type) out.push(`Content-Type is ${JSON.stringify(r.headers.get("content-type") ?? null)}, not ${JSON.stringify(want.type)}`);
  if (want.date) {
    const date = r.headers.get("date");
    if (date === undefined) out.push("there is no Date header");
    else if (!IMF_FIXDATE.test(date)) out.push(`Date ${JSON.stringify(date)} is not IMF-fixdate ("Sun, 06 Nov 1994 08:49:37 GMT")`);
    else if (Math.abs(Date.parse(date) - Date.now()) > 120_000) out.push(`Date ${JSON.stringify(date)} is not the time now (in UTC)`);
    if (r.headers.get("access-control-allow-origin") !== "*") out.push(`Access-Control-Allow-Origin is ${JSON.stringify(r.headers.get("access-control-allow-origin") ?? null)}, not "*"`);
  }
  if (want.body !== undefined && !r.body.equals(want.body)) out.push(`the body (${r.body.length} bytes) is not the file (${want.body.length} bytes)`);
  if (closed && r.result.outcome !== "ended") out.push(`after the reply the connection was not closed cleanly (${describeOutcome(r.result, 5000, null)})`);
  return out;
}

/** Fail unless the reply passes replyProblems. */
export function expectReply(t: MilestoneContext, what: string, sent: Buffer | string, r: Reply, want: Want): void {
  const problems = replyProblems(r, want);
  if (problems.length === 0) return;
  t.fail({
    problem: `${what}: ${problems[0]}`,
    sent: Buffer.isBuffer(sent) ? sent : Buffer.from(sent, "latin1"),
    got: r.raw.subarray(0, 400),
    notes: problems.slice(1),
  });
}

/** A GET as a tester or curl sends it. */
export function get(pathname: string, extra: string[] = []): string {
  return [`GET ${pathname} HTTP/1.1`, "Host: 127.0.0.1", "User-Agent: xps-test", "Accept: */*", ...extra, "", ""].join("\r\n");
}

/** A public folder of its own, for refusals: a readable file, one others may not read, and a link out of the folder. */
export function refusalSite(): { root: string; publicDir: string; cleanup: () => void } {
  const root = fs.mkdtempSync(path.join(os.tmpdir(), "xps-http-"));
  const publicDir = path.join(root, "public");
  fs.mkdirSync(path.join(publicDir, "dir"), { recursive: true });
  fs.writeFileSync(path.join(publicDir, "ok.txt"), "fine\n", { mode: 0o644 });
  fs.chmodSync(path.join(publicDir, "ok.txt"), 0o644);
  fs.writeFileSync(path.join(publicDir, "secret.txt"), "not for others\n");
  fs.chmodSync(path.join(publicDir, "secret.txt"), 0o600);
  fs.writeFileSync(path.join(root, "outside.txt"), "outside the public folder\n", { mode: 0o644 });
  fs.chmodSync(path.join(root, "outside.txt"), 0o644);
  fs.symlinkSync(path.join(root, "outside.txt"), path.join(publicDir, "link.txt"));
  fs.writeFileSync(path.join(publicDir, "a b.txt"), "a space\n", { mode: 0o644 });
  fs.writeFileSync(path.join(publicDir, "a=b.txt"), "equals\n");
  fs.chmodSync(path.join(publicDir, "a=b.txt"), 0o644);
  fs.chmodSync(path.join(publicDir, "a b.txt"), 0o644);
  return { root, publicDir, cleanup: () => fs.rmSync(root, { recursive: true, force: true }) };
}
