// Stage 7's mistakes catalogue: wrong solutions a learner writes, and the
// milestone that must catch each one (verify proves it; see
// packages/course/src/mistakes.ts). The edits apply to the solved src/ files.
import { catalogue } from "@xps/course/mistakes";

export const mistakes = catalogue([
  // TODO 1: coreCreate
  { id: "stub-1", todo: 1, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "one-list-for-both",
    todo: 1,
    file: "core.ts",
    what: "listeners and connections share one SlotList, so every count and every walk mixes them",
    edits: [
      {
        find: "  const core = {\n    listeners: new SlotList<object>(),\n    connections: new SlotList<object>(),\n  } as Core;",
        replace: "  const list = new SlotList<object>();\n  const core = {\n    listeners: list,\n    connections: list,\n  } as Core;",
      },
    ],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "loop-not-stored",
    todo: 1,
    file: "core.ts",
    what: "the loop is created but never stored in core.loop",
    edits: [{ find: "  core.loop = loopCreate(core);", replace: "  loopCreate(core);" }],
    caughtBy: "m1",
    hint: "h1",
  },

  {
    id: "connections-in-a-set",
    todo: 1,
    file: "core.ts",
    what: "JavaScript habit: the connections are kept in a Set, which has add() and size but no remove(), so a connection that leaves cannot be destroyed",
    edits: [{ find: "    connections: new SlotList<object>(),", replace: "    connections: new Set<object>() as unknown as SlotList<object>," }],
    caughtBy: "m3",
    hint: "h3",
  },

  {
    id: "created-core-not-logged",
    todo: 1,
    file: "core.ts",
    what: "the core is made, but \"created core\" is never logged at DEBUG level",
    edits: [{ find: '  logger("DEBUG", "coreCreate()", "created core");\n', replace: "" }],
    caughtBy: "m4",
    hint: "h4",
  },

  // TODO 2: coreDestroy
  { id: "stub-2", todo: 2, stub: true, caughtBy: "m4", hint: "h4" },
  {
    id: "no-destroyed-core-log",
    todo: 2,
    file: "core.ts",
    what: 'the loop is destroyed, but "destroyed core" is never logged',
    edits: [{ find: '  logger("DEBUG", "coreDestroy()", "destroyed core");\n', replace: "" }],
    caughtBy: "m4",
    hint: "h4",
  },
  {
    id: "destroy-walks-empty-slots",
    todo: 2,
    file: "core.ts",
    what: "coreDestroy detaches every event itself, walking loop.events.items, whose destroyed listeners and connections left empty slots",
    edits: [{ find: "  loopDestroy(core.loop);\n", replace: "  for (const ev of core.loop.events.items) ev!.handle.removeAllListeners();\n  loopDestroy(core.loop);\n" }],
    caughtBy: "m4",
    hint: "h4",
  },

  {
    id: "core-keeps-its-loop",
    todo: 2,
    file: "core.ts",
    what: "coreDestroy logs \"destroyed core\" but never destroys its loop (in C, a leaked epoll instance and its events; nothing on screen shows it)",
    edits: [{ find: "  loopDestroy(core.loop);\n  logger(", replace: "  logger(" }],
    caughtBy: "m5",
    hint: "h5",
  },
  {
    id: "printf-destroyed-core",
    todo: 2,
    file: "core.ts",
    what: "C habit: \"destroyed core\" is printed with console.log (printf), not through the logger at DEBUG level",
    edits: [{ find: '  logger("DEBUG", "coreDestroy()", "destroyed core");', replace: '  console.log("destroyed core");' }],
    caughtBy: "m4",
    hint: "h4",
  },

  // TODO 3: loopCreate
  { id: "stub-3", todo: 3, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "events-as-array",
    todo: 3,
    file: "loop.ts",
    what: "the events are kept in a plain array (C's vec), which has none of the SlotList's methods",
    edits: [{ find: "    events: new SlotList(),\n", replace: "    events: [] as unknown as SlotList<LoopEvent>,\n" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "returns-core-loop",
    todo: 3,
    file: "loop.ts",
    what: "loopCreate returns core.loop, which is not set yet, instead of the loop it made",
    edits: [{ find: "    running: false,\n  };\n  return loop;", replace: "    running: false,\n  };\n  return core.loop;" }],
    caughtBy: "m1",
    hint: "h1",
  },

  {
    id: "events-in-a-map",
    todo: 3,
    file: "loop.ts",
    what: "JavaScript habit: the events are kept in a Map (handle to event), which has set() and delete(), not the SlotList's add() and remove()",
    edits: [{ find: "    events: new SlotList(),\n", replace: "    events: new Map() as unknown as SlotList<LoopEvent>,\n" }],
    caughtBy: "m1",
    hint: "h1",
  },

  // TODO 4: loopAttach
  { id: "stub-4", todo: 4, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "handle-not-tagged",
    todo: 4,
    file: "loop.ts",
    what: "the handle is never tagged with its event, so the shared listener functions find nothing to deliver",
    edits: [{ find: "  (handle as Tagged)[EVENT] = ev;\n", replace: "" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "socket-events-for-servers",
    todo: 4,
    file: "loop.ts",
    what: "a server is listened to with the socket events ('data', 'end', ...), so its 'connection' never reaches the listener",
    edits: [{ find: "  for (const [name, fn] of isServer(handle) ? SERVER_EVENTS : SOCKET_EVENTS) handle.on(name, fn);\n  loop.events.add(ev);", replace: "  for (const [name, fn] of SOCKET_EVENTS) handle.on(name, fn);\n  loop.events.add(ev);" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "data-only",
    todo: 4,
    file: "loop.ts",
    what: "a socket is listened to for 'data' alone (EPOLLIN means data), so its end never reaches the read handler",
    edits: [{ find: "  for (const [name, fn] of isServer(handle) ? SERVER_EVENTS : SOCKET_EVENTS) handle.on(name, fn);\n  loop.events.add(ev);", replace: '  if (isServer(handle)) handle.on("connection", onRead);\n  else handle.on("data", onRead);\n  loop.events.add(ev);' }],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "one-static-event",
    todo: 4,
    file: "loop.ts",
    what: "one event object is filled in for every handle, like a static struct epoll_event in C (which epoll copies; here every handle keeps the same one, and the last owner gets everything)",
    edits: [
      { find: "function isServer(handle: LoopHandle): handle is Server {", replace: "const SHARED = {} as LoopEvent;\n\nfunction isServer(handle: LoopHandle): handle is Server {" },
      { find: "  const ev: LoopEvent = { loop, handle, ptr, readCb, attached: true };", replace: "  const ev: LoopEvent = Object.assign(SHARED, { loop, handle, ptr, readCb, attached: true });" },
    ],
    caughtBy: "m2",
    hint: "h2",
  },

  // TODO 5: loopDetach and loopDestroy
  { id: "stub-5", todo: 5, stub: true, caughtBy: "m4", hint: "h4" },
  {
    id: "detach-keeps-listening",
    todo: 5,
    file: "loop.ts",
    what: "loopDetach only takes the event out of loop.events: the handle keeps its tag and its listeners, and its later events reach the destroyed connection",
    edits: [
      {
        find: "  for (const [name, fn] of isServer(handle) ? SERVER_EVENTS : SOCKET_EVENTS) handle.off(name, fn);\n  delete (handle as Tagged)[EVENT];\n  ev.attached = false;\n",
        replace: "",
      },
    ],
    caughtBy: "m3",
    hint: "h3",
  },
  {
    id: "destroy-walks-nulls",
    todo: 5,
    file: "loop.ts",
    what: "loopDestroy walks loop.events.items without skipping the empty slots that detached handles left",
    edits: [{ find: "  for (const ev of loop.events.live()) loopDetach(loop, ev.handle);", replace: "  for (const ev of loop.events.items) loopDetach(loop, ev!.handle);" }],
    caughtBy: "m4",
    hint: "h4",
  },

  {
    id: "detach-leaves-the-event",
    todo: 5,
    file: "loop.ts",
    what: "loopDetach stops listening and unties the tag but leaves the event in loop.events (C: the slot is never set to NULL), so the list grows by one event for every client that ever came",
    edits: [{ find: "  if (handle.listenerCount(\"error\") === 0) handle.on(\"error\", ignoreError);\n  loop.events.remove(ev);\n", replace: "  if (handle.listenerCount(\"error\") === 0) handle.on(\"error\", ignoreError);\n" }],
    caughtBy: "m5",
    hint: "h5",
  },

  // TODO 6: dispatch
  { id: "stub-6", todo: 6, stub: true, caughtBy: "m1", hint: "h1" },
  {
    id: "event-not-owner",
    todo: 6,
    file: "loop.ts",
    what: "the callback gets the loop event instead of its owner (ev rather than ev.ptr)",
    edits: [{ find: "      cb(ev.ptr, arg);", replace: "      cb(ev, arg);" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "attached-check-inverted",
    todo: 6,
    file: "loop.ts",
    what: "the attached check is the wrong way round, so only events of detached handles would be delivered",
    edits: [{ find: "  if (!ev.attached) return;", replace: "  if (ev.attached) return;" }],
    caughtBy: "m1",
    hint: "h1",
  },
  {
    id: "arguments-swapped",
    todo: 6,
    file: "loop.ts",
    what: "the wrong order: the callback gets the event's argument first and the owner second (cb(arg, ev.ptr)), so a handler is called without its owner",
    edits: [{ find: "      cb(ev.ptr, arg);", replace: "      cb(arg, ev.ptr);" }],
    caughtBy: "m1",
    hint: "h1",
  },
]);
