// What a process costs, read from Linux's /proc (the figures `ps` and `top` show).
import fs from "node:fs";

/** Resident memory in bytes (VmRSS), or 0 when the process is gone. */
export function rssBytes(pid: number): number {
  try {
    const status = fs.readFileSync(`/proc/${pid}/status`, "utf8");
    const m = /VmRSS:\s+(\d+)\s+kB/.exec(status);
    return m ? Number(m[1]) * 1024 : 0;
  } catch {
    return 0;
  }
}

const TICKS_PER_SECOND = 100; // USER_HZ on Linux

/** CPU time (user + system) the process has used, in milliseconds. */
export function cpuMs(pid: number): number {
  try {
    const stat = fs.readFileSync(`/proc/${pid}/stat`, "utf8");
    // The command name (field 2) may hold spaces; fields after its ')' are fixed.
    const fields = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
    const utime = Number(fields[11]);
    const stime = Number(fields[12]);
    return ((utime + stime) * 1000) / TICKS_PER_SECOND;
  } catch {
    return 0;
  }
}

const TCP_STATES: Record<string, string> = {
  "01": "ESTABLISHED", "02": "SYN_SENT", "03": "SYN_RECV", "04": "FIN_WAIT1", "05": "FIN_WAIT2", "06": "TIME_WAIT",
  "07": "CLOSE", "08": "CLOSE_WAIT", "09": "LAST_ACK", "0A": "LISTEN", "0B": "CLOSING",
};

export interface TcpSocket {
  local: number;
  remote: number;
  state: string;
}

/** TCP sockets of this network namespace by inode (/proc/net/tcp and tcp6). */
function tcpTable(): Map<string, TcpSocket> {
  const table = new Map<string, TcpSocket>();
  for (const file of ["/proc/net/tcp", "/proc/net/tcp6"]) {
    try {
      for (const row of fs.readFileSync(file, "utf8").split("\n").slice(1)) {
        const cols = row.trim().split(/\s+/);
        if (cols.length < 10 || cols[9] === "0") continue;
        const port = (addr: string): number => parseInt(addr.split(":")[1]!, 16);
        table.set(cols[9]!, { local: port(cols[1]!), remote: port(cols[2]!), state: TCP_STATES[cols[3]!] ?? cols[3]! });
      }
    } catch {
      // no IPv6, say
    }
  }
  return table;
}

/** The process's open TCP sockets: local port, remote port, state. */
export function tcpSockets(pid: number): TcpSocket[] {
  const table = tcpTable();
  const out: TcpSocket[] = [];
  try {
    for (const fd of fs.readdirSync(`/proc/${pid}/fd`)) {
      try {
        const m = /^socket:\[(\d+)\]$/.exec(fs.readlinkSync(`/proc/${pid}/fd/${fd}`));
        const sock = m ? table.get(m[1]!) : undefined;
        if (sock) out.push(sock);
      } catch {
        // closed while we looked
      }
    }
  } catch {
    // the process is gone
  }
  return out;
}

/**
 * Open TCP socket descriptors of the process (listeners included). Unix
 * sockets, such as the stdio pipes a parent process gives, do not count.
 */
export function socketCount(pid: number): number {
  return tcpSockets(pid).length;
}

export function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return !/\) [ZX] /.test(fs.readFileSync(`/proc/${pid}/stat`, "utf8"));
  } catch {
    return false;
  }
}
