// Checks shared by the standalone programs of phase 0 (stages 1 to 5): one
// message at a time over TCP with every reply checked byte for byte (nothing
// missing, nothing extra), and a small UDP client for stage 3.
import dgram from "node:dgram";
import { TestClient, describeOutcome, sleep } from "./client.ts";
import { reversed } from "./reverse.ts";
import type { MilestoneContext } from "./stage.ts";

/** Connect to 127.0.0.1:port, or fail the milestone saying who could not. */
export async function connectOrFail(t: MilestoneContext, port: number, who: string): Promise<TestClient> {
  try {
    return await TestClient.connect(port);
  } catch (err) {
    return t.fail(`${who}: ${(err as Error).message}`);
  }
}

export interface Exchange {
  what: string;
  msg: Buffer;
  /** What must come back; default: the message reversed, a final newline kept last. */
  want?: Buffer;
}

/**
 * Send each message and wait for its reply before the next one, as the
 * official tester does. The reply must be exactly `want` (by default the
 * message reversed): a byte missing, changed or added fails with a
 * transcript. `hint` names the hint to read when a reply is wrong.
 */
export async function exchangeExact(
  t: MilestoneContext,
  client: TestClient,
  messages: Exchange[],
  where: string,
  opts: { timeoutMs?: number; hint?: string } = {},
): Promise<void> {
  const timeout = opts.timeoutMs ?? 5000;
  for (const { what, msg, want = reversed(msg) } of messages) {
    const start = client.received;
    if (!(await client.send(msg))) {
      t.fail({ problem: `${where}: could not send ${what}: the connection is gone`, sent: msg, ending: describeOutcome({ outcome: client.ending === "ended" ? "ended" : client.ending === "open" ? "closed" : client.ending, received: client.received }, 0, client.errorCode), hint: opts.hint });
    }
    const r = await client.waitForBytes(start + want.length, timeout);
    const got = client.bytes().subarray(start);
    if (r.outcome !== "complete" || !got.equals(want)) {
      t.fail({
        problem: `${where}: the reply to ${what} is not ${want.equals(reversed(msg)) ? "the message reversed (a final newline stays at the end)" : "the expected one"}${r.outcome === "complete" && got.length > want.length ? `: ${got.length - want.length} byte(s) too many` : ""}`,
        sent: msg,
        expected: want,
        got,
        ending: r.outcome === "complete" ? undefined : describeOutcome(r, timeout, client.errorCode),
        hint: opts.hint,
      });
    }
  }
}

/** Nothing arrives on `client` for `ms`; otherwise fail with `problem` and what came. */
export async function expectSilence(t: MilestoneContext, client: TestClient, ms: number, problem: string, hint?: string): Promise<void> {
  const before = client.received;
  await sleep(ms);
  if (client.received > before) t.fail({ problem, got: client.bytes().subarray(before), hint });
}

/** A UDP client on 127.0.0.1 that keeps every datagram it receives, in order. */
export class UdpClient {
  readonly socket: dgram.Socket;
  readonly received: Buffer[] = [];
  /** The port each datagram came from, in the same order. */
  readonly sources: number[] = [];
  private waiters = new Set<() => void>();
  private read = 0;

  private constructor(socket: dgram.Socket) {
    this.socket = socket;
    socket.on("message", (msg, rinfo) => {
      this.received.push(msg);
      this.sources.push(rinfo.port);
      for (const w of [...this.waiters]) w();
    });
    socket.on("error", () => {});
  }

  static async open(): Promise<UdpClient> {
    const socket = dgram.createSocket("udp4");
    await new Promise<void>((resolve) => socket.bind(0, "127.0.0.1", () => resolve()));
    return new UdpClient(socket);
  }

  get port(): number {
    return this.socket.address().port;
  }

  send(msg: Buffer, port: number): Promise<void> {
    return new Promise((resolve, reject) => this.socket.send(msg, port, "127.0.0.1", (err) => (err ? reject(err) : resolve())));
  }

  /** The next datagram not yet taken (and the port it came from), or null when none arrives within `timeoutMs`. */
  nextFrom(timeoutMs: number): Promise<{ msg: Buffer; from: number } | null> {
    const i = this.read;
    return this.next(timeoutMs).then((msg) => (msg === null ? null : { msg, from: this.sources[i]! }));
  }

  /** The next datagram not yet taken, or null when none arrives within `timeoutMs`. */
  next(timeoutMs: number): Promise<Buffer | null> {
    return new Promise((resolve) => {
      const check = (): boolean => {
        if (this.read < this.received.length) {
          clearTimeout(timer);
          this.waiters.delete(check);
          resolve(this.received[this.read++]!);
          return true;
        }
        return false;
      };
      const timer = setTimeout(() => {
        this.waiters.delete(check);
        resolve(null);
      }, timeoutMs);
      if (!check()) this.waiters.add(check);
    });
  }

  /** Datagrams received and not yet taken with next(). */
  pending(): Buffer[] {
    return this.received.slice(this.read);
  }

  close(): void {
    try {
      this.socket.close();
    } catch {
      // already closed
    }
  }
}
