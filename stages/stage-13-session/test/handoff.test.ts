// Stage 13, milestone 7: the session on its own, in-process, with your
// session.ts ("@xps/connection/session" is your src/session.ts in the
// learner variant). The client is a stand-in with a source and a sink and
// no socket; the checks look at the ends, the pipes and core.sessions.
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { captureLog } from "@xps/utils";
import { coreCreate, type Core } from "@xps/core/core";
import { pipeCreate, pipeSinkCreate, pipeSourceCreate, type PipeSink, type PipeSource } from "@xps/core/pipe";
import type { Connection } from "@xps/connection/connection";
import { sessionCheckDestroy, sessionCreate, sessionDestroy, setFromClientBuff, setToClientBuff, type Session } from "@xps/connection/session";
import { fileDestroy } from "@xps/disk/file";
import { afterEach, beforeEach, defineStage, freePorts, type MilestoneContext } from "@xps/testkit";

const stage = defineStage(path.join(import.meta.dirname, ".."));

let log: ReturnType<typeof captureLog> | null = null;
beforeEach(() => {
  log = captureLog();
});
afterEach(() => log?.restore());

const noop = (): void => {};
/** How many sessions the core holds (a function, so each call reads it anew). */
const sessions = (core: Core): number => core.sessions.size;

/** A client connection without a socket, on a port with the given backend (none by default). */
function standIn(core: Core, backend: unknown = null): Connection {
  const client = { core, listener: { port: 8003, backend }, destroyed: false } as unknown as Connection & { source: PipeSource<Connection>; sink: PipeSink<Connection> };
  client.source = pipeSourceCreate(client, noop, noop);
  client.sink = pipeSinkCreate(client, noop, noop);
  return client;
}

function made(t: MilestoneContext): { core: Core; client: Connection; session: Session } {
  const core = coreCreate();
  const client = standIn(core);
  const session = sessionCreate(core, client);
  t.ensure("sessionCreate", !(session === null), "sessionCreate() gave null for a client on a port with no backend");
  return { core, client, session };
}

/** Join the session's upstream ends to a stand-in upstream, as sessionCreate does for a proxy port. */
function withUpstream(core: Core, session: Session): void {
  const owner = {};
  pipeCreate(core, 1_000_000, session.upstreamSource, pipeSinkCreate(owner, noop, noop));
  pipeCreate(core, 1_000_000, pipeSourceCreate(owner, noop, noop), session.upstreamSink);
}

function withFile(core: Core, session: Session): void {
  pipeCreate(core, 1_000_000, pipeSourceCreate({}, noop, noop), session.fileSink);
}

stage.check("m7", "a new session: its ends, its client pipes, core.sessions", (t: MilestoneContext) => {
  const { core, client, session } = made(t);
  t.ensure("after sessionCreate", !(core.sessions.size !== 1 || !core.sessions.items.includes(session)), `after sessionCreate() core.sessions holds ${core.sessions.size} session(s); it should hold the new one`);
  t.ensure("the session must keep its core and its client", !(session.client !== client || session.core !== core), "the session must keep its core and its client");
  t.ensure("on a port with no backend the session has no upstream and no file", !(session.upstream !== null || session.file !== null), "on a port with no backend the session has no upstream and no file");
  for (const [name, end] of Object.entries({ clientSource: session.clientSource, clientSink: session.clientSink, upstreamSource: session.upstreamSource, upstreamSink: session.upstreamSink, fileSink: session.fileSink })) {
    t.ensure("session.… must be an end owned by the session", !(end?.ptr !== session), `session.${name} must be an end owned by the session (ptr)`);
  }
  t.ensure("the three sinks start ready", !(!session.clientSink.ready || !session.upstreamSink.ready || !session.fileSink.ready), "the three sinks start ready: each can take a buffer");
  t.ensure("the two sources start not ready", !(session.clientSource.ready || session.upstreamSource.ready), "the two sources start not ready: they have nothing to pass on");
  t.ensure("the client's source must feed the session's clientSink", !(client.source.pipe === null || client.source.pipe.sink !== session.clientSink), "the client's source must feed the session's clientSink (a pipe client.source -> clientSink)");
  t.ensure("the session's clientSource must feed the client's sink", !(session.clientSource.pipe === null || session.clientSource.pipe.sink !== client.sink), "the session's clientSource must feed the client's sink (a pipe clientSource -> client.sink)");
  t.ensure("the ends in the client pipes are active", !(!session.clientSink.active || !session.clientSource.active), "the ends in the client pipes are active");
  t.ensure("with no backend the upstream and file ends stay out of any pipe", !(session.upstreamSource.pipe !== null || session.upstreamSink.pipe !== null || session.fileSink.pipe !== null), "with no backend the upstream and file ends stay out of any pipe");
  t.ensure("a new session holds no buffer", !(session.toClientBuff !== null || session.fromClientBuff !== null), "a new session holds no buffer");
});

