// The memory watchdog: a check carries the proxy's memory and its limit; the machine restarts a proxy
// found above the limit failure_threshold checks in a row, like any other crash.
import { describe, expect, it } from 'vitest';
import { fakeSpec } from '../test/support/fake-world.ts';
import { startHarness, type HarnessOptions } from '../test/support/harness.ts';

const MiB = 2 ** 20;

/** A harness whose processes measure `rss.bytes` (changeable during the test). */
async function bloating(options: HarnessOptions) {
  const h = await startHarness({
    ...options,
    settings: { check_interval: 10, failure_threshold: 3, restart_cooldown: 60, ...options.settings },
  });
  const rss = { bytes: 10 * MiB };
  h.world.driver.measure = (pids) => new Map(pids.map((pid) => [pid, { memoryBytes: rss.bytes, cpuSeconds: 0 }]));
  return { ...h, rss };
}

describe('memory watchdog', () => {
  it('restarts a proxy above max_memory for failure_threshold checks in a row, with reason memory', async () => {
    const h = await bloating({ specs: [fakeSpec('ss-1', { maxMemory: 256 * MiB })] });
    h.rss.bytes = 300 * MiB;
    await h.advance(20_000);
    expect(h.state()).toBe('running.up');
    expect(h.proxy().context.memoryStrikes).toBe(2);
    expect(h.proxy().context.lastCheck?.memory).toEqual({ bytes: 300 * MiB, limit: 256 * MiB });
    await h.advance(10_000);
    const [crash] = h.reportsOf('crash_detected');
    expect(crash.reason).toBe('memory 300.0 MiB above the limit of 256.0 MiB for 3 checks in a row');
    expect(h.world.log).toContain('kill ss-1');
    await h.settle();
    expect(h.state()).toBe('running.up');
    expect(h.reportsOf('restart_finished').map((r) => r.record)).toMatchObject([{ reason: 'memory', manual: false, success: true }]);
    expect(h.proxy().context.memoryStrikes).toBe(0);
  });

  it('forgets a streak the moment a check finds the proxy within its limit', async () => {
    const h = await bloating({ specs: [fakeSpec('ss-1', { maxMemory: 256 * MiB })] });
    h.rss.bytes = 300 * MiB;
    await h.advance(20_000);
    h.rss.bytes = 256 * MiB; // exactly at the limit is within it
    await h.advance(10_000);
    expect(h.proxy().context.memoryStrikes).toBe(0);
    h.rss.bytes = 300 * MiB;
    await h.advance(20_000);
    expect(h.state()).toBe('running.up');
    expect(h.reportsOf('crash_detected')).toEqual([]);
  });

  it('counts a check that fails as a strike too when the proxy is above its limit', async () => {
    const h = await bloating({ specs: [fakeSpec('ss-1', { maxMemory: 256 * MiB })] });
    h.rss.bytes = 300 * MiB;
    h.world.unhealthy.add('ss-1');
    await h.advance(20_000);
    expect(h.proxy().context).toMatchObject({ checkFailures: 2, memoryStrikes: 2 });
  });

  it("uses proxy.monitor.max_memory for proxies without their own, and a proxy's own before it", async () => {
    const h = await bloating({
      settings: { max_memory: '100MiB' },
      specs: [fakeSpec('ss-1'), fakeSpec('big', { maxMemory: 512 * MiB })],
    });
    h.rss.bytes = 300 * MiB;
    await h.advance(30_000);
    expect(h.reportsOf('crash_detected').map((r) => r.proxyId)).toEqual(['ss-1']);
    expect(h.proxy('big').context.lastCheck?.memory).toEqual({ bytes: 300 * MiB, limit: 512 * MiB });
  });

  it('without a limit, measures but never restarts', async () => {
    const h = await bloating({});
    h.rss.bytes = 4096 * MiB;
    await h.advance(60_000);
    expect(h.proxy().context.lastCheck?.memory).toEqual({ bytes: 4096 * MiB, limit: null });
    expect(h.reportsOf('crash_detected')).toEqual([]);
  });

  it('a memory restart waits for the cooldown and counts against the hourly cap like any automatic restart', async () => {
    const h = await bloating({ specs: [fakeSpec('ss-1', { maxMemory: 256 * MiB })], settings: { restart_cooldown: 600, max_restarts: 2 } });
    h.world.crash('ss-1'); // a first restart starts the cooldown
    await h.settle();
    h.rss.bytes = 300 * MiB;
    await h.advance(30_000);
    expect(h.state()).toBe('crashed.waiting');
    const decision = h.proxy().context.decision!;
    expect(decision).toMatchObject({ verdict: 'withheld', blocker: 'cooldown' });
    expect(h.proxy().context.crashKind).toBe('memory');
    expect(h.proxy().context.attempts).toHaveLength(1);
    await h.advance(decision.nextAttemptAt! - h.world.clock.now());
    expect(h.state()).toBe('running.up');
    expect(h.reportsOf('restart_finished').map((r) => r.record.reason)).toEqual(['exited', 'memory']);
    expect(h.proxy().context.attempts).toHaveLength(2);
  });

  it('a failing check that also meets the failure threshold is a health-check crash', async () => {
    const h = await bloating({ specs: [fakeSpec('ss-1', { maxMemory: 256 * MiB })] });
    h.rss.bytes = 300 * MiB;
    h.world.unhealthy.add('ss-1');
    await h.advance(30_000);
    expect(h.reportsOf('crash_detected')).toHaveLength(1);
    expect(h.proxy().context.crashKind).toBe('health_check_failed');
  });
});
