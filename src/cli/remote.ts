// The client side of the CLI: commands that talk to a running daemon over its HTTP API.
// --url and --token default to PROXY_MONITOR_URL and PROXY_MONITOR_TOKEN (prefer the variable for
// the token: a command line is visible to every local user in `ps`).
import { parseArgs } from 'node:util';
import { ClientError, createClient, DEFAULT_URL } from './client.ts';
import { audit } from './commands/audit.ts';
import { UsageError, type ClientCommand } from './commands/command.ts';
import { config, reload } from './commands/config.ts';
import { monitor, proxyCommands } from './commands/control.ts';
import { history } from './commands/history.ts';
import { show } from './commands/show.ts';
import { status } from './commands/status.ts';
import { why } from './commands/why.ts';

export const CLIENT_COMMANDS: Record<string, ClientCommand> = { status, show, why, history, audit, ...proxyCommands, monitor, config, reload };

export const CLIENT_USAGE = `${Object.values(CLIENT_COMMANDS)
  .map((command) => `  proxy-monitor ${command.usage}`)
  .join('\n')}
  client options: --url URL (default $PROXY_MONITOR_URL or ${DEFAULT_URL}), --token TOKEN (default $PROXY_MONITOR_TOKEN)
`;

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
}

const processIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env };

/** Runs a client command; the exit code is 0, 1 (the daemon refused or is unreachable) or 2 (usage). */
export async function runClientCommand(name: string, argv: string[], io: Io = processIo): Promise<number> {
  const command = CLIENT_COMMANDS[name];
  try {
    const own = Object.fromEntries((command.options ?? []).map((o) => [o, { type: 'string' as const }]));
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: { url: { type: 'string' }, token: { type: 'string' }, json: { type: 'boolean' }, ...own },
    });
    const { positionals } = parsed;
    const values = parsed.values as Record<string, string | boolean | undefined>;
    if (positionals.length < command.args.min || positionals.length > command.args.max) {
      throw new UsageError(`usage: proxy-monitor ${command.usage}`);
    }
    const url = (values.url as string | undefined) ?? io.env.PROXY_MONITOR_URL ?? DEFAULT_URL;
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) throw new UsageError(`--url: expected an http:// URL, got "${url}"`);
    const token = (values.token as string | undefined) ?? (io.env.PROXY_MONITOR_TOKEN || undefined);
    const options = Object.fromEntries((command.options ?? []).map((o) => [o, values[o] as string | undefined]));
    await command.run({ client: createClient({ url, token }), args: positionals, json: values.json === true, options, out: io.out });
    return 0;
  } catch (error) {
    if (error instanceof ClientError) {
      io.err(`proxy-monitor: ${error.message}\n`);
      return 1;
    }
    if (error instanceof UsageError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`proxy-monitor ${name}: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}
