// "host:port" strings as they appear in the config (api.listen, health.tcp, snell's listen). No zod
// here: the CLI reads api.listen with this module and must start fast.

export interface HostPort {
  host: string;
  port: number;
}

// IPv6 hosts must be bracketed ("[::1]:8080"), otherwise the last colon would be ambiguous.
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/;

/** `minPort` 0 admits port 0 (a listener that lets the kernel pick a free port). */
export function parseHostPort(text: string, minPort = 1): HostPort | undefined {
  const m = HOST_PORT.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < minPort || port > 65535) return undefined;
  return { host: m[1] ?? m[2], port };
}

/** A wildcard bind address cannot be connected to: connect to loopback instead. */
export function connectableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}