stage.check("m7", "the one-buffer handoff: each buffer decides who may run", (t: MilestoneContext) => {
  const { session } = made(t);
  const a = Buffer.from("towards the client");
  setToClientBuff(session, a);
  t.ensure("setToClientBuff", !(session.toClientBuff !== a), "setToClientBuff(session, buff) must keep buff as toClientBuff");
  t.ensure("holding a buffer for the client, the clientSource is ready", !(!session.clientSource.ready), "holding a buffer for the client, the clientSource is ready (it has something to pass on)");
  t.ensure("holding a buffer for the client, the upstream and file sinks are not ready", !(session.upstreamSink.ready || session.fileSink.ready), "holding a buffer for the client, the upstream and file sinks are not ready (there is no room for another)");
  setToClientBuff(session, null);
  if (session.toClientBuff !== null || session.clientSource.ready || !session.upstreamSink.ready || !session.fileSink.ready) {
    t.fail("setToClientBuff(session, null): no buffer; the clientSource is not ready, the upstream and file sinks are");
  }
  const b = Buffer.from("towards the upstream");
  setFromClientBuff(session, b);
  t.ensure("setFromClientBuff", !(session.fromClientBuff !== b), "setFromClientBuff(session, buff) must keep buff as fromClientBuff");
  t.ensure("holding a buffer from the client, the upstreamSource is ready and the clientSink is not", !(!session.upstreamSource.ready || session.clientSink.ready), "holding a buffer from the client, the upstreamSource is ready and the clientSink is not");
  setFromClientBuff(session, null);
  t.ensure("setFromClientBuff", !(session.fromClientBuff !== null || session.upstreamSource.ready || !session.clientSink.ready), "setFromClientBuff(session, null): no buffer; the upstreamSource is not ready, the clientSink is");
});

stage.check("m7", "which flows can continue decides when a session ends", (t: MilestoneContext) => {
  // No backend: nothing can ever flow, so the first check ends it.
  const none = made(t);
  t.ensure("a session with no backend, checked, must be destroyed", !(sessionCheckDestroy(none.session) !== true || sessions(none.core) !== 0), "a session with no backend, checked, must be destroyed: none of its flows can continue");
  // An upstream that still answers keeps it.
  const up = made(t);
  withUpstream(up.core, up.session);
  t.ensure("a session whose upstream ends are both active was destroyed", !(sessionCheckDestroy(up.session) || sessions(up.core) !== 1), "a session whose upstream ends are both active was destroyed: the flows to and from the upstream can continue");
  // The upstream finished sending (its sink was told), but a buffer for the client is still held.
  up.session.upstreamSink.active = false;
  up.session.toClientBuff = Buffer.from("the end of the response");
  t.ensure("the session was destroyed while it still held a buffer for the client", !(sessionCheckDestroy(up.session)), "the session was destroyed while it still held a buffer for the client: the upstream -> client flow can still continue");
  up.session.toClientBuff = null;
  if (!sessionCheckDestroy(up.session) || sessions(up.core) !== 0) {
    t.fail("the upstream has finished sending and nothing is held for the client: the session must end, although the client could still send (nothing it sends can be answered)");
  }
  // A file that is still being read keeps it; its end, once delivered, ends it.
  const file = made(t);
  withFile(file.core, file.session);
  t.ensure("a session whose file sink is active was destroyed", !(sessionCheckDestroy(file.session)), "a session whose file sink is active was destroyed: the file -> client flow can continue");
  file.session.fileSink.active = false;
  file.session.toClientBuff = Buffer.from("the end of the file");
  t.ensure("the session was destroyed while the last piece of the file waited for the client", !(sessionCheckDestroy(file.session)), "the session was destroyed while the last piece of the file waited for the client");
  file.session.toClientBuff = null;
  t.ensure("the file was read and delivered", !(!sessionCheckDestroy(file.session)), "the file was read and delivered: the session must end");
  // The client is gone (its sink left the pipe and the session's clientSource was told).
  const gone = made(t);
  withUpstream(gone.core, gone.session);
  gone.session.clientSource.active = false;
  gone.session.clientSink.active = false;
  t.ensure("with the client gone", !(!sessionCheckDestroy(gone.session)), "with the client gone (both client ends inactive) and nothing held, the session must end");
});

