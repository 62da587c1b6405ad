// `proxy-monitor config set KEY=VALUE...` (runtime change of proxy.monitor and of logger.level) and
// `reload` (re-read the config file, as SIGHUP does).
import { parse } from 'yaml';
import type { ReloadOutcome } from '../../api/context.ts';
import type { MonitorSettings } from '../../config/schema.ts';
import { ClientError } from '../client.ts';
import { json, UsageError, type ClientCommand } from './command.ts';

/**
 * ["check_interval=10", "backoff.max=600"] -> { check_interval: 10, backoff: { max: 600 } }; values are
 * YAML scalars. A key may also be spelled as in the config file and the Ranges table
 * (`proxy.monitor.check_interval`).
 */
export function assignments(pairs: string[]): Record<string, unknown> {
  // No prototype: `constructor` or `__proto__` is a key like any other, which the daemon refuses by name.
  const patch: Record<string, unknown> = Object.create(null);
  for (const pair of pairs) {
    const eq = pair.indexOf('=');
    const path =
      eq > 0
        ? pair
            .slice(0, eq)
            .replace(/^proxy\.monitor\./, '')
            .split('.')
        : [];
    if (path.length === 0 || path.some((key) => !/^[A-Za-z_][A-Za-z0-9_]*$/.test(key))) {
      throw new UsageError(`expected KEY=VALUE (nested keys with dots, e.g. backoff.max=600), got "${pair}"`);
    }
    let target = patch;
    for (const key of path.slice(0, -1)) {
      const next = Object.hasOwn(target, key) ? target[key] : Object.create(null);
      if (typeof next !== 'object' || next === null) throw new UsageError(`${path.join('.')}: ${key} is set to a value above`);
      target = target[key] = next as Record<string, unknown>;
    }
    const key = path[path.length - 1];
    if (Object.hasOwn(target, key)) throw new UsageError(`${path.join('.')}: given twice`);
    // An empty value is refused, not read as YAML's null (which removes a limit): it is an unset
    // shell variable more often than a wish (`config set max_memory=$LIMIT`).
    if (pair.slice(eq + 1).trim() === '')
      throw new UsageError(`${path.join('.')}: expected a value after "=", got none (to remove a limit, write ${path.join('.')}=null)`);
    const value = scalar(path.join('.'), pair.slice(eq + 1));
    // JSON has no Infinity: sent, it would arrive as null, and the daemon's refusal would say null.
    if (typeof value === 'number' && !Number.isFinite(value))
      throw new UsageError(`${path.join('.')}: expected a finite number, got ${pair.slice(eq + 1)}`);
    target[key] = value;
  }
  return patch;
}

/** A value as YAML reads it; what it cannot read is the user's mistake, said in one line. */
function scalar(key: string, text: string): unknown {
  try {
    return parse(text);
  } catch (error) {
    const why = (error as Error).message.split('\n')[0];
    throw new UsageError(
      `${key}: expected a YAML value (a number, true/false, a string; quote it if it holds *, &, [ or {), got ${JSON.stringify(text)}: ${why}`,
    );
  }
}

/**
 * The daemon's refusal of a PATCH names fields of its body (`body: check_interval: ...`); said to
 * the operator, they are the keys as the config file and the Ranges table write them.
 */
function asKeysInFile(error: unknown): unknown {
  if (!(error instanceof ClientError) || !error.issues?.length || !error.issues.every((issue) => issue.in === 'body')) return error;
  const key = (field: string) => (field === 'logger' || field.startsWith('logger.') ? field : `proxy.monitor.${field}`);
  return new ClientError(error.issues.map((issue) => (issue.field ? `${key(issue.field)}: ${issue.message}` : issue.message)).join('; '));
}

export const config: ClientCommand = {
  usage: 'config set KEY=VALUE... [--json]',
  args: { min: 2, max: Infinity },
  async run({ client, args: [sub, ...pairs], json: asJson, out }) {
    if (sub !== 'set') throw new UsageError(`config takes "set KEY=VALUE...", got "${sub}"`);
    const reply = await client
      .patch<{ config: MonitorSettings; logger: { level: string }; changed: string[] }>('/config', assignments(pairs))
      .catch((error: unknown) => {
        throw asKeysInFile(error);
      });
    if (asJson) return out(json(reply));
    if (reply.changed.length === 0) return out('nothing changed\n');
    const newValue = (key: string) => (key === 'logger.level' ? reply.logger.level : (reply.config[key as keyof MonitorSettings] ?? null));
    const shown = reply.changed.map((key) => `${key}=${JSON.stringify(newValue(key))}`);
    // The log level applies at once; proxy.monitor settings from the next check round.
    const monitorChanged = reply.changed.some((key) => key !== 'logger.level');
    const when = !monitorChanged
      ? 'at once'
      : reply.changed.includes('logger.level')
        ? 'logger.level at once, the rest from the next check round'
        : 'from the next check round';
    out(`changed ${shown.join(', ')} (${when}; a reload or restart goes back to the file)\n`);
  },
};

export const reload: ClientCommand = {
  usage: 'reload [--json]',
  args: { min: 0, max: 0 },
  async run({ client, json: asJson, out }) {
    const changes = await client.post<Extract<ReloadOutcome, { ok: true }>['changes']>('/reload');
    if (asJson) return out(json(changes));
    const list = (ids: string[]) => (ids.length ? ids.join(', ') : 'none');
    out(
      `config reloaded: added ${list(changes.added)}; removed ${list(changes.removed)}; changed (restarted unless stopped) ${list(changes.changed)}; ` +
        `changed in place ${list(changes.reconfigured)}; settings ${list(changes.settings)}` +
        (changes.at_next_start.length ? ` (at the next daemon start: ${changes.at_next_start.join(', ')})` : '') +
        '\n',
    );
  },
};
