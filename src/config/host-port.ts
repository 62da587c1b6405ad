// "host:port" strings as they appear in the config (api.listen, health.tcp, snell's listen). No zod
// here: the CLI reads api.listen with this module and must start fast.
import { isIP, isIPv6 } from 'node:net';

export interface HostPort {
  host: string;
  port: number;
}

// IPv6 hosts must be bracketed ("[::1]:8080"), otherwise the last colon would be ambiguous.
const HOST_PORT = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:[\]]+)):(\d{1,5})$/;

// Labels of letters, digits, hyphens (RFC 1123) and underscores (names Docker's DNS resolves).
const LABEL = '[A-Za-z0-9_](?:[A-Za-z0-9_-]{0,61}[A-Za-z0-9_])?';
// At most 253 characters, not counting the root's trailing dot.
const HOST_NAME = new RegExp(`^(?=.{1,253}\\.?$)(?:${LABEL}\\.)*${LABEL}\\.?$`);
// A name whose last label is all digits is an IPv4 address (RFC 3696 section 2): 999.1.1.1 is a bad
// one, which getaddrinfo would only refuse at bind or connect.
const NUMERIC_END = /(?:^|\.)\d+\.?$/;

/** An IP address or a plausible DNS name (not checked to resolve: it may not yet at load). */
export function isHost(host: string): boolean {
  return isIP(host) !== 0 || (HOST_NAME.test(host) && !NUMERIC_END.test(host));
}

/** What parseHostPort takes, in the words of a config error. */
export const hostPortExpected = (minPort = 1) => `expected "host:port" with an IP address or host name and a port ${minPort}-65535`;

/** `minPort` 0 admits port 0 (a listener that lets the kernel pick a free port). */
export function parseHostPort(text: string, minPort = 1): HostPort | undefined {
  const m = HOST_PORT.exec(text);
  if (!m) return undefined;
  const port = Number(m[3]);
  if (port < minPort || port > 65535) return undefined;
  const host = m[1] ?? m[2];
  // Brackets hold an IPv6 address only.
  if (m[1] !== undefined ? !isIPv6(host) : !isHost(host)) return undefined;
  return { host, port };
}

/** An IPv6 address as written in brackets ("[::]"), without them; any other host as it is. */
export const unbracketed = (host: string) => host.replace(/^\[(.*)\]$/, '$1');

/** A wildcard bind address cannot be connected to: connect to loopback instead. */
export function connectableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}
