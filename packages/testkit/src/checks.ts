// Checks that several stages share, each failing with a full transcript.
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
  let client: TestClient;
  try {
    client = await TestClient.connect(port);
  } catch (err) {
    t.fail(`${opts.what ?? `port ${port}`}: ${(err as Error).message}`);
  }
  await client.send(payload);
  const r = await client.waitForBytes(payload.length, timeout);
  const got = client.bytes();
  if (r.outcome !== "complete" || !got.subarray(0, payload.length).equals(payload)) {
    client.destroy();
    t.fail({
      problem: `${opts.what ?? `port ${port}`} did not echo the ${countBytes(payload.length)} it was sent`,
      sent: payload,
      expected: payload,
      got,
      ending: r.outcome === "complete" ? undefined : describeOutcome(r, timeout, client.errorCode),
    });
  }
  return client;
}
