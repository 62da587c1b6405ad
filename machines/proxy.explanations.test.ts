// What the operator reads: each crash and restart explained in words (crash_detected, state_change
// reasons, `why`), with the facts the record keeps (reason, pid, last exit). Killed by the mutants
// Stryker found surviving in machines/proxy/actions.ts (docs/mutation.md).
import { describe, expect, it } from 'vitest';
import { fakeSpec, T0 } from '../test/support/fake-world.ts';
import { startHarness } from '../test/support/harness.ts';

const reasons = (h: Awaited<ReturnType<typeof startHarness>>) => h.reportsOf('state_change').map((r) => `${r.from}->${r.to}: ${r.reason}`);

describe('crash and restart explanations', () => {
  it('an exit with a code: named by its code, no signal', async () => {
    const h = await startHarness();
    const process = h.world.running.get('ss-1')!;
    process.handle.exited = true;
    h.world.running.delete('ss-1');
    process.events.onExit(3, null);
    await h.settle();
    const [crash] = h.reportsOf('crash_detected');
    expect(crash).toMatchObject({ reason: 'process exited with code 3', exitCode: 3, signal: null });
    expect(h.proxy().context.lastExit).toBe('process exited with code 3');
  });

  it('failed checks: the count and the error, and neither exit code nor signal', async () => {
    const h = await startHarness();
    h.world.unhealthy.add('ss-1');
    await h.advance(3 * 30_000);
    const [crash] = h.reportsOf('crash_detected');
    expect(crash).toMatchObject({ reason: 'health check failed 3 times in a row: connection refused', exitCode: null, signal: null });
    expect(h.proxy().context.lastCheck).toMatchObject({ ok: false, error: 'connection refused' });
  });

  it('a restart whose spawn fails: reason spawn_failed, no pid, the error in words; the next one says so', async () => {
    const h = await startHarness({ settings: { restart_cooldown: 0 } });
    h.world.spawnFails.add('ss-1');
    h.world.crash('ss-1');
    await h.settle();
    const [failed] = h.reportsOf('restart_finished');
    expect(failed.record).toMatchObject({ reason: 'exited', success: false, error: 'spawn /opt/ss-1 ENOENT' });
    expect(h.proxy().context.pid).toBeNull();
    expect(reasons(h)).toContain('restarting->crashed: restart failed: spawn /opt/ss-1 ENOENT');
    // The next attempt fails the same way; it is still a restart after the exit that began it.
    await h.advance(1_000);
    expect(h.reportsOf('restart_finished')[1].record).toMatchObject({ reason: 'exited', success: false });
  });

  it('a proxy that cannot start at boot crashes as spawn_failed, explained, with no pid', async () => {
    const h = await startHarness({ world: (w) => w.spawnFails.add('ss-1') });
    const [crash] = h.reportsOf('crash_detected');
    expect(crash).toMatchObject({ reason: 'process could not be started: spawn /opt/ss-1 ENOENT', exitCode: null, signal: null });
    expect(h.proxy().context).toMatchObject({ crashKind: 'spawn_failed', pid: null });
    await h.advance(1_000);
    expect(h.reportsOf('restart_started')[0]).toMatchObject({ reason: 'spawn_failed', manual: false });
  });

  it('a restarted process that exits before min_uptime: a failed restart, explained with both times', async () => {
    const h = await startHarness({ settings: { min_uptime: 2, restart_cooldown: 0 } });
    h.world.crash('ss-1');
    await h.settle();
    await h.advance(500);
    h.world.crash('ss-1', 'SIGSEGV');
    await h.settle();
    const [failed] = h.reportsOf('restart_finished');
    expect(failed.record).toMatchObject({ success: false, error: 'exited after 0.5 s, before min_uptime 2 s (signal SIGSEGV)' });
    expect(h.proxy().context).toMatchObject({ lastExit: 'process exited on signal SIGSEGV', pid: null });
  });

  it('a restart succeeds only once the new process has stayed up min_uptime', async () => {
    const h = await startHarness({ settings: { min_uptime: 2 } });
    h.world.crash('ss-1');
    await h.settle();
    await h.advance(1_900);
    expect(h.state()).toBe('restarting.verifying');
    await h.advance(200);
    expect(h.state()).toBe('running.up');
    const [done] = h.reportsOf('restart_finished');
    expect(done.record).toMatchObject({ success: true, durationMs: 2_000 });
    expect(reasons(h)).toEqual([
      'unknown->running: daemon started',
      'running->crashed: process exited on signal SIGKILL',
      'crashed->restarting: automatic restart after: process exited on signal SIGKILL',
      'restarting->running: restart succeeded in 2000ms',
    ]);
  });

  it('an automatic restart names the crash it recovers from, not the wait before it (cooldown, monitoring off)', async () => {
    const h = await startHarness({ settings: { restart_cooldown: 60 } });
    h.world.crash('ss-1');
    await h.settle();
    h.world.crash('ss-1', 'SIGSEGV'); // inside the cooldown of the first restart: waits
    await h.settle();
    expect(h.state()).toBe('crashed.waiting');
    await h.advance(61_000);
    expect(reasons(h).at(-2)).toBe('crashed->restarting: automatic restart after: process exited on signal SIGSEGV');
    h.supervisor.command('ss-1', 'DISABLE');
    h.world.crash('ss-1', 'SIGABRT');
    await h.settle();
    expect(h.state()).toBe('crashed.held');
    await h.advance(61_000);
    h.supervisor.command('ss-1', 'ENABLE');
    await h.settle();
    expect(reasons(h).at(-2)).toBe('crashed->restarting: automatic restart after: process exited on signal SIGABRT');
  });

  it('operator stop, start, restart and removal are explained as such', async () => {
    const h = await startHarness({ specs: [fakeSpec('ss-1'), fakeSpec('ss-2')] });
    const said = (id: string) =>
      h
        .reportsOf('state_change')
        .filter((r) => r.proxyId === id)
        .map((r) => `${r.from}->${r.to}: ${r.reason}`);
    h.supervisor.command('ss-1', 'STOP');
    await h.settle();
    expect(h.proxy().context.wanted).toBe('down');
    h.supervisor.command('ss-1', 'START');
    await h.settle();
    expect(said('ss-1')).toEqual([
      'unknown->running: daemon started',
      'running->stopped: stopped by the operator',
      'stopped->running: started by the operator',
    ]);
    // A crash inside the cooldown waits; the operator's restart goes ahead of it, and `why` says so.
    h.world.crash('ss-1');
    await h.settle();
    h.world.crash('ss-1');
    await h.settle();
    expect(h.state()).toBe('crashed.waiting');
    h.supervisor.command('ss-1', 'RESTART');
    await h.settle();
    expect(h.state()).toBe('running.up');
    expect(
      h
        .reportsOf('restart_finished')
        .map((r) => r.record)
        .at(-1),
    ).toMatchObject({ reason: 'operator', manual: true, success: true });
    expect(h.proxy().context.decision).toMatchObject({
      verdict: 'allowed',
      blocker: null,
      message: 'restart requested by the operator (guards bypassed)',
    });
    h.supervisor.reconcile([fakeSpec('ss-1')], h.supervisor.settings());
    await h.settle();
    expect(said('ss-2').at(-1)).toBe('running->stopped: removed from the configuration');
  });

  it('a reload that changes what a proxy executes restarts it as config_changed, and says so', async () => {
    const h = await startHarness();
    h.supervisor.reconcile([fakeSpec('ss-1', { args: ['--new'] })], h.supervisor.settings());
    await h.settle();
    expect(h.reportsOf('restart_finished').map((r) => r.record)).toMatchObject([{ reason: 'config_changed', manual: true, success: true }]);
    expect(h.reportsOf('state_change').map((r) => r.reason)).toContain('restart: what the proxy executes changed in the configuration');
  });
});

