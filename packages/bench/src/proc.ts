// What a process costs, read from Linux's /proc, and a few facts about the
// machine. The plain readers come from @xps/testkit's proc and ports modules
// (not its index, which pulls in vitest); the bench adds the finer ones.
import fs from "node:fs";
import os from "node:os";

export { cpuMs, isAlive, rssBytes } from "@xps/testkit/proc";
export { freePorts, waitForPort } from "@xps/testkit/ports";

/**
 * CPU time in nanoseconds, summed over the process's live threads from
 * /proc/PID/task/TID/schedstat (the scheduler's own count, not ticks), or
 * null when the kernel does not provide it. The idle workload uses it: 10 ms
 * is one tick, too coarse for a limit of 10 ms.
 */
export function cpuNs(pid: number): number | null {
  try {
    let total = 0;
    for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
      try {
        total += Number(fs.readFileSync(`/proc/${pid}/task/${tid}/schedstat`, "utf8").split(" ")[0]);
      } catch {
        // the thread ended while we looked
      }
    }
    return total;
  } catch {
    return null;
  }
}

/** The soft and hard limits on open files of a process (this one by default). */
export function openFileLimits(pid: number | "self" = "self"): { soft: number; hard: number } | null {
  try {
    const m = /Max open files\s+(\S+)\s+(\S+)/.exec(fs.readFileSync(`/proc/${pid}/limits`, "utf8"));
    if (!m) return null;
    const n = (s: string): number => (s === "unlimited" ? Number.MAX_SAFE_INTEGER : Number(s));
    return { soft: n(m[1]!), hard: n(m[2]!) };
  } catch {
    return null;
  }
}

export interface MachineInfo {
  cpuModel: string;
  nproc: number;
  mhz: number | null;
  memTotalMiB: number;
  kernel: string;
  os: string;
  node: string;
}

export function machineInfo(): MachineInfo {
  let cpuinfo = "";
  let meminfo = "";
  let osRelease = "";
  try {
    cpuinfo = fs.readFileSync("/proc/cpuinfo", "utf8");
  } catch {
    // not Linux
  }
  try {
    meminfo = fs.readFileSync("/proc/meminfo", "utf8");
  } catch {
    // not Linux
  }
  try {
    osRelease = fs.readFileSync("/etc/os-release", "utf8");
  } catch {
    // unknown
  }
  const model = /model name\s*:\s*(.+)/.exec(cpuinfo)?.[1]?.trim() ?? os.cpus()[0]?.model ?? "unknown";
  const mhz = /cpu MHz\s*:\s*([\d.]+)/.exec(cpuinfo)?.[1];
  const mem = /MemTotal:\s+(\d+)\s+kB/.exec(meminfo)?.[1];
  return {
    cpuModel: model,
    nproc: os.availableParallelism(),
    mhz: mhz ? Math.round(Number(mhz)) : null,
    memTotalMiB: mem ? Math.round(Number(mem) / 1024) : Math.round(os.totalmem() / 2 ** 20),
    kernel: `${os.type()} ${os.release()}`,
    os: /PRETTY_NAME="([^"]+)"/.exec(osRelease)?.[1] ?? os.platform(),
    node: process.version,
  };
}

function cpuTimes(): { idle: number; total: number } | null {
  try {
    const line = fs.readFileSync("/proc/stat", "utf8").split("\n")[0]!;
    const v = line.trim().split(/\s+/).slice(1).map(Number);
    const idle = (v[3] ?? 0) + (v[4] ?? 0); // idle + iowait
    return { idle, total: v.reduce((a, b) => a + b, 0) };
  } catch {
    return null;
  }
}

/** How busy the whole machine was over the next `ms` (0 to 1, all CPUs), or null off Linux. */
export async function machineBusy(ms: number): Promise<number | null> {
  const a = cpuTimes();
  await new Promise((r) => setTimeout(r, ms));
  const b = cpuTimes();
  if (a === null || b === null || b.total === a.total) return null;
  return 1 - (b.idle - a.idle) / (b.total - a.total);
}
