// Raw HTTP over a TestClient: the bytes on the wire are what the tests
// compare, so nothing here normalises a response.
import { TestClient, describeOutcome, type WaitResult } from "./client.ts";

export interface RawResponse {
  /** Everything received. */
  raw: Buffer;
  statusLine: string;
  status: number;
  headers: Map<string, string>;
  body: Buffer;
  /** How the connection ended (or "complete" when a Content-Length body arrived on a kept-alive connection). */
  result: WaitResult;
  client: TestClient;
}

export function requestBytes(path: string, opts: { host?: string; version?: "1.0" | "1.1"; keepAlive?: boolean } = {}): Buffer {
  const lines = [`GET ${path} HTTP/${opts.version ?? "1.0"}`, `Host: ${opts.host ?? "127.0.0.1"}`, "User-Agent: xps-testkit"];
  if (opts.keepAlive) lines.push("Connection: keep-alive");
  return Buffer.from(lines.join("\r\n") + "\r\n\r\n");
}

export function parseResponse(raw: Buffer): Pick<RawResponse, "statusLine" | "status" | "headers" | "body"> | null {
  const end = raw.indexOf("\r\n\r\n");
  if (end < 0) return null;
  const head = raw.subarray(0, end).toString("latin1").split("\r\n");
  const statusLine = head[0] ?? "";
  const status = Number(/^HTTP\/\d\.\d (\d{3})/.exec(statusLine)?.[1] ?? NaN);
  const headers = new Map<string, string>();
  for (const line of head.slice(1)) {
    const i = line.indexOf(":");
    if (i > 0) headers.set(line.slice(0, i).trim().toLowerCase(), line.slice(i + 1).trim());
  }
  return { statusLine, status, headers, body: raw.subarray(end + 4) };
}

/**
 * GET `path` from host:port with HTTP/1.0 and read until the server closes
 * (python's http.server closes after every response), or, with `keepAlive`,
 * until Content-Length bytes of body have arrived.
 */
export async function httpGet(
  port: number,
  path: string,
  opts: { timeoutMs?: number; keepAlive?: boolean; client?: TestClient } = {},
): Promise<RawResponse> {
  const timeout = opts.timeoutMs ?? 10_000;
  const client = opts.client ?? (await TestClient.connect(port));
  const start = client.received;
  await client.send(requestBytes(path, { version: opts.keepAlive ? "1.1" : "1.0", keepAlive: opts.keepAlive }));
  let result: WaitResult;
  if (opts.keepAlive) {
    result = await waitForFullResponse(client, start, timeout);
  } else {
    result = await client.waitForEnd(timeout);
  }
  const raw = client.bytes().subarray(start);
  const parsed = parseResponse(raw) ?? { statusLine: "", status: NaN, headers: new Map(), body: Buffer.alloc(0) };
  return { raw, ...parsed, result, client };
}

async function waitForFullResponse(client: TestClient, start: number, timeout: number): Promise<WaitResult> {
  const deadline = Date.now() + timeout;
  for (;;) {
    const parsed = parseResponse(client.bytes().subarray(start));
    if (parsed) {
      const len = Number(parsed.headers.get("content-length") ?? NaN);
      if (Number.isFinite(len)) {
        const want = client.bytes().subarray(start).indexOf("\r\n\r\n") + 4 + len + start;
        return client.waitForBytes(want, Math.max(1, deadline - Date.now()));
      }
    }
    const r = await client.waitForBytes(client.received + 1, Math.max(1, deadline - Date.now()));
    if (r.outcome !== "complete") return r;
  }
}

export { describeOutcome };
