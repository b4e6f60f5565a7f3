// stage-03: your copy of stages/stage-03-udp-threads/reference/udp-worker.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-03` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-03` restores this version.

// Stage 3, the worker thread: the work one datagram needs, and the loop that
// does it for every job the main thread posts (handle_client() in the C
// course's udp_server.c). A worker has no socket: it gets the datagram and
// its sender's address in a message, and posts the reply back the same way.
import { isMainThread, parentPort, workerData } from "node:worker_threads";
import { todo } from "@xps/utils/todo";

/** One datagram and its sender; the reply travels back in the same shape. */
export interface Job {
  message: Uint8Array;
  address: string;
  port: number;
}

/** What the main thread gives each worker when it starts it. */
export interface WorkerSetup {
  role: "udp-worker";
  slowMs: number;
}

/** Stage 1's rule: the bytes reversed, a final newline left at the end. */
export function reverse(message: Uint8Array): Buffer {
  const out = Buffer.from(message);
  const body = out.length > 0 && out[out.length - 1] === 0x0a ? out.length - 1 : out.length;
  out.subarray(0, body).reverse();
  return out;
}

/** Keep the CPU busy for `ms` milliseconds: a reverse made slow on purpose (--slow-ms). */
export function spin(ms: number): void {
  const end = performance.now() + ms;
  while (performance.now() < end) {
    // busy on purpose: this is the "real CPU work" of the experiment
  }
}

/** The work of one job: the reply to its datagram, addressed to the same sender. */
export function work(job: Job, slowMs: number): Job {
  // TODO(stage-03 #5): The worker's job
  // Spend slowMs of CPU with spin() (0 unless --slow-ms says otherwise), then
  // return a job for the same address and port whose message is the reply:
  // reverse() of the datagram.
  throw todo("stage-03", 5, "The worker's job");
}

// In a worker thread started by the pool (not when the main thread imports
// this file for work()): answer every job the main thread posts.
if (!isMainThread && parentPort !== null && (workerData as WorkerSetup | undefined)?.role === "udp-worker") {
  const port = parentPort;
  const setup = workerData as WorkerSetup;
  // TODO(stage-03 #5): The worker's job
  // For every job that arrives on parentPort ('message'), post back the
  // result of work(job, setup.slowMs). One job at a time: the worker runs
  // one handler to its end before it takes the next message.
  throw todo("stage-03", 5, "The worker's job");
}
