// What a stage's server has open besides sockets (stage 12 on: its files),
// and the counts of its sessions (stage 13 on), read from outside.
import fs from "node:fs";
import { sleep } from "./client.ts";
import type { ServerStats, StageServer } from "./server.ts";

/** The paths of the regular files the process holds open (from /proc/PID/fd), with repeats. */
export function openFiles(pid: number): string[] {
  const out: string[] = [];
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const target = fs.readlinkSync(`/proc/${pid}/fd/${fd}`);
        if (target.startsWith("/") && !target.startsWith("/dev/") && !target.startsWith("/proc/")) out.push(target.replace(/ \(deleted\)$/, ""));
      } catch {
        // closed while we looked
      }
    }
  } catch {
    // the process is gone
  }
  return out;
}

/** How many descriptors the process holds on `file` (a real path). */
export function openCount(pid: number, file: string): number {
  return openFiles(pid).filter((f) => f === file).length;
}

/** The stats line of a server from stage 13 on, which counts sessions too. */
export type SessionStats = ServerStats & { sessions: number };

/** Ask for stats until `done` holds or `ms` have passed; the last stats either way. */
export async function statsUntil(server: StageServer, done: (s: SessionStats) => boolean, ms = 3000): Promise<SessionStats> {
  const deadline = Date.now() + ms;
  let stats = (await server.stats()) as SessionStats;
  while (!done(stats) && Date.now() < deadline) {
    await sleep(100);
    stats = (await server.stats()) as SessionStats;
  }
  return stats;
}