stage.check("m7", "destroying a session: its ends leave their pipes, the client stays", (t: MilestoneContext) => {
  const { core, client, session } = made(t);
  withUpstream(core, session);
  session.fromClientBuff = Buffer.from("held");
  const fromClient = client.source.pipe;
  const toClient = session.clientSource.pipe;
  sessionDestroy(session);
  t.ensure("after sessionDestroy", !(core.sessions.size !== 0), "after sessionDestroy() the session is still in core.sessions");
  t.ensure("after sessionDestroy", !(fromClient?.sink !== null || toClient?.source !== null), "after sessionDestroy() the session's ends are still in the client pipes");
  for (const end of [session.clientSource, session.clientSink, session.upstreamSource, session.upstreamSink, session.fileSink]) {
    t.ensure("after sessionDestroy", !(end.pipe !== null), "after sessionDestroy() one of the session's ends is still in a pipe");
  }
  t.ensure("sessionDestroy", !(session.fromClientBuff !== null || session.toClientBuff !== null), "sessionDestroy() must drop the buffers it held");
  t.ensure("sessionDestroy", !(client.source.pipe !== fromClient || client.sink.pipe !== toClient), "sessionDestroy() must leave the client alone: the pipe rules close it once its pipes have lost the session's ends");
  sessionDestroy(session); // twice: nothing happens
  t.ensure("destroying a session logged an ERROR", !(log!.lines.some((l) => l.startsWith("[ERROR]"))), `destroying a session logged an ERROR: ${log!.lines.find((l) => l.startsWith("[ERROR]"))}`);
});

stage.check("m7", "the backend of the client's port: an upstream, a file", async (t: MilestoneContext) => {
  const core = coreCreate();
  const [dead] = await freePorts(1);
  const proxied = sessionCreate(core, standIn(core, { upstream: { host: "127.0.0.1", port: dead } }));
  t.ensure("sessionCreate", !(proxied === null), "sessionCreate() gave null for a client of a proxy port (the upstream's connect is still in progress, which is fine)");
  const up = proxied.upstream;
  t.ensure("on a port whose backend is an upstream, the session must keep the upstream connection it c", !(up === null), "on a port whose backend is an upstream, the session must keep the upstream connection it created");
  t.ensure("the session's upstreamSource must feed the upstream's sink", !(proxied.upstreamSource.pipe?.sink !== up.sink), "the session's upstreamSource must feed the upstream's sink (a pipe upstreamSource -> upstream.sink)");
  t.ensure("the upstream's source must feed the session's upstreamSink", !(up.source.pipe?.sink !== proxied.upstreamSink), "the upstream's source must feed the session's upstreamSink (a pipe upstream.source -> upstreamSink)");
  t.ensure("a proxy port's session has no file", !(proxied.file !== null), "a proxy port's session has no file");
  up.socket.destroy();
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), "xps-stage-13-handoff-"));
  t.cleanup(() => fs.rmSync(dir, { recursive: true, force: true }));
  fs.writeFileSync(path.join(dir, "sample.txt"), "the sample\n");
  fs.chmodSync(path.join(dir, "sample.txt"), 0o644);
  const served = sessionCreate(core, standIn(core, { file: path.join(dir, "sample.txt"), publicDir: dir }));
  t.ensure("sessionCreate", !(served === null), "sessionCreate() gave null for a client of a file port whose file may be served");
  t.ensure("on a port whose backend is a file, the session must keep the file it created", !(served.file === null), "on a port whose backend is a file, the session must keep the file it created");
  t.ensure("the file's source must feed the session's fileSink", !(served.file.source.pipe?.sink !== served.fileSink), "the file's source must feed the session's fileSink (a pipe file.source -> fileSink)");
  t.ensure("a file port's session has no upstream", !(served.upstream !== null), "a file port's session has no upstream");
  fileDestroy(served.file);
  const before = core.sessions.size;
  const missing = sessionCreate(core, standIn(core, { file: path.join(dir, "missing.txt"), publicDir: dir }));
  t.ensure("sessionCreate", !(missing !== null), "sessionCreate() must give null when the port's file cannot be served");
  t.ensure("a session that could not be made must not stay in core.sessions", !(core.sessions.size !== before), "a session that could not be made must not stay in core.sessions");
});