describe('restart bookkeeping', () => {
  it('a start the daemon could not make for want of its own resources gives its attempt back to the cap', async () => {
    const earlier = T0 - 600_000;
    const h = await startHarness({
      settings: { restart_cooldown: 0, max_restarts: 2 },
      memory: { 'ss-1': { attempts: [earlier], lastAttemptAt: earlier } },
    });
    h.world.daemonShort.add('ss-1');
    h.world.crash('ss-1');
    await h.settle();
    expect(h.reportsOf('restart_finished')[0].record).toMatchObject({ success: false });
    expect(h.proxy().context.attempts).toEqual([earlier]); // this attempt given back, the earlier one kept
  });

  it('an adopted process keeps its own start time, so its uptime does not restart at the adoption', async () => {
    const startedAt = Date.UTC(2025, 11, 31, 23, 0);
    const h = await startHarness({ memory: { 'ss-1': { adoptPid: 4242, adoptStartedAt: startedAt } } });
    expect(h.world.log).toContain('adopt pid-4242 4242');
    expect(h.proxy().context).toMatchObject({ pid: 4242, startedAt });
  });

  it('a crash after stable_uptime forgets the earlier failed restarts (no backoff left from them)', async () => {
    const h = await startHarness({
      settings: { stable_uptime: 120, restart_cooldown: 0 },
      memory: { 'ss-1': { consecutiveFailures: 4, lastFailureAt: Date.UTC(2026, 0, 1) } },
    });
    await h.advance(119_000);
    h.world.crash('ss-1');
    await h.settle();
    expect(h.proxy().context.consecutiveFailures).toBe(4); // 119 s: not yet stable
    await h.advance(121_000);
    h.world.crash('ss-1');
    await h.settle();
    expect(h.proxy().context.consecutiveFailures).toBe(0);
  });

  it('an attempt exactly one hour old has left the window: it neither counts nor stays in the record', async () => {
    const h = await startHarness({ memory: { 'ss-1': { attempts: [T0 - 3_600_000, T0 - 600_000], lastAttemptAt: T0 - 600_000 } } });
    h.world.crash('ss-1');
    await h.settle();
    expect(h.proxy().context.attempts).toEqual([T0 - 600_000, T0]);
    expect(h.proxy().context.decision?.inputs.restartsInWindow).toBe(1);
  });

  it("an operator's restart of a live proxy whose new process cannot start is a failed restart, then a crash", async () => {
    const h = await startHarness();
    h.world.spawnFails.add('ss-1');
    h.supervisor.command('ss-1', 'RESTART');
    await h.settle();
    expect(h.reportsOf('restart_finished').map((r) => r.record)).toMatchObject([{ reason: 'operator', manual: true, success: false }]);
    expect(h.reportsOf('crash_detected')).toHaveLength(1);
  });
  it('a proxy that cannot be started says why in its last exit, which `why` shows', async () => {
    const h = await startHarness({ specs: [fakeSpec('ghost')], settings: { restart_cooldown: 600 } });
    h.world.spawnFails.add('ghost');
    h.world.crash('ghost');
    await h.advance(1_000);
    expect(h.proxy('ghost').context.lastExit).toMatch(/^process could not be started: /);
  });
});
