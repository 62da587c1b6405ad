// Schemas of the config's "host:port" strings and ports (the parsing itself is in host-port.ts).
import { isIPv6 } from 'node:net';
import * as z from 'zod';
import { hostPortExpected, isHost, parseHostPort, unbracketed } from './host-port.ts';

export const hostPortSchema = z.string().refine((s) => parseHostPort(s) !== undefined, { error: hostPortExpected() });

/** A listen address: port 0 lets the kernel choose (the daemon logs the address it got). */
export const listenSchema = z.string().refine((s) => parseHostPort(s, 0) !== undefined, { error: hostPortExpected(0) });

/** A DNS name or an IP address, without a port. */
export const hostnameSchema = z.string().refine(isHost, {
  error: 'expected a host name such as monitor.example.com (no port, no scheme)',
});

export const portSchema = z.int().min(1).max(65535);

/** An address a typed server listens on or forwards to: refused at load, not at the server's bind. An IPv6 address may be in brackets. */
export const hostSchema = z.string().refine((h) => isHost(h) || isIPv6(unbracketed(h)), {
  error: 'expected an IP address (such as 0.0.0.0 or ::) or a host name',
});
