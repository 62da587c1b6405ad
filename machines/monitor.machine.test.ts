// The monitor as the operator sees it: status before and after a round, which proxies a round
// probes, settings that must survive a runtime change, and totals that must survive a removal.
// Killed by the mutants Stryker found surviving in machines/monitor* (docs/mutation.md).
import { describe, expect, it } from 'vitest';
import type { ProxyMemory } from './proxy/context.ts';
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
    expect(h.supervisor.settings().enable).toBe(true);
    h.supervisor.configure({ ...h.supervisor.settings(), check_interval: 7 });
    await h.settle();
    expect(h.supervisor.status().running).toBe(true);
  });

  it("the operator's monitor start is `enable: true` for a later runtime change, and a stop leaves `enable` alone", async () => {
    // Over enable: false, started: a runtime enable: false pauses it again (it kept watching once,
    // while the reply said enable: false).
    const off = await startHarness({ settings: { enable: false } });
    off.supervisor.startMonitor();
    await off.settle();
    off.supervisor.configure({ ...off.supervisor.settings(), enable: false });
    await off.settle();
    expect(off.supervisor.status()).toMatchObject({ running: false, config: { enable: false } });
    // Over enable: true, stopped: paused on purpose, not disabled.
    const on = await startHarness();
    on.supervisor.stopMonitor();
    await on.settle();
    expect(on.supervisor.status()).toMatchObject({ running: false, config: { enable: true } });
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

  it('a removed proxy put back (its counters restored from the store) counts once in the totals, however often', async () => {
    const memory: Record<string, Partial<ProxyMemory>> = {};
    const h = await startHarness({ specs: [fakeSpec('ss-1'), fakeSpec('ss-2')], memory });
    h.world.crash('ss-2');
    await h.settle();
    for (let i = 0; i < 3; i++) {
      memory['ss-2'] = { stats: h.proxy('ss-2').context.stats }; // what the store keeps of it
      h.supervisor.reconcile([fakeSpec('ss-1')], testSettings);
      await h.settle();
      h.supervisor.reconcile([fakeSpec('ss-1'), fakeSpec('ss-2')], testSettings);
      await h.settle();
      expect(h.supervisor.status().stats, `cycle ${i + 1}`).toMatchObject({ total_restarts: 1, success_restarts: 1 });
    }
  });

  it('counts the stored counters of proxies removed before this run, not those of the configured ones twice', async () => {
    const stats = {
      'ss-1': { checks: 10, restarts: 2, successes: 2, failures: 0 },
      gone: { checks: 5, restarts: 3, successes: 2, failures: 1 },
    };
    const h = await startHarness({ specs: [fakeSpec('ss-1')], memory: { 'ss-1': { stats: stats['ss-1'] } }, stats });
    expect(h.supervisor.status().stats).toMatchObject({ total_checks: 15, total_restarts: 5, success_restarts: 4, failed_restarts: 1 });
  });
});
