// Every number a user can set has a range, the same for the file, PATCH and `config set`: a duration
// past Node's timer limit (2^31-1 ms, 24.8 days) would fire at once, a tiny one would spin.
import { describe, expect, it } from 'vitest';
import { formatIssues } from '../../src/config/errors.ts';
import { parseConfigText } from '../../src/config/load.ts';
import { monitorSettingsSchema, partialMonitorSettingsSchema } from '../../src/config/schema.ts';

const FILE = 'config.yaml';

/** [key path under proxy.monitor, lowest accepted, highest accepted, a value below, a value above] */
const RANGES: Array<[string, number, number, number, number]> = [
  ['check_interval', 1, 86_400, 1e-9, 3_000_000],
  ['restart_cooldown', 0, 86_400, -1, 3_000_000],
  ['health_timeout', 0.1, 300, 0.01, 3_000_000],
  ['start_grace', 0.1, 3_600, 0, 3_000_000],
  ['stop_timeout', 0.1, 3_600, 0, 3_000_000],
  ['stable_uptime', 1, 86_400, 0.5, 3_000_000],
  ['backoff.initial', 0.01, 86_400, 0, 3_000_000],
  ['backoff.max', 0.01, 86_400, 0, 3_000_000],
  ['backoff.factor', 1, 100, 0.5, 1e6],
  ['max_restarts', 1, 1_000_000, 0, 1e7],
  ['check_concurrency', 1, 10_000, 0, 1e6],
  ['failure_threshold', 1, 1_000, 0, 1e6],
];

/** { a: { b: v } } for "a.b"; backoff.initial at its extremes keeps initial <= max. */
function setting(path: string, value: number): Record<string, unknown> {
  const [key, sub] = path.split('.');
  if (!sub) return { [key]: value };
  const other = sub === 'initial' ? { max: 86_400 } : sub === 'max' ? { initial: 0.01 } : {};
  return { [key]: { ...other, [sub]: value } };
}

describe('duration and count ranges', () => {
  for (const [path, low, high, below, above] of RANGES) {
    it(`${path}: ${low}..${high} accepted; ${below} and ${above} refused with the range, in the file and in a PATCH`, () => {
      for (const ok of [low, high]) expect(monitorSettingsSchema.safeParse(setting(path, ok)).success, `${path}=${ok}`).toBe(true);
      for (const bad of [below, above]) {
        const text = `proxy:\n  monitor: ${JSON.stringify(setting(path, bad))}\n`;
        expect(() => parseConfigText(text, FILE), `${path}=${bad}`).toThrow(
          new RegExp(`^${FILE}: proxy\\.monitor\\.${path.replace('.', '\\.')}: expected .*from ${low} to ${high}`),
        );
        const patch = partialMonitorSettingsSchema.safeParse(setting(path, bad), { reportInput: true });
        expect(patch.success, `PATCH ${path}=${bad}`).toBe(false);
        expect(formatIssues(patch.error!.issues)[0]).toMatchObject({ path, message: expect.stringContaining(`from ${low} to ${high}`) });
      }
    });
  }

  it('history and log numbers have ranges too', () => {
    for (const text of [
      'history: { max_age: 0 }',
      'history: { max_age: 1e12 }',
      'history: { max_records: 1e9 }',
      'log: { output_rate: 0 }',
      'log: { output_rate: 1e7 }',
      'log: { output_rate: 10001 }', // a yes proxy allowed 100000 lines a second took the daemon to 1 GB
      'log: { max_files: 100000 }',
    ]) {
      expect(() => parseConfigText(`${text}\n`, FILE), text).toThrow(/expected .*from \S+ to \S+/);
    }
  });
});
