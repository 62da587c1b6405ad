// The client side of the CLI: commands that talk to a running daemon over its HTTP API, found as
// discovery.ts says (--url/--token, their variables, else the daemon's config file). Prefer the
// variable for the token: a command line is visible to every local user in `ps`.
import { parseArgs } from 'node:util';
import { formatIssues, parseOptions } from '../config/errors.ts';
import { ClientError, createClient, OutcomeUnknown, shownUrl } from './client.ts';
import { audit } from './commands/audit.ts';
import { UsageError, type ClientCommand } from './commands/command.ts';
import { config, reload } from './commands/config.ts';
import { monitor, proxyCommands } from './commands/control.ts';
import { history } from './commands/history.ts';
import { show } from './commands/show.ts';
import { status } from './commands/status.ts';
import { why } from './commands/why.ts';
import { DEFAULT_CONFIGS, DEFAULT_URL, DiscoveryError, findDaemon } from './discovery.ts';

export const CLIENT_COMMANDS: Record<string, ClientCommand> = {
  status,
  show,
  why,
  history,
  audit,
  ...proxyCommands,
  monitor,
  config,
  reload,
};

export const CLIENT_USAGE = `${Object.values(CLIENT_COMMANDS)
  .map((command) => `  proxy-monitor ${command.usage}`)
  .join('\n')}
  client options: --config FILE (the daemon's config: its api.listen and api.token; default $PROXY_MONITOR_CONFIG,
                  else the first of ${DEFAULT_CONFIGS.join(', ')} that exists),
                  --url URL (default $PROXY_MONITOR_URL, else from the config, else ${DEFAULT_URL}),
                  --token TOKEN (default $PROXY_MONITOR_TOKEN, else from the config),
                  --timeout SECONDS to wait for the daemon's answer, 1 to 3600 (default $PROXY_MONITOR_TIMEOUT, else 10)
`;

/** Seconds the CLI waits for an answer: --timeout, else $PROXY_MONITOR_TIMEOUT, else 10. */
function timeoutMs(flag: string | undefined, env: Record<string, string | undefined>): number {
  const [given, name] = flag !== undefined ? [flag, '--timeout'] : [env.PROXY_MONITOR_TIMEOUT, 'PROXY_MONITOR_TIMEOUT'];
  if (given === undefined) return 10_000;
  const seconds = Number(given);
  if (given.trim() === '' || !Number.isFinite(seconds) || seconds < 1 || seconds > 3600)
    throw new UsageError(`${name}: expected seconds from 1 to 3600, got "${given}"`);
  return seconds * 1000;
}

export interface Io {
  out(text: string): void;
  err(text: string): void;
  env: Record<string, string | undefined>;
  /** The config files tried when none is named (tests point them away from /etc). */
  configs?: string[];
}

const processIo: Io = { out: (t) => process.stdout.write(t), err: (t) => process.stderr.write(t), env: process.env };

/**
 * Runs a client command; the exit code is 0, 1 (the daemon refused or is unreachable), 2 (usage) or
 * 3 (a change was sent and not answered: it may have been made).
 */
export async function runClientCommand(name: string, argv: string[], io: Io = processIo): Promise<number> {
  const command = CLIENT_COMMANDS[name];
  try {
    const own = Object.fromEntries((command.options ?? []).map((o) => [o, { type: 'string' as const }]));
    const parsed = parseArgs({
      args: argv,
      allowPositionals: true,
      options: {
        url: { type: 'string' },
        token: { type: 'string' },
        timeout: { type: 'string' },
        config: { type: 'string', short: 'c' },
        json: { type: 'boolean' },
        ...own,
      },
    });
    const { positionals } = parsed;
    const values = parsed.values as Record<string, string | boolean | undefined>;
    if (positionals.length < command.args.min || positionals.length > command.args.max) {
      throw new UsageError(`usage: proxy-monitor ${command.usage}`);
    }
    const options = Object.fromEntries((command.options ?? []).map((o) => [o, values[o] as string | undefined]));
    if (command.query) {
      const given = Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined));
      const checked = command.query.safeParse(given, parseOptions);
      if (!checked.success) {
        const issues = formatIssues(checked.error.issues);
        throw new UsageError(issues.map((issue) => `--${issue.path}: ${issue.message}`).join('; '));
      }
    }
    const flags = values as { url?: string; token?: string; config?: string; timeout?: string };
    const waitMs = timeoutMs(flags.timeout, io.env);
    const { url, token, listenFrom } = await findDaemon({ flags, env: io.env, warn: io.err, defaults: io.configs });
    if (!URL.canParse(url) || !/^https?:$/.test(new URL(url).protocol)) {
      throw new UsageError(`${flags.url ? '--url' : 'PROXY_MONITOR_URL'}: expected an http:// URL, got "${shownUrl(url)}"`);
    }
    await command.run({
      client: createClient({ url, token, source: listenFrom, timeoutMs: waitMs }),
      args: positionals,
      json: values.json === true,
      options,
      out: io.out,
    });
    return 0;
  } catch (error) {
    if (error instanceof ClientError) {
      io.err(`proxy-monitor: ${error.message}\n`);
      return error instanceof OutcomeUnknown ? 3 : 1;
    }
    if (error instanceof UsageError || error instanceof DiscoveryError || (error as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')) {
      io.err(`proxy-monitor ${name}: ${(error as Error).message}\n`);
      return 2;
    }
    throw error;
  }
}
