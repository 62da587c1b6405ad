// Reports -> rows, committed before the hook returns (that is, before the daemon logs the report).
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import type { ProxyPhase } from '../../machines/proxy/context.ts';
import type { ProxyEmitted } from '../../machines/proxy/events.ts';
import { createRecorder } from '../../src/store/recorder.ts';
import { openStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/types.ts';
import { createSupervisor, type Supervisor } from '../../src/supervisor/supervisor.ts';
import { createFakeWorld, fakeSpec, flush } from '../support/fake-world.ts';
import { testSettings } from '../support/harness.ts';

let store: Store;
let supervisor: Supervisor;
afterEach(async () => {
  await supervisor.shutdown();
  store.close();
});

/** `seen` runs in the hook right after the recorder, where the daemon would log the report. */
async function setup(seen: (report: ProxyEmitted) => void = () => {}) {
  const world = createFakeWorld();
  store = openStore(join(mkdtempSync(join(tmpdir(), 'pm-rec-')), 'state'), { maxAgeMs: 3_600_000 * 24, maxRecords: 100 });
  const recorder = createRecorder(store, (text) => text.replaceAll('hunter2', '[REDACTED]'));
  supervisor = createSupervisor({
    world,
    settings: testSettings,
    specs: [fakeSpec('ss-1')],
    hooks: {
      onReport: (report) => {
        recorder.record(report);
        seen(report);
      },
      onCheckRound: recorder.checkRoundFinished,
    },
  });
  supervisor.start();
  await flush();
  return world;
}

describe('recorder', () => {
  it('commits a restart and its audit record before the report goes on, and counts it while in flight', async () => {
    const observed: string[] = [];
    const world = await setup((report) => {
      if (report.type === 'state_change' && report.to === 'restarting') {
        observed.push(`in flight: attempts ${store.memory('ss-1', report.at).attempts?.length}, history ${store.restarts({}).length}`);
      }
      if (report.type === 'restart_finished') {
        observed.push(`finished: history ${store.restarts({}).length}, audit ${store.audits({}).map((a) => a.action)}`);
      }
    });
    const at = world.clock.now();
    world.crash('ss-1');
    await flush();
    expect(observed).toEqual(['in flight: attempts 1, history 0', 'finished: history 1, audit proxy_auto_restart']);
    expect(store.restarts({})).toEqual([{ proxyId: 'ss-1', at, reason: 'exited', manual: false, success: true, durationMs: 0 }]);
    expect(store.audits({})).toEqual([
      {
        at,
        user: 'system',
        action: 'proxy_auto_restart',
        proxyId: 'ss-1',
        detail: { success: true, reason: 'exited', proxy_type: 'exec', duration_ms: 0 },
      },
    ]);
    expect(store.memory('ss-1', at).stats).toEqual({ checks: 0, restarts: 1, successes: 1, failures: 0 });
  });

  it('records an operator restart as manual, outside the cap', async () => {
    const world = await setup();
    world.spawnFails.add('ss-1');
    world.crash('ss-1');
    await flush();
    // The failed automatic attempt: backoff pending. The operator restarts it anyway.
    supervisor.command('ss-1', 'RESTART');
    await flush();
    const [manual, automatic] = store.restarts({});
    expect(automatic).toMatchObject({ manual: false, success: false, error: 'spawn /opt/ss-1 ENOENT' });
    expect(manual).toMatchObject({ manual: true, reason: 'operator', success: false });
    expect(store.audits({ limit: 1 })[0]).toMatchObject({ user: 'operator', action: 'proxy_manual_restart' });
    // The operator's restart started the backoff over; its own failure is the first since.
    expect(store.memory('ss-1', world.clock.now())).toMatchObject({ attempts: [automatic.at], consecutiveFailures: 1 });
  });

  it('stores the counters the checks move', async () => {
    const world = await setup();
    await world.advance(testSettings.check_interval * 1000 * 3);
    expect(store.memory('ss-1', world.clock.now()).stats?.checks).toBe(3);
  });

  it('redacts secrets in stored errors', async () => {
    await setup();
    const { record: recordError } = createRecorder(store, (text) => text.replaceAll('hunter2', '[REDACTED]'));
    recordError({
      type: 'restart_finished',
      proxyId: 'ss-9',
      proxyType: 'shadowsocks',
      counters: { stats: { checks: 0, restarts: 1, successes: 0, failures: 1 }, consecutiveFailures: 1, lastFailureAt: 6 },
      record: { at: 1, reason: 'exited', manual: false, success: false, durationMs: 5, error: 'bad password hunter2' },
    });
    expect(store.restarts({ proxyId: 'ss-9' })[0].error).toBe('bad password [REDACTED]');
    expect(store.audits({ proxyId: 'ss-9' })[0].detail.error).toBe('bad password [REDACTED]');
  });

  it('keeps the crash a proxy is down after (redacted) through its restart, and forgets it once it is up or removed', async () => {
    await setup();
    const { record } = createRecorder(store, (text) => text.replaceAll('hunter2', '[REDACTED]'));
    const counters = { stats: { checks: 0, restarts: 0, successes: 0, failures: 0 }, consecutiveFailures: 0, lastFailureAt: null };
    const change = (from: ProxyPhase, to: ProxyPhase, crash?: { kind: 'exited'; reason: string }) =>
      record({ proxyId: 'ss-7', proxyType: 'exec', type: 'state_change', at: 1, from, to, reason: 'x', counters, ...(crash && { crash }) });
    change('running', 'crashed', { kind: 'exited', reason: 'process exited with code 1; password hunter2' });
    // Crashed: a live process found at the next start is the crashed one, still being stopped.
    expect(store.memory('ss-7', 2).carriedCrash).toEqual({ kind: 'exited', reason: 'process exited with code 1; password [REDACTED]' });
    record({ proxyId: 'ss-7', proxyType: 'exec', type: 'restart_started', at: 2, reason: 'exited', manual: false, counters });
    change('crashed', 'restarting');
    // Its restart begun: a live process is that restart's.
    expect(store.memory('ss-7', 2).carriedCrash).toEqual({
      kind: 'exited',
      reason: 'process exited with code 1; password [REDACTED]',
      restarting: true,
    });
    change('restarting', 'running');
    expect(store.memory('ss-7', 2).carriedCrash).toBeNull();
    change('running', 'crashed', { kind: 'exited', reason: 'again' });
    record({ proxyId: 'ss-7', proxyType: 'exec', type: 'retired', at: 3, counters });
    expect(store.memory('ss-7', 4).carriedCrash).toBeNull();
  });

  it('needs nothing but the reports: a restart counts from restart_started, and the newest counters win', async () => {
    await setup();
    const { record, checkRoundFinished } = createRecorder(store, (text) => text);
    const counters = (checks: number, failures: number) => ({
      stats: { checks, restarts: failures, successes: 0, failures },
      consecutiveFailures: failures,
      lastFailureAt: failures ? 50 : null,
    });
    const proxy = { proxyId: 'ss-8', proxyType: 'exec' } as const;
    record({ ...proxy, type: 'check_finished', at: 10, ok: true, durationMs: 1, counters: counters(1, 0) });
    record({ ...proxy, type: 'restart_started', at: 40, reason: 'exited', manual: false, counters: counters(1, 0) });
    expect(store.memory('ss-8', 41)).toMatchObject({ attempts: [40], stats: counters(1, 0).stats });
    record({ ...proxy, type: 'check_finished', at: 45, ok: true, durationMs: 1, counters: counters(2, 0) });
    const failed = { at: 40, reason: 'exited', manual: false, success: false, durationMs: 10, error: 'boom' } as const;
    record({ ...proxy, type: 'restart_finished', record: failed, counters: counters(2, 1) });
    // The round ends after the restart's report: the check's older counters must not overwrite it.
    checkRoundFinished();
    expect(store.memory('ss-8', 60)).toMatchObject({
      attempts: [40],
      stats: counters(2, 1).stats,
      consecutiveFailures: 1,
      lastFailureAt: 50,
    });
    expect(store.restarts({ proxyId: 'ss-8' })).toEqual([{ proxyId: 'ss-8', ...failed }]);
  });
  it('writes once per check round, not per check, and nothing when nothing changed; the audit row is dated at the end of the restart', async () => {
    await setup();
    const writes: string[] = [];
    const counting = new Proxy(store, {
      get(target, key: keyof Store) {
        const value = target[key];
        if (typeof value !== 'function') return value;
        return (...args: unknown[]) => {
          if (['transaction', 'saveCounters', 'beginRestart', 'addRestart', 'addAudit'].includes(key)) writes.push(key);
          return (value as (...a: unknown[]) => unknown).apply(target, args);
        };
      },
    });
    const { record, checkRoundFinished } = createRecorder(counting, (text) => text);
    const counters = (checks: number) => ({
      stats: { checks, restarts: 0, successes: 0, failures: 0 },
      consecutiveFailures: 0,
      lastFailureAt: null,
    });
    const proxy = { proxyId: 'ss-7', proxyType: 'exec' } as const;
    for (const checks of [1, 2, 3])
      record({ ...proxy, type: 'check_finished', at: checks, ok: true, durationMs: 1, counters: counters(checks) });
    expect(writes).toEqual([]);
    checkRoundFinished();
    expect(writes).toEqual(['transaction', 'saveCounters']);
    expect(store.memory('ss-7', 10).stats?.checks).toBe(3);
    writes.length = 0;
    // A round with no check, a check that changed no counter, a report that carries the saved counters: no write.
    checkRoundFinished();
    record({ ...proxy, type: 'check_finished', at: 4, ok: true, durationMs: 1, counters: counters(3) });
    checkRoundFinished();
    record({ ...proxy, type: 'crash_detected', at: 5, reason: 'x', exitCode: 1, signal: null, counters: counters(3) });
    expect(writes).toEqual([]);

    const finished = { at: 40, reason: 'exited', manual: false, success: true, durationMs: 250 } as const;
    record({ ...proxy, type: 'restart_finished', record: finished, counters: counters(3) });
    expect(writes).toEqual(['transaction', 'addRestart', 'addAudit']);
    expect(store.audits({ proxyId: 'ss-7' })[0].at).toBe(290);
  });
});
