// Small address helpers (xps_utils.c: is_valid_port and friends).
import net from "node:net";

export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 0 && port <= 65535;
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parse "host:port" (or a bare port, which means 127.0.0.1). Returns null
 * when the text is not an address, so callers can say what is wrong.
 */
export function parseHostPort(text: string, defaultHost = "127.0.0.1"): HostPort | null {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(text.trim());
  if (m === null) return null;
  const port = Number(m[2]);
  if (!isValidPort(port) || port === 0) return null;
  const host = m[1] === undefined || m[1] === "" ? defaultHost : m[1];
  return { host, port };
}

export function formatHostPort(addr: HostPort): string {
  return addr.host.includes(":") ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

/** Resolves true once something accepts TCP connections on host:port, false after `timeoutMs`. */
export async function waitForPort(port: number, timeoutMs: number, host = "127.0.0.1"): Promise<boolean> {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    const ok = await new Promise<boolean>((resolve) => {
      const s = net.connect({ host, port });
      s.once("connect", () => {
        s.destroy();
        resolve(true);
      });
      s.once("error", () => resolve(false));
    });
    if (ok) return true;
    await new Promise((r) => setTimeout(r, 50));
  }
  return false;
}
