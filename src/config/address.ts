// Schemas of the config's "host:port" strings and ports (the parsing itself is in host-port.ts).
import { z } from 'zod';
import { parseHostPort } from './host-port.ts';

export const hostPortSchema = z
  .string()
  .refine((s) => parseHostPort(s) !== undefined, { error: 'expected "host:port" with a port 1-65535' });

/** A listen address: port 0 lets the kernel choose (the daemon logs the address it got). */
export const listenSchema = z
  .string()
  .refine((s) => parseHostPort(s, 0) !== undefined, { error: 'expected "host:port" with a port 0-65535' });

export const portSchema = z.int().min(1).max(65535);
