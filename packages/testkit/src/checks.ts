// Checks that several stages share, each failing with a full transcript.
import { execFile } from "node:child_process";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { TestClient, describeOutcome } from "./client.ts";
import { countBytes } from "./report.ts";
import type { MilestoneContext } from "./stage.ts";

/** Send `payload` on a fresh connection to `port`; the same bytes must come back. Returns the client, still open. */
export async function expectEcho(
  t: MilestoneContext,
  port: number,
  payload: Buffer,
  opts: { timeoutMs?: number; what?: string } = {},
): Promise<TestClient> {
  const timeout = opts.timeoutMs ?? 10_000;
  // An echo that has made no progress for 3 s is not coming (a pipe no pass sees, say): fail
  // then rather than after the whole timeout.
  const stall = Math.min(timeout, 3000);
  let client: TestClient;
  try {
    client = await TestClient.connect(port);
  } catch (err) {
    t.fail(`${opts.what ?? `port ${port}`}: ${(err as Error).message}`);
  }
  await client.send(payload);
  const r = await client.waitForBytes(payload.length, timeout, stall);
  const got = client.bytes();
  if (r.outcome !== "complete" || !got.subarray(0, payload.length).equals(payload)) {
    client.destroy();
    t.fail({
      problem: `${opts.what ?? `port ${port}`} did not echo the ${countBytes(payload.length)} it was sent`,
      sent: payload,
      expected: payload,
      got,
      ending: r.outcome === "complete" ? undefined : describeOutcome(r, stall, client.errorCode),
    });
  }
  return client;
}

const HALF_CLOSE = fileURLToPath(new URL("../clients/half-close.py", import.meta.url));

/**
 * A Python client (Node cannot set SO_RCVBUF) that sends `size` bytes, then
 * half-closes, and reads the echo slowly through small socket buffers, so the
 * kernel cannot absorb the echo: when its FIN reaches the server, the server
 * still holds bytes it owes the client. Returns how many bytes came back and
 * where they first differ from what was sent (-1: nowhere).
 */
export async function halfCloseClient(port: number, size: number, timeoutMs = 30_000): Promise<{ got: number; bad: number }> {
  const { stdout } = await promisify(execFile)("python3", [HALF_CLOSE, String(port), String(size)], { timeout: timeoutMs });
  const [got, bad] = stdout.trim().split(" ").map(Number);
  return { got: got ?? 0, bad: bad ?? 0 };
}
