// What a reload changes outside the proxy list, key by key, for its log line and audit row:
// `{ "proxy.monitor.check_interval": { old: 30, new: 10 } }`. Secrets are named, never shown.
import type { Config } from './schema.ts';

/** Settings read once, at the daemon's start: a reload records their change, and that it waits for the next start. */
export const READ_AT_START: readonly string[] = ['api.listen', 'state_dir', 'log.file', 'log.max_size', 'log.max_files'];

export type SettingChanges = Record<string, { old: unknown; new: unknown }>;

const SECRETS = new Set(['api.token']);
const REDACTED = '[redacted]';

function flatten(value: unknown, prefix: string, into: Map<string, unknown>): Map<string, unknown> {
  if (value !== null && typeof value === 'object' && !Array.isArray(value)) {
    for (const [key, inner] of Object.entries(value)) flatten(inner, prefix ? `${prefix}.${key}` : key, into);
  } else {
    into.set(prefix, value);
  }
  return into;
}

/** Every setting whose value differs, proxy.proxies left out (reconcile reports those by id). */
export function settingChanges(before: Config, after: Config): SettingChanges {
  const settings = (c: Config) => flatten({ ...c, proxy: { monitor: c.proxy.monitor } }, '', new Map());
  const old = settings(before);
  const next = settings(after);
  const changes: SettingChanges = {};
  for (const key of new Set([...old.keys(), ...next.keys()])) {
    const [a, b] = [old.get(key), next.get(key)];
    if (JSON.stringify(a) === JSON.stringify(b)) continue;
    const shown = (v: unknown) => (SECRETS.has(key) && v !== undefined ? REDACTED : v);
    changes[key] = { old: shown(a) ?? null, new: shown(b) ?? null };
  }
  return changes;
}
