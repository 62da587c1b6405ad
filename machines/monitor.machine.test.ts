// The monitor as the operator sees it: status before and after a round, which proxies a round
// probes, settings that must survive a runtime change, and totals that must survive a removal.
// Killed by the mutants Stryker found surviving in machines/monitor* (docs/mutation.md).
import { describe, expect, it } from 'vitest';
import { fakeSpec, T0 } from '../test/support/fake-world.ts';
import { startHarness, testSettings } from '../test/support/harness.ts';

describe('monitor', () => {
  it('status: no last check time before the first round, its time after', async () => {
    const h = await startHarness();
    expect(h.supervisor.status().stats.last_check_time).toBeNull();
    await h.advance(30_000);
    expect(h.supervisor.status().stats.last_check_time).toBe(new Date(T0 + 30_000).toISOString());
  });

  it('a round probes the running proxies only, not one the operator stopped', async () => {
    const h = await startHarness({ specs: [fakeSpec('ss-1'), fakeSpec('ss-2')] });
    h.supervisor.command('ss-2', 'STOP');
    await h.settle();
    await h.advance(30_000);
    expect(h.world.log.filter((l) => l.startsWith('probe'))).toEqual(['probe ss-1']);
  });

  it('a monitor the operator started over enable: false keeps watching through a runtime change', async () => {
    const h = await startHarness({ settings: { enable: false } });
    h.supervisor.startMonitor();
    await h.settle();
    h.supervisor.configure({ ...testSettings, enable: false, check_interval: 7 });
    await h.settle();
    expect(h.supervisor.status().running).toBe(true);
  });

  it('a proxy added by a reload keeps its own settings through a later runtime change', async () => {
    const h = await startHarness();
    h.supervisor.reconcile([fakeSpec('ss-1'), fakeSpec('ss-2', { settings: { failure_threshold: 5 } })], testSettings);
    await h.settle();
    h.supervisor.configure({ ...testSettings, check_interval: 20 });
    await h.settle();
    expect(h.proxy('ss-2').context.policy).toMatchObject({ failureThreshold: 5, cooldownMs: 60_000 });
    expect(h.proxy('ss-1').context.policy.failureThreshold).toBe(3);
  });

  it("a removed proxy's restarts stay in the monitor's totals", async () => {
    const h = await startHarness({ specs: [fakeSpec('ss-1'), fakeSpec('ss-2')] });
    h.world.crash('ss-2');
    await h.settle();
    expect(h.supervisor.status().stats).toMatchObject({ total_restarts: 1, success_restarts: 1 });
    h.supervisor.reconcile([fakeSpec('ss-1')], testSettings);
    await h.settle();
    expect(h.supervisor.proxy('ss-2')).toBeUndefined();
    expect(h.supervisor.status()).toMatchObject({ total_proxies: 1, stats: { total_restarts: 1, success_restarts: 1 } });
  });
});
