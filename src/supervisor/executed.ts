// What restarts a proxy: a change to what it executes. This one function decides it, for a reload
// (reconcile) and for adoption at boot alike.
import { createHash } from 'node:crypto';
import type { ProxySpec } from '../proxy-spec.ts';

/**
 * Spec fields that apply in place, on the next check, with the same process (the memory watchdog's
 * limit and the per-proxy overrides included). Every other field (command, args, env, cwd, the generated config files, the
 * account, capabilities and limits it runs with, and whatever a spec gains later) is part of what
 * is executed: when in doubt, a change restarts.
 */
const APPLIED_IN_PLACE: ReadonlySet<string> = new Set<keyof ProxySpec>([
  'id',
  'type',
  'health',
  'monitor',
  'secrets',
  'maxMemory',
  'settings',
]);

/** Specs are values, never changed once loaded: each one's digest is computed once (one per spawn was 2 % of a restart storm). */
const digests = new WeakMap<ProxySpec, string>();

/** Digest of what the proxy's process is started from; equal digests mean the process need not change. */
export function executedFingerprint(spec: ProxySpec): string {
  let digest = digests.get(spec);
  if (digest === undefined) {
    const executed = Object.fromEntries(Object.entries(spec).filter(([key]) => !APPLIED_IN_PLACE.has(key)));
    digest = createHash('sha256').update(canonicalJson(executed)).digest('hex');
    digests.set(spec, digest);
  }
  return digest;
}

/** Is the health check of `next` another than the one of `current` (the order of its keys is no change)? */
export function healthChanged(current: ProxySpec | undefined, next: ProxySpec | undefined): boolean {
  return canonicalJson(current?.health) !== canonicalJson(next?.health);
}

/** JSON with object keys sorted: the order of `env` in the YAML file is not a change. */
export function canonicalJson(value: unknown): string {
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (value === null || typeof value !== 'object') return JSON.stringify(value) ?? 'null';
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
}
