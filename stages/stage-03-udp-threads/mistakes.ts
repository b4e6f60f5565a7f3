// Stage 3's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ files.
import { catalogue } from "@xps/course/mistakes";

const server = "udp-server.ts";
const worker = "udp-worker.ts";

export const mistakes = catalogue([
  // TODO 1: bind the socket
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "tcp-habit",
    todo: 1,
    file: server,
    what: "listens for 'data', as on a TCP socket; a UDP socket emits 'message'",
    edits: [{ find: "  socket.on(\"message\", onDatagram);", replace: "  socket.on(\"data\", onDatagram);" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "udp6",
    todo: 1,
    file: server,
    what: "makes a \"udp6\" socket, which cannot bind an IPv4 address such as 127.0.0.1",
    edits: [{ find: "dgram.createSocket(\"udp4\")", replace: "dgram.createSocket(\"udp6\")" }],
    caughtBy: "m1",
    hint: "h1",
  },

  {
    id: "one-recvfrom",
    todo: 1,
    file: server,
    what: "C's one recvfrom() per loop turn, without the loop: once('message') answers the first datagram only",
    edits: [{ find: "  socket.on(\"message\", onDatagram);", replace: "  socket.once(\"message\", onDatagram);" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 2: start the pool
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "one-worker",
    todo: 2,
    file: server,
    what: "starts one worker whatever --threads says",
    edits: [{ find: "  for (let i = 0; i < threads; i++) {", replace: "  for (let i = 0; i < Math.min(threads, 1); i++) {" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "never-idle",
    todo: 2,
    file: server,
    what: "starts the workers but never puts them in `idle`, so every job waits in the queue for ever",
    edits: [{ find: "      process.exit(2);\n    });\n    idle.push(worker);", replace: "      process.exit(2);\n    });" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "slow-ms-lost",
    todo: 2,
    file: server,
    what: "gives every worker slowMs: 0, so --slow-ms never reaches the work",
    edits: [{ find: "import.meta.url), { role: \"udp-worker\", slowMs: options.slowMs });", replace: "import.meta.url), { role: \"udp-worker\", slowMs: 0 });" }],
    caughtBy: "m4",
    hint: "h4",
  },

  // TODO 3: hand the job to the pool
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "first-worker-always",
    todo: 3,
    file: server,
    what: "posts every job to the first idle worker without taking it out of `idle`, so one worker does all the work",
    edits: [{ find: "  const worker = idle.pop();\n  if (worker === undefined) queue.push(job);", replace: "  const worker = idle[0];\n  if (worker === undefined) queue.push(job);" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "dropped-when-busy",
    todo: 3,
    file: server,
    what: "drops a datagram when every worker is busy, instead of queueing it",
    edits: [{ find: "  if (worker === undefined) queue.push(job);\n  else worker.postMessage(job);", replace: "  if (worker !== undefined) worker.postMessage(job);" }],
    caughtBy: "m2",
    hint: "h2",
  },

  {
    id: "no-idle-check",
    todo: 3,
    file: server,
    what: "forgets that no worker may be idle: idle.pop()! posts to undefined, and the server crashes once every worker is busy",
    edits: [{ find: "  const worker = idle.pop();\n  if (worker === undefined) queue.push(job);\n  else worker.postMessage(job);", replace: "  idle.pop()!.postMessage(job);" }],
    caughtBy: "m2",
    hint: "h2",
  },

  // TODO 4: a job is done
  { id: "stub-4", todo: 4, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "queue-forgotten",
    todo: 4,
    file: server,
    what: "puts a worker back in `idle` when it is done, and leaves the queued jobs where they are",
    edits: [{ find: "  const next = queue.shift();\n  if (next === undefined) idle.push(worker);\n  else worker.postMessage(next);", replace: "  idle.push(worker);" }],
    caughtBy: "m2",
    hint: "h2",
  },
  {
    id: "worker-never-freed",
    todo: 4,
    file: server,
    what: "gives a finished worker the next queued job, but never makes it idle again when there is none",
    edits: [{ find: "  if (next === undefined) idle.push(worker);\n  else worker.postMessage(next);", replace: "  if (next !== undefined) worker.postMessage(next);" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "reply-from-a-new-socket",
    todo: 4,
    file: server,
    what: "sends each reply from a new socket, so it comes from another port than the server's",
    edits: [{ find: "  socket.send(done.message, done.port, done.address);", replace: "  const out = dgram.createSocket(\"udp4\");\n  out.send(done.message, done.port, done.address, () => out.close());" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 5: the worker's job
  { id: "stub-5", todo: 5, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "echo",
    todo: 5,
    file: worker,
    what: "returns the datagram as it came, not reversed",
    edits: [{ find: "  return { message: reverse(job.message), address: job.address, port: job.port };", replace: "  return { message: job.message, address: job.address, port: job.port };" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "no-spin",
    todo: 5,
    file: worker,
    what: "forgets the slow part: the work never spends slowMs",
    edits: [{ find: "  spin(slowMs);\n  return {", replace: "  return {" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "posts-bytes-only",
    todo: 5,
    file: worker,
    what: "the worker posts back the reply's bytes alone, as a C thread would sendto() them, so the main thread has no address to send them to",
    edits: [{ find: "    port.postMessage(work(job, setup.slowMs));", replace: "    port.postMessage(work(job, setup.slowMs).message);" }],
    caughtBy: "m1",
    hint: "h1",
  },
]);
