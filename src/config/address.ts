// "host:port" strings as they appear in the config (api.listen, health.tcp, snell's listen).
import { z } from 'zod';

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

export const hostPortSchema = z
  .string()
  .refine((s) => parseHostPort(s) !== undefined, { error: 'expected "host:port" with a port 1-65535' });

/** A listen address: port 0 lets the kernel choose (the daemon logs the address it got). */
export const listenSchema = z
  .string()
  .refine((s) => parseHostPort(s, 0) !== undefined, { error: 'expected "host:port" with a port 0-65535' });

/** A DNS name or an IP address, without a port. */
export const hostnameSchema = z
  .string()
  .regex(/^(?:[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$|^[0-9A-Fa-f:.]+$/, {
    error: 'expected a host name such as monitor.example.com (no port, no scheme)',
  });

export const portSchema = z.int().min(1).max(65535);

/** A wildcard bind address cannot be connected to: health checks go to loopback instead. */
export function connectableHost(host: string): string {
  if (host === '0.0.0.0' || host === '') return '127.0.0.1';
  if (host === '::' || host === '[::]') return '::1';
  return host;
}
