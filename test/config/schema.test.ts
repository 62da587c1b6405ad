import { describe, expect, it } from 'vitest';
import { formatIssues } from '../../src/config/errors.ts';
import { monitorSettingsSchema, partialMonitorSettingsSchema, sizeToBytes } from '../../src/config/schema.ts';

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

describe('sizeToBytes', () => {
  it('reads k/m/g suffixes as powers of 1024', () => {
    expect(sizeToBytes('10m')).toBe(10 * 1024 * 1024);
    expect(sizeToBytes('512K')).toBe(512 * 1024);
    expect(sizeToBytes('1gb')).toBe(1024 ** 3);
    expect(sizeToBytes('100')).toBe(100);
  });
});
