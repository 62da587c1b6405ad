import { describe, expect, it } from 'vitest';
import { formatIssues } from '../../src/config/errors.ts';
import { configSchema, monitorSettingsSchema, partialMonitorSettingsSchema } from '../../src/config/schema.ts';
import { sizeBytes } from '../../src/config/size.ts';

describe('monitor settings schemas', () => {
  it('partial schema accepts a subset without filling in defaults', () => {
    expect(partialMonitorSettingsSchema.parse({ check_interval: 15 })).toEqual({ check_interval: 15 });
    expect(partialMonitorSettingsSchema.parse({ backoff: { max: 60 } })).toEqual({ backoff: { max: 60 } });
  });

  it('partial schema is strict and keeps the value rules', () => {
    const bad = partialMonitorSettingsSchema.safeParse({ check_interval: 0, bogus: 1 }, { reportInput: true });
    expect(bad.success).toBe(false);
    expect(formatIssues(bad.error!.issues)).toEqual([
      { path: 'check_interval', message: 'expected seconds from 1 to 86400 (1 s to 1 day), got 0' },
      { path: 'bogus', message: 'unknown key' },
    ]);
  });

  it('full schema rejects a backoff whose max is below its initial wait', () => {
    const r = monitorSettingsSchema.safeParse({ backoff: { initial: 10, max: 5 } }, { reportInput: true });
    expect(formatIssues(r.error!.issues, ['proxy', 'monitor'])).toEqual([
      { path: 'proxy.monitor.backoff.max', message: 'expected a number >= backoff.initial (10), got 5' },
    ]);
  });
});

describe('counts', () => {
  // A cap of 0 restarts, 0 checks at once or a threshold of 0 failures would silently disable what it bounds.
  const counts: Array<[string, Record<string, unknown>]> = [
    ['proxy.monitor.max_restarts', { proxy: { monitor: { max_restarts: 0 } } }],
    ['proxy.monitor.check_concurrency', { proxy: { monitor: { check_concurrency: 0 } } }],
    ['proxy.monitor.failure_threshold', { proxy: { monitor: { failure_threshold: 0 } } }],
    ['history.max_records', { history: { max_records: 0 } }],
    ['log.max_files', { log: { max_files: 0 } }],
  ];
  for (const [path, input] of counts) {
    it(`${path}: 0 is refused, 1 is accepted`, () => {
      const zero = configSchema.safeParse(input, { reportInput: true });
      expect(zero.success).toBe(false);
      expect(formatIssues(zero.error!.issues)).toEqual([{ path, message: expect.stringMatching(/expected .*1.*, got 0/) }]);
      const one = JSON.parse(JSON.stringify(input).replace(':0}', ':1}'));
      expect(configSchema.safeParse(one).success).toBe(true);
    });
  }
  it('the PATCH schema refuses 0 too', () => {
    expect(partialMonitorSettingsSchema.safeParse({ max_restarts: 0 }).success).toBe(false);
    expect(partialMonitorSettingsSchema.safeParse({ check_concurrency: 0 }).success).toBe(false);
    expect(partialMonitorSettingsSchema.safeParse({ failure_threshold: 0 }).success).toBe(false);
  });
});

describe('sizeBytes (log.max_size too)', () => {
  it('reads k/m/g suffixes as powers of 1024', () => {
    expect(sizeBytes('10m')).toBe(10 * 1024 * 1024);
    expect(sizeBytes('512K')).toBe(512 * 1024);
    expect(sizeBytes('1gb')).toBe(1024 ** 3);
    expect(sizeBytes('100')).toBe(100);
  });

  it('log.max_size takes a plain number of bytes as max_memory does, and has a range', () => {
    expect(configSchema.parse({ log: { max_size: 1048576 } }).log.max_size).toBe(1048576);
    for (const max_size of [0, '0', 512, '2t', 'big']) {
      const bad = configSchema.safeParse({ log: { max_size } });
      expect(bad.success).toBe(false);
      expect(formatIssues(bad.error!.issues)[0]).toMatchObject({
        path: 'log.max_size',
        message: expect.stringContaining('between 1KiB and 1TiB'),
      });
    }
  });
});
