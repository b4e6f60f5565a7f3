// Small address helpers (xps_utils.c: is_valid_port and friends).

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
