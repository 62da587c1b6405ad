// What a client command is: its usage line, its arguments, and what it does with the API client.
import { PROXY_ID, PROXY_ID_EXPECTED } from '../../config/proxy-id.ts';
import type * as z from 'zod';
import type { Client } from '../client.ts';

export interface CommandContext {
  client: Client;
  /** Positional arguments after the command name. */
  args: string[];
  json: boolean;
  /** Values of the command's own options. */
  options: Record<string, string | undefined>;
  out(text: string): void;
}

export interface ClientCommand {
  /** After "proxy-monitor ", e.g. "why ID [--json]". */
  usage: string;
  /** Allowed number of positional arguments. */
  args: { min: number; max: number };
  /** Options of this command beyond --url, --token and --json (all take a value). */
  options?: string[];
  /** The API's schema for those options: checked before anything is sent, so a mistake is a usage error. */
  query?: z.ZodType;
  run(ctx: CommandContext): Promise<void>;
}

/** A mistake in the command line: usage is shown, exit code 2. */
export class UsageError extends Error {
  override name = 'UsageError';
}

export const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

/**
 * The API path of a proxy. A word that cannot be an id is a usage mistake: sent, ".." would be
 * resolved by the URL and `stop ..` would stop the whole monitor.
 */
export function proxyPath(id: string): string {
  if (!PROXY_ID.test(id)) throw new UsageError(`"${id}" is not a proxy id: ${PROXY_ID_EXPECTED}`);
  return `/proxies/${encodeURIComponent(id)}`;
}
