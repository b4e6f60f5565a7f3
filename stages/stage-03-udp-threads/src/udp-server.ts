// stage-03: your copy of stages/stage-03-udp-threads/reference/udp-server.ts
// Fill in the TODOs in the order the stage guide gives; `pnpm test --filter stage-03` checks them.
// Generated from the reference by `pnpm gen`; `pnpm xps reset stage-03` restores this version.

// Stage 3: a UDP server whose work is done by threads (phase_0/udp_server.c
// in the C course). The main thread owns the socket: it receives every
// datagram, hands it to a pool of worker threads, and sends each reply back
// to the client that sent the datagram.
//
// The C server starts one thread per datagram (pthread_create, then
// pthread_detach) and each thread replies with sendto() on the shared socket.
// Node differs in two ways. A worker thread costs a whole JavaScript engine
// (its own heap, tens of milliseconds to start), so the threads are started
// once and reused: a pool. And a worker cannot use the main thread's socket,
// so it posts its reply back, and the main thread sends it.
import dgram from "node:dgram";
import { Worker } from "node:worker_threads";
import { work, type Job, type WorkerSetup } from "./udp-worker.ts";
import { todo } from "@xps/utils/todo";

export interface Options {
  host: string;
  port: number;
  /** Worker threads in the pool; 0: the main thread does every job itself. */
  threads: number;
  /** CPU milliseconds each reverse costs (--slow-ms). */
  slowMs: number;
}

let socket: dgram.Socket;
let options: Options;
/** Workers with nothing to do. */
export const idle: Worker[] = [];
/** Jobs waiting for a worker, oldest first. */
export const queue: Job[] = [];

/**
 * Start a worker thread on a TypeScript file. Node 20 cannot start one on a
 * .ts file by itself (the TypeScript loader of the main thread does not reach
 * workers), so the worker first runs a two-line module that installs that
 * loader (tsx), and then imports the file. It gets none of the main thread's
 * --import options (execArgv): the loader is all it needs.
 */
export function startWorker(file: URL, setup: WorkerSetup): Worker {
  const boot = `import { register } from ${JSON.stringify(import.meta.resolve("tsx/esm/api"))};\nregister();\nawait import(${JSON.stringify(file.href)});`;
  return new Worker(new URL(`data:text/javascript,${encodeURIComponent(boot)}`), { workerData: setup, execArgv: [] });
}

export function main(opts: Options): dgram.Socket {
  options = opts;
  // TODO(stage-03 #1): Bind the socket
  // A UDP socket (dgram, "udp4") in `socket`, bound to opts.port on
  // opts.host. There is no listen() and no accept(): every datagram arrives
  // on this one socket as a 'message' event, with the sender's address;
  // hand them to onDatagram. Once bound, print exactly:
  //   [INFO] Server listening on udp://HOST:PORT
  throw todo("stage-03", 1, "Bind the socket");
  // A bind that fails (the port is taken: EADDRINUSE) is reported as 'error'.
  socket.on("error", (err: NodeJS.ErrnoException) => {
    console.log(`[ERROR] cannot bind ${opts.host}:${opts.port}: ${err.code ?? err.message}`);
    process.exit(1);
  });
  startPool(opts.threads);
  return socket;
}

/** Start the worker threads, all idle. */
function startPool(threads: number): void {
  // TODO(stage-03 #2): Start the pool
  // Start `threads` workers with startWorker() on this folder's
  // udp-worker.ts (new URL("./udp-worker.ts", import.meta.url)), each with
  // the setup { role: "udp-worker", slowMs: options.slowMs }. When a worker
  // posts a message, it is a finished job: call finished(worker, job). A
  // worker that fails ('error') cannot be trusted with more jobs: print
  // "[ERROR] worker thread: <message>" and exit with code 2. Every worker
  // starts in `idle`.
  throw todo("stage-03", 2, "Start the pool");
}

/** A datagram has arrived (recvfrom() returned, in C). */
function onDatagram(message: Buffer, from: dgram.RemoteInfo): void {
  console.log(`[CLIENT MESSAGE] ${message.toString("latin1").replace(/\n$/, "")}`);
  const job: Job = { message, address: from.address, port: from.port };
  // --threads 0: no pool; the main thread does the work itself, and receives
  // nothing else while it does.
  if (options.threads === 0) reply(work(job, options.slowMs));
  else dispatch(job);
}

/** Give the job to an idle worker, or queue it until one is free. */
function dispatch(job: Job): void {
  // TODO(stage-03 #3): Hand the job to the pool
  // Take a worker out of `idle` and post it the job (postMessage copies the
  // job into the worker's memory). When no worker is idle, put the job at
  // the end of `queue`: finished() gives it to the first worker that is
  // done. Never post to a worker that is busy: it would do that job only
  // after its current one, while another worker sits idle.
  throw todo("stage-03", 3, "Hand the job to the pool");
}

/** A worker has finished a job: reply, then give it the next job, if any. */
function finished(worker: Worker, done: Job): void {
  // TODO(stage-03 #4): A job is done
  // Send the reply with reply(done). Then this worker is free: post it the
  // oldest queued job, or, when the queue is empty, put it back in `idle`.
  throw todo("stage-03", 4, "A job is done");
}

/** Send a reply to the client that sent the datagram. */
function reply(done: Job): void {
  // TODO(stage-03 #4): A job is done
  // Send done.message to done.address and done.port from the main thread's
  // socket, the one the datagram came to, so that the reply comes from the
  // server's own port: a client that connected its socket to the server
  // (nc -u does) drops datagrams from any other port.
  throw todo("stage-03", 4, "A job is done");
}
