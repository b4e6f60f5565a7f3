// @stages 8-8
// Stage 8's epoll is level-triggered, and the loop asks it about writability
// for every connection (EPOLLIN | EPOLLOUT). Level-triggered means that each
// epoll_wait reports again every socket that is still writable, whether or
// not anything happened to it; a socket that a client is not filling is
// writable almost always. So epoll_wait returns at once, every time, and the
// C server spins at 100% CPU with one idle client connected.
//
// libuv only tells Node about changes (edges), so this file plays the
// level-triggered epoll: after every batch of events it reports each writable
// socket again by calling its write callback, and asks the loop for another
// pass at once when it reported anything. The stage 8 server spins like the C
// one, on purpose: that is the problem stage 9 solves.
import type { Socket } from "node:net";
import { loopCall, type Loop } from "@xps/core/loop";

/** send() would not block now: connected, still open, and below the write high-water mark. */
function isWritable(socket: Socket): boolean {
  return !socket.connecting && !socket.destroyed && !socket.writableEnded && !socket.writableNeedDrain;
}

/** Level-triggered EPOLLOUT: call the write callback of every writable socket; true when there was one. */
export function reportWritable(loop: Loop): boolean {
  let reported = false;
  for (const ev of loop.events.items) {
    if (ev === null || !ev.attached || ev.writeCb === null || !("writableNeedDrain" in ev.handle)) continue;
    if (!isWritable(ev.handle)) continue;
    reported = true;
    loopCall(loop, ev.ptr, ev.writeCb);
  }
  return reported;
}
