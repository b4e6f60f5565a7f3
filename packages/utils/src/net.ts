// Small address helpers (xps_utils.c: is_valid_port and friends).
import net from "node:net";

/**
 * A port a server can listen on or dial: an integer from 1 to 65535. The C
 * course's is_valid_port also takes 0, which asks the kernel for any free
 * port; no user means that by --ports or --upstream, so 0 is refused here.
 */
export function isValidPort(port: number): boolean {
  return Number.isInteger(port) && port >= 1 && port <= 65535;
}

export interface HostPort {
  host: string;
  port: number;
}

/**
 * Parse "host:port", "[v6 address]:port", or a bare port, which means
 * `defaultHost` (127.0.0.1). Returns null when the text is not an address,
 * so callers can say what is wrong: an empty host before the colon (":80"),
 * a missing port, a port outside 1 to 65535.
 */
export function parseHostPort(text: string, defaultHost = "127.0.0.1"): HostPort | null {
  const m = /^(?:\[?([^\]]*?)\]?:)?(\d{1,5})$/.exec(text.trim());
  if (m === null) return null;
  const port = Number(m[2]);
  if (!isValidPort(port)) return null;
  if (m[1] === undefined) return { host: defaultHost, port };
  if (m[1].trim() === "") return null;
  return { host: m[1], port };
}

export function formatHostPort(addr: HostPort): string {
  return addr.host.includes(":") ? `[${addr.host}]:${addr.port}` : `${addr.host}:${addr.port}`;
}

const NAME_ERRORS = new Set(["ENOTFOUND", "EAI_AGAIN", "EAI_FAIL", "EAI_NONAME", "EAI_NODATA"]);

/** The error code says a host name could not be resolved (getaddrinfo failed), not that a connect or bind failed. */
export function isNameError(code: string | undefined): boolean {
  return code !== undefined && NAME_ERRORS.has(code);
}

/** Why a host name did not resolve, for a log line: "ENOTFOUND" or "EAI_AGAIN, no name server answered". */
export function describeNameError(code: string): string {
  return code === "EAI_AGAIN" ? "EAI_AGAIN, no name server answered" : code;
}

const LOOPBACK = new net.BlockList();
LOOPBACK.addSubnet("127.0.0.0", 8, "ipv4");
LOOPBACK.addAddress("::1", "ipv6");

/** An address only this machine can reach: 127.0.0.0/8 or ::1 (also 127.x mapped into IPv6). */
export function isLoopback(address: string): boolean {
  const family = net.isIP(address);
  return family !== 0 && LOOPBACK.check(address, family === 4 ? "ipv4" : "ipv6");
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
