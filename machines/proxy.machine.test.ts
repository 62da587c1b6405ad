import { describe, expect, it } from 'vitest';
import { whyReply } from '../src/api/views.ts';
import { fakeSpec, T0 } from '../test/support/fake-world.ts';
import { startHarness } from '../test/support/harness.ts';
import { isCleanExit } from './proxy/policy.ts';

describe('proxy machine: the design document transitions', () => {
  it('unknown -> running: boot spawns the process', async () => {
    const h = await startHarness();
    expect(h.state()).toBe('running.up');
    expect(h.world.log).toContain('spawn ss-1');
    expect(h.reportsOf('state_change')[0]).toMatchObject({ from: 'unknown', to: 'running' });
  });

  it('unknown -> stopped: a proxy the operator stopped stays stopped at boot', async () => {
    const h = await startHarness({ memory: { 'ss-1': { wanted: 'down' } } });
    expect(h.state()).toBe('stopped.down');
    expect(h.world.log).not.toContain('spawn ss-1');
  });

  it('a process that ended while the daemon was down is a crash at boot: recorded, and its restart held by the stored guards', async () => {
    const h = await startHarness({
      settings: { restart_cooldown: 60 },
      memory: { 'ss-1': { lostProcess: true, lastAttemptAt: T0 - 30_000 } },
    });
    expect(h.reportsOf('crash_detected')).toMatchObject([{ reason: 'process ended while the daemon was down (exit status unknown)' }]);
    expect(h.reportsOf('state_change').map((r) => `${r.from}->${r.to}`)).toEqual(['unknown->running', 'running->crashed']);
    expect(h.state()).toBe('crashed.waiting'); // its last attempt was 30 s ago: 30 s of cooldown left
    expect(h.world.log).not.toContain('spawn ss-1');
    await h.advance(29_000);
    expect(h.state()).toBe('crashed.waiting');
    await h.advance(6_000);
    expect(h.state()).toBe('running.up');
    expect(h.reportsOf('restart_finished')).toMatchObject([{ record: { reason: 'exited', success: true, manual: false } }]);
  });

  it('crashed, its hung process being stopped when the daemon died: adopted and stopped again at boot, no new crash', async () => {
    const carriedCrash = { kind: 'health_check_failed' as const, reason: 'health check failed 3 times in a row: refused' };
    const h = await startHarness({
      settings: { restart_cooldown: 0, stop_timeout: 10 },
      memory: { 'ss-1': { carriedCrash, adoptPid: 4242, consecutiveFailures: 2, lastFailureAt: T0 - 1_000 } },
      world: (world) => world.stubborn.add('pid-4242'), // the adopted process, by its pid
    });
    expect(h.state()).toBe('crashed.reaping');
    expect(h.world.log).toEqual(['adopt pid-4242 4242', 'kill pid-4242']);
    expect(h.reportsOf('crash_detected')).toEqual([]); // the same hang, not a second crash
    expect(h.proxy().context.consecutiveFailures).toBe(2); // nor a second failure
    await h.advance(10_500); // stop_timeout: killed, then restarted as its policy allows
    expect(h.state()).toBe('running.up');
    expect(h.reportsOf('restart_finished')).toMatchObject([{ record: { reason: 'health_check_failed', success: true } }]);
  });

  it('crashed, then stopped by the operator, when the daemon died: stopped at boot, and a later start is a plain start', async () => {
    const carriedCrash = { kind: 'health_check_failed' as const, reason: 'health check failed 3 times in a row' };
    const h = await startHarness({ memory: { 'ss-1': { carriedCrash, adoptPid: 4242, wanted: 'down' } } });
    await h.settle();
    expect(h.state()).toBe('stopped.down'); // its hung process stopped
    h.supervisor.command('ss-1', 'START');
    await h.settle();
    expect(h.state()).toBe('running.up'); // not taken for the crash carried over, its new process killed
    expect(h.reportsOf('state_change').some((r) => r.carriedOver)).toBe(false);
  });

  it('down after a crash when the daemon stopped: not started at boot, its restart waits for the stored guards', async () => {
    const carriedCrash = { kind: 'health_check_failed' as const, reason: 'health check failed 3 times in a row: refused' };
    const h = await startHarness({ settings: { restart_cooldown: 60 }, memory: { 'ss-1': { carriedCrash, lastAttemptAt: T0 - 30_000 } } });
    expect(h.reportsOf('state_change').map((r) => `${r.from}->${r.to}`)).toEqual(['unknown->running', 'running->crashed']);
    expect(h.reportsOf('state_change')[1].reason).toMatch(/^crashed before the daemon stopped \(health check failed 3 times/);
    expect(h.reportsOf('crash_detected')).toEqual([]); // not a new crash
    expect(h.reportsOf('state_change').map((r) => r.carriedOver)).toEqual([true, true]); // and its steps say so
    expect(h.state()).toBe('crashed.waiting');
    expect(h.world.log).not.toContain('spawn ss-1');
    await h.advance(29_000);
    expect(h.world.log).not.toContain('spawn ss-1');
    await h.advance(6_000);
    expect(h.state()).toBe('running.up');
    expect(h.reportsOf('restart_finished')).toMatchObject([{ record: { reason: 'health_check_failed', success: true, manual: false } }]);
  });

  it('a crash carried over yields to a process of its own (a restart in flight, or lost while away), and is not carried by a proxy a reload adds', async () => {
    const carriedCrash = { kind: 'exited' as const, reason: 'process exited with code 1' };
    // Its restart's new process, running when the daemon died: adopted, up.
    const adopting = await startHarness({ memory: { 'ss-1': { carriedCrash: { ...carriedCrash, restarting: true }, adoptPid: 4242 } } });
    expect(adopting.state()).toBe('running.up');
    expect(adopting.world.log).toEqual(['adopt pid-4242 4242']);

    // Down after a crash, its restart's process then lost while the daemon was down: that exit is the crash.
    const lost = await startHarness({ memory: { 'ss-1': { carriedCrash, lostProcess: true } } });
    expect(lost.reportsOf('crash_detected')).toMatchObject([{ reason: 'process ended while the daemon was down (exit status unknown)' }]);
    expect(lost.reportsOf('restart_finished')).toMatchObject([{ record: { success: true } }]);
    expect(lost.reportsOf('state_change').filter((r) => r.carriedOver)).toEqual([]); // a crash seen now

    const h = await startHarness({ specs: [], memory: { 'ss-2': { carriedCrash } } });
    h.supervisor.reconcile([fakeSpec('ss-2')], h.supervisor.settings());
    await h.settle();
    expect(h.state('ss-2')).toBe('running.up');
    expect(h.world.log).toContain('spawn ss-2');
    expect(h.reportsOf('state_change').map((r) => `${r.from}->${r.to}: ${r.reason}`)).toEqual([
      'unknown->running: added to the configuration',
    ]);
  });

  it('running -> crashed -> restarting -> running on an exit', async () => {
    const h = await startHarness();
    h.world.crash('ss-1');
    await h.settle();
    expect(h.phase()).toBe('running');
    expect(h.reportsOf('state_change').map((r) => `${r.from}->${r.to}`)).toEqual([
      'unknown->running',
      'running->crashed',
      'crashed->restarting',
      'restarting->running',
    ]);
    const [restart] = h.reportsOf('restart_finished');
    expect(restart.record).toMatchObject({ reason: 'exited', success: true, manual: false });
    expect(h.reportsOf('crash_detected')[0]).toMatchObject({ signal: 'SIGKILL', reason: 'process exited on signal SIGKILL' });
    expect(h.supervisor.status().stats).toMatchObject({ total_restarts: 1, success_restarts: 1, failed_restarts: 0 });
  });

  it('running -> stopped -> running by operator stop and start', async () => {
    const h = await startHarness();
    h.supervisor.command('ss-1', 'STOP');
    expect(h.state()).toBe('stopped.stopping');
    await h.settle();
    expect(h.state()).toBe('stopped.down');
    expect(h.world.running.has('ss-1')).toBe(false);
    h.supervisor.command('ss-1', 'START');
    await h.settle();
    expect(h.state()).toBe('running.up');
    expect(h.world.log.filter((l) => l === 'spawn ss-1')).toHaveLength(2);
  });

  it('restarting -> crashed when the restarted process is not ready in its grace', async () => {
    const h = await startHarness();
    h.world.unhealthy.add('ss-1');
    h.world.crash('ss-1');
    await h.settle();
    expect(h.state()).toBe('crashed.waiting');
    const [restart] = h.reportsOf('restart_finished');
    expect(restart.record).toMatchObject({ success: false, reason: 'exited' });
    expect(restart.record.error).toMatch(/not ready/);
    expect(h.world.log).toContain('kill ss-1');
    // `why` says what failed, not only which guard holds the next attempt.
    expect(whyReply(h.proxy(), h.world.clock.now(), []).last_restart_failure).toBe(restart.record.error);
  });
});

describe('proxy machine: guards', () => {
  it('a crash inside the cooldown waits for its end, then restarts (never dropped)', async () => {
    const h = await startHarness({ settings: { restart_cooldown: 60 } });
    h.world.crash('ss-1');
    await h.settle();
    const firstAttempt = h.world.clock.now();
    await h.advance(10_000);
    h.world.crash('ss-1');
    await h.settle();
    expect(h.state()).toBe('crashed.waiting');
    const why = h.proxy().context.decision!;
    expect(why).toMatchObject({ verdict: 'withheld', blocker: 'cooldown', nextAttemptAt: firstAttempt + 60_000 });
    expect(why.inputs.cooldownRemainingMs).toBe(50_000);
    await h.advance(49_900);
    expect(h.state()).toBe('crashed.waiting');
    await h.advance(200);
    expect(h.state()).toBe('running.up');
    expect(h.reportsOf('restart_finished')).toHaveLength(2);
  });

  it('at the hourly cap the proxy stays crashed, says when a slot frees, and restarts then', async () => {
    const h = await startHarness({ settings: { restart_cooldown: 1, max_restarts: 3, stable_uptime: 1 } }); // each restart holds
    const attempts: number[] = [];
    for (let i = 0; i < 3; i++) {
      h.world.crash('ss-1');
      attempts.push(h.world.clock.now());
      await h.settle();
      expect(h.state()).toBe('running.up');
      await h.advance(5_000);
    }
    h.world.crash('ss-1');
    await h.settle();
    expect(h.state()).toBe('crashed.waiting');
    const why = h.proxy().context.decision!;
    expect(why).toMatchObject({ blocker: 'restart_cap', nextAttemptAt: attempts[0] + 3_600_000 });
    expect(why.inputs).toMatchObject({ restartsInWindow: 3, maxRestarts: 3 });
    expect(why.message).toMatch(/restart cap reached \(3\/3/);
    expect(h.reportsOf('restart_withheld').at(-1)!.decision.blocker).toBe('restart_cap');
    await h.advance(attempts[0] + 3_600_000 - h.world.clock.now() - 100);
    expect(h.state()).toBe('crashed.waiting');
    await h.advance(200);
    expect(h.state()).toBe('running.up');
  });

  it('a failed restart is retried with exponential backoff inside the cooldown', async () => {
    const h = await startHarness({ settings: { restart_cooldown: 0, backoff: { initial: 2, factor: 2, max: 10 } } });
    h.world.spawnFails.add('ss-1');
    const t0 = h.world.clock.now();
    h.world.crash('ss-1');
    await h.settle();
    // Attempt 1 at t0 fails; then 2s, 4s, 8s, 10s (capped) between attempts.
    await h.advance(30_000);
    const attempts = h.reportsOf('restart_finished').map((r) => r.record.at - t0);
    expect(attempts).toEqual([0, 2_000, 6_000, 14_000, 24_000]);
    expect(h.reportsOf('restart_finished').every((r) => !r.record.success)).toBe(true);
    expect(h.proxy().context.decision).toMatchObject({ blocker: 'backoff' });
    h.world.spawnFails.delete('ss-1');
    await h.advance(10_000);
    expect(h.state()).toBe('running.up');
    expect(h.supervisor.status().stats).toMatchObject({ total_restarts: 6, success_restarts: 1, failed_restarts: 5 });
  });

  it("restarts that fail for the daemon's own resources (EMFILE) back off but never use up the cap", async () => {
    const h = await startHarness({ settings: { restart_cooldown: 0, max_restarts: 3, backoff: { initial: 2, factor: 2, max: 10 } } });
    h.world.daemonShort.add('ss-1');
    const t0 = h.world.clock.now();
    h.world.crash('ss-1');
    await h.settle();
    await h.advance(60_000);
    const failed = h.reportsOf('restart_finished').map((r) => r.record);
    expect(failed.length).toBeGreaterThan(3); // past the cap of 3, yet still tried
    expect(failed.map((r) => r.at - t0).slice(0, 4)).toEqual([0, 2_000, 6_000, 14_000]); // backed off
    expect(failed[0].error).toMatch(/EMFILE \(the daemon is short of its own resources: not counted against the restart cap\)/);
    expect(h.proxy().context.decision).toMatchObject({ blocker: 'backoff' });
    expect(h.proxy().context.attempts).toEqual([]);
    h.world.daemonShort.delete('ss-1');
    await h.advance(10_000);
    expect(h.state()).toBe('running.up');
    expect(h.proxy().context.attempts).toHaveLength(1);
  });

  it('backoff resets after a stable uptime', async () => {
    const h = await startHarness({ settings: { restart_cooldown: 0, stable_uptime: 60, backoff: { initial: 5, factor: 2, max: 300 } } });
    h.world.spawnFails.add('ss-1');
    h.world.crash('ss-1');
    await h.settle();
    await h.advance(5_000);
    h.world.spawnFails.delete('ss-1');
    await h.advance(10_000);
    expect(h.state()).toBe('running.up');
    expect(h.proxy().context.consecutiveFailures).toBe(2);
    await h.advance(61_000);
    h.world.crash('ss-1');
    await h.settle();
    expect(h.state()).toBe('running.up');
    expect(h.proxy().context.consecutiveFailures).toBe(0);
  });

  it('a crash within stable_uptime of a restart that succeeded grows the backoff (min_uptime 0, no cooldown: no thrash)', async () => {
    const h = await startHarness({ settings: { restart_cooldown: 0, min_uptime: 0, stable_uptime: 60, max_restarts: 1000 } });
    const t0 = h.world.clock.now();
    // A process that exits 10 ms after each start, for 20 s.
    for (let at = 0; at < 20_000; at += 10) {
      if (h.phase() === 'running') h.world.crash('ss-1');
      await h.advance(10);
    }
    const restarts = h.reportsOf('restart_finished').map((r) => r.record);
    expect(restarts.every((r) => r.success)).toBe(true); // each one came up (min_uptime 0) ...
    // ... and did not hold: 1 s, 2 s, 4 s, 8 s between them, not one per exit.
    expect(restarts.map((r) => r.at - t0)).toEqual([0, 1_010, 3_010, 7_010, 15_010]);
    expect(h.proxy().context.decision?.message).toMatch(/backed off after 5 restart\(s\) that failed or did not stay up stable_uptime/);
  });

  it("the operator's start or restart, and a change to what it executes, start the backoff over", async () => {
    const h = await startHarness({ settings: { restart_cooldown: 0, backoff: { initial: 2, factor: 2, max: 300 } } });
    h.world.spawnFails.add('ss-1');
    h.world.crash('ss-1');
    await h.advance(20_000); // failed at 0, 2, 6, 14 s: 16 s of backoff pending
    expect(h.proxy().context.consecutiveFailures).toBe(4);
    h.world.spawnFails.delete('ss-1');
    for (const command of ['RESTART', 'STOP', 'START'] as const) {
      h.supervisor.command('ss-1', command);
      await h.settle();
    }
    expect(h.proxy().context.consecutiveFailures).toBe(0);
    // The fixed proxy's first crash, within stable_uptime of the operator's restart: the backoff's
    // first step (2 s), not the fifth (32 s).
    h.world.crash('ss-1');
    await h.settle();
    expect(h.proxy().context.decision?.inputs.backoffMs).toBe(2_000);
    await h.advance(2_100);
    expect(h.state()).toBe('running.up');

    h.world.spawnFails.add('ss-1');
    h.world.crash('ss-1');
    await h.advance(20_000);
    expect(h.proxy().context.consecutiveFailures).toBeGreaterThan(1);
    h.world.spawnFails.delete('ss-1');
    h.supervisor.replace('ss-1'); // a reload fixed its command
    await h.settle();
    expect(h.state()).toBe('running.up');
    expect(h.proxy().context.consecutiveFailures).toBe(0);
  });

  it('a start while a restart is in flight starts nothing, and leaves the backoff as it is', async () => {
    const h = await startHarness({ settings: { restart_cooldown: 0, backoff: { initial: 2, factor: 2, max: 300 } } });
    h.world.spawnFails.add('ss-1');
    h.world.crash('ss-1');
    await h.advance(7_000); // failed at 0, 2, 6 s
    expect(h.proxy().context.consecutiveFailures).toBe(3);
    h.world.startupMs.set('ss-1', 5_000);
    h.world.spawnFails.delete('ss-1');
    await h.advance(7_100); // the next attempt (at 14 s) is in flight
    expect(h.phase()).toBe('restarting');
    h.supervisor.command('ss-1', 'START');
    await h.settle();
    expect(h.proxy().context.consecutiveFailures).toBe(3);
  });

  it("an operator's restart whose program cannot be started counts once in the backoff", async () => {
    const h = await startHarness({ settings: { restart_cooldown: 0, backoff: { initial: 2, factor: 2, max: 300 } } });
    h.world.spawnFails.add('ss-1');
    h.supervisor.command('ss-1', 'RESTART');
    await h.settle();
    expect(h.proxy().context.consecutiveFailures).toBe(1);
    expect(h.proxy().context.decision?.inputs.backoffMs).toBe(2_000);
  });

  it('a disabled proxy is never checked nor restarted, and resumes when enabled', async () => {
    const h = await startHarness();
    h.supervisor.command('ss-1', 'DISABLE');
    await h.advance(31_000);
    expect(h.world.log).not.toContain('probe ss-1');
    h.world.crash('ss-1');
    await h.settle();
    expect(h.state()).toBe('crashed.held');
    expect(h.proxy().context.decision).toMatchObject({ verdict: 'held', blocker: 'monitoring_disabled', nextAttemptAt: null });
    await h.advance(3_600_000);
    expect(h.world.log.filter((l) => l === 'spawn ss-1')).toHaveLength(1);
    h.supervisor.command('ss-1', 'ENABLE');
    await h.settle();
    expect(h.state()).toBe('running.up');
  });

  it('enable: false starts proxies but never checks or restarts them', async () => {
    const h = await startHarness({ settings: { enable: false } });
    expect(h.state()).toBe('running.up');
    await h.advance(120_000);
    expect(h.world.log.some((l) => l.startsWith('probe'))).toBe(false);
    h.world.crash('ss-1');
    await h.settle();
    expect(h.state()).toBe('crashed.held');
    expect(h.supervisor.status()).toMatchObject({ running: false, enabled_proxies: 1 });
  });

  it("a first start has start_grace to pass its first check (Docker's start period): failures before then do not count", async () => {
    const h = await startHarness({ settings: { check_interval: 1, failure_threshold: 2, start_grace: 5 } });
    h.world.unhealthy.add('ss-1'); // slow to listen
    await h.advance(4_500);
    expect(h.state()).toBe('running.up');
    expect(h.proxy().context.checkFailures).toBe(0);
    expect(h.proxy().context.lastCheck).toMatchObject({ ok: false, inStartGrace: true });
    expect(h.reportsOf('check_finished').filter((r) => !r.ok).length).toBeGreaterThanOrEqual(3);
    // Past the grace, never having passed: failure_threshold failures crash it.
    await h.advance(2_000);
    expect(h.phase()).toBe('crashed');
    expect(h.reportsOf('crash_detected')).toHaveLength(1);
    expect(h.reportsOf('crash_detected')[0].at).toBeGreaterThanOrEqual(T0 + 5_000);
  });

  it('a first check that passes ends the grace: failures count from then on', async () => {
    const h = await startHarness({ settings: { check_interval: 1, failure_threshold: 2, start_grace: 30 } });
    await h.advance(1_500);
    expect(h.proxy().context.lastCheck).toMatchObject({ ok: true });
    h.world.unhealthy.add('ss-1');
    await h.advance(2_000);
    expect(h.phase()).toBe('crashed');
  });

  it('a hung process fails its checks, is killed and restarted', async () => {
    const h = await startHarness({ settings: { check_interval: 10, failure_threshold: 3 } });
    h.world.unhealthy.add('ss-1');
    await h.advance(20_000);
    expect(h.proxy().context.checkFailures).toBe(2);
    expect(h.phase()).toBe('running');
    h.world.unhealthy.delete('ss-1');
    h.world.stubborn.add('ss-1');
    h.world.unhealthy.add('ss-1');
    await h.advance(10_000);
    expect(h.state()).toBe('crashed.reaping');
    expect(h.world.log).toContain('kill ss-1');
    h.world.unhealthy.delete('ss-1');
    await h.advance(10_000); // stop_timeout: the stubborn process is killed
    expect(h.state()).toBe('running.up');
    expect(h.reportsOf('restart_finished')[0].record.reason).toBe('health_check_failed');
  });

  it('a proxy whose binary is missing is crashed, counts failed restarts and always has a next attempt', async () => {
    const h = await startHarness({ specs: [fakeSpec('ss-1'), fakeSpec('ghost')], settings: { restart_cooldown: 5 } });
    h.world.spawnFails.add('ghost');
    h.supervisor.command('ghost', 'RESTART');
    await h.settle();
    await h.advance(60_000);
    expect(h.phase('ghost')).toBe('crashed');
    const ghost = h.proxy('ghost').context;
    expect(ghost.stats.failures).toBeGreaterThan(3);
    expect(ghost.decision?.nextAttemptAt).toBeGreaterThan(h.world.clock.now());
    expect(h.state('ss-1')).toBe('running.up');
    expect(h.errors).toEqual([]);
  });
});

describe('proxy machine: an operator restart while a restart is being verified', () => {
  // The process being verified was started before the request: the request is not dropped, it is
  // applied when the verification ends.
  const verifying = async () => {
    const h = await startHarness({ settings: { min_uptime: 2, restart_cooldown: 600 } });
    h.world.crash('ss-1');
    await h.settle();
    expect(h.state()).toBe('restarting.verifying');
    h.supervisor.command('ss-1', 'RESTART');
    await h.settle();
    expect(h.state()).toBe('restarting.verifying');
    return h;
  };
  const spawns = (h: Awaited<ReturnType<typeof startHarness>>) => h.world.log.filter((l) => l === 'spawn ss-1').length;

  it("restarts the new process once it is ready, as the operator's restart", async () => {
    const h = await verifying();
    await h.advance(2_000);
    await h.settle();
    // The operator's restart of the process now running is verified in its turn (min_uptime 2 s).
    expect(h.state()).toBe('running.verifying');
    await h.advance(2_500);
    await h.settle();
    expect(h.state()).toBe('running.up');
    expect(spawns(h)).toBe(3);
    expect(h.reportsOf('restart_finished').map((r) => [r.record.reason, r.record.manual, r.record.success])).toEqual([
      ['exited', false, true],
      ['operator', true, true],
    ]);
    expect(h.proxy().context.restartRequested).toBe(false);
  });

  it('restarts at once, guards bypassed, when the restart being verified fails', async () => {
    const h = await verifying();
    await h.advance(500);
    h.world.crash('ss-1');
    await h.settle();
    expect(h.state()).toBe('restarting.verifying'); // the operator's restart: not waiting out the 600 s cooldown
    await h.advance(2_000);
    expect(h.state()).toBe('running.up');
    expect(h.reportsOf('restart_finished').map((r) => [r.record.reason, r.record.manual, r.record.success])).toEqual([
      ['exited', false, false],
      ['operator', true, true],
    ]);
  });

  it('a stop after the restart request wins: stopped at once, the verification cut short', async () => {
    const h = await verifying();
    h.supervisor.command('ss-1', 'STOP');
    await h.settle();
    expect(h.state()).toBe('stopped.down');
    expect(spawns(h)).toBe(2);
    expect(h.proxy().context.restartRequested).toBe(false);
  });
});

describe('proxy machine: a restart of a running proxy', () => {
  it('is reported as it begins, before its process is stopped, and verified before it succeeds', async () => {
    const h = await startHarness({ settings: { min_uptime: 2 } });
    const stubborn = h.proxy().context.pid!;
    h.world.stubborn.add('ss-1'); // its stop takes stop_timeout: the restart is in flight meanwhile
    h.supervisor.command('ss-1', 'RESTART');
    await h.settle();
    expect(h.state()).toBe('stopped.stopping');
    // Begun and recorded now: a daemon killed during the stop leaves it failed (interrupted), not lost.
    expect(h.reportsOf('restart_started')).toEqual([expect.objectContaining({ reason: 'operator', manual: true })]);
    expect(h.reportsOf('restart_finished')).toEqual([]);
    await h.advance(10_500);
    expect(h.proxy().context.pid).not.toBe(stubborn);
    expect(h.state()).toBe('running.verifying');
    await h.advance(2_500);
    expect(h.state()).toBe('running.up');
    expect(h.reportsOf('restart_finished').map((r) => [r.record.reason, r.record.success])).toEqual([['operator', true]]);
  });

  it('that fails is retried automatically as what failed, not as the operator’s (nobody asked for those)', async () => {
    const h = await startHarness({ settings: { restart_cooldown: 0, min_uptime: 2 } });
    h.supervisor.command('ss-1', 'RESTART');
    await h.advance(500);
    expect(h.state()).toBe('running.verifying');
    h.world.crash('ss-1'); // the new process dies before min_uptime: the operator's restart failed
    await h.advance(5_000);
    const started = h.reportsOf('restart_started').map((r) => [r.reason, r.manual]);
    expect(started[0]).toEqual(['operator', true]);
    expect(started[1]).toEqual(['exited', false]);
    expect(h.reportsOf('restart_finished')[0].record).toMatchObject({ reason: 'operator', success: false });
  });
});

describe('proxy machine: a change to what a crashed proxy executes', () => {
  it('made while its restart ran the old entry, which then fails: the new entry is tried at once, not after the backoff', async () => {
    const h = await startHarness({ settings: { restart_cooldown: 0, min_uptime: 2, backoff: { initial: 30, factor: 2, max: 300 } } });
    h.world.crash('ss-1');
    await h.advance(500);
    expect(h.state()).toBe('restarting.verifying'); // the automatic restart, on the old entry
    h.supervisor.replace('ss-1'); // a reload fixed the entry meanwhile
    h.world.crash('ss-1'); // the old entry's process dies before min_uptime: that restart failed
    await h.advance(2_500);
    expect(h.state()).toBe('running.up'); // the new entry, at once: not 30 s of backoff later
    const records = h.reportsOf('restart_finished').map((r) => [r.record.reason, r.record.success]);
    expect(records).toEqual([
      ['exited', false],
      ['config_changed', true],
    ]);
  });

  it('restarts it at once with the new config, past the cap, recorded as config_changed', async () => {
    const h = await startHarness({ settings: { max_restarts: 1, restart_cooldown: 600 } });
    h.world.spawnFails.add('ss-1');
    h.world.crash('ss-1');
    await h.advance(1_000);
    expect(h.state()).toBe('crashed.waiting'); // its one restart failed: at the cap
    h.world.spawnFails.delete('ss-1'); // the reload fixed its command
    h.supervisor.replace('ss-1');
    await h.settle();
    expect(h.phase()).toBe('running');
    const last = h.reportsOf('restart_finished').at(-1)!;
    expect(last.record).toMatchObject({ reason: 'config_changed', manual: true, success: true });
    expect(h.proxy().context.decision?.message).toMatch(/changed in the configuration: restarted at once/);
  });
});

describe('proxy machine: stopped means stopped', () => {
  it('an operator stop of a crashed proxy lands in stopped, counted there, and start brings it back', async () => {
    const h = await startHarness({ settings: { max_restarts: 1 } });
    h.world.crash('ss-1');
    await h.settle();
    h.world.crash('ss-1');
    await h.settle();
    expect(h.state()).toBe('crashed.waiting'); // at the cap
    h.supervisor.command('ss-1', 'STOP');
    await h.settle();
    expect(h.state()).toBe('stopped.down');
    expect(h.reportsOf('state_change').at(-1)).toMatchObject({
      from: 'crashed',
      to: 'stopped',
      reason: expect.stringMatching(/stopped by the operator/),
    });
    expect(h.supervisor.status().status_count).toMatchObject({ stopped: 1, crashed: 0 });
    expect(h.proxy().context.decision).toMatchObject({ verdict: 'held', blocker: 'stopped_by_operator' });
    await h.advance(3_600_000);
    expect(h.state()).toBe('stopped.down'); // the freed cap slot does not restart it
    h.supervisor.command('ss-1', 'START');
    await h.settle();
    expect(h.state()).toBe('running.up');
  });

  it('a stop while a restart is being verified stops the new process at once; the restart is recorded as cut short, with no backoff', async () => {
    const h = await startHarness({ settings: { min_uptime: 30, start_grace: 60, restart_cooldown: 0 } });
    h.world.crash('ss-1');
    await h.settle();
    expect(h.state()).toBe('restarting.verifying');
    const before = h.proxy().context;
    h.supervisor.command('ss-1', 'STOP');
    await h.settle();
    expect(h.state()).toBe('stopped.down'); // not after min_uptime (30 s) or start_grace (60 s)
    expect(h.world.clock.now() - before.restart!.startedAt).toBeLessThan(1_000);
    const finished = h.reportsOf('restart_finished');
    expect(finished).toHaveLength(1);
    expect(finished[0].record).toMatchObject({ reason: 'exited', success: false, error: 'stopped by the operator before it was ready' });
    const after = h.proxy().context;
    expect(after.consecutiveFailures).toBe(before.consecutiveFailures);
    expect(after.stats).toMatchObject({ restarts: before.stats.restarts + 1, failures: before.stats.failures + 1 });
    // Through running (its process ran) to stopped, as the document's graph goes.
    expect(h.reportsOf('state_change').slice(-2)).toMatchObject([
      { from: 'restarting', to: 'running', reason: 'stopped by the operator: the restart in progress was cut short' },
      { from: 'running', to: 'stopped' },
    ]);
    h.supervisor.command('ss-1', 'START');
    await h.settle();
    expect(h.state()).toBe('running.up');
  });

  for (const [begin, reason, cut, by] of [
    ['RESTART', 'operator', 'stop', 'stopped by the operator'],
    ['REPLACE', 'config_changed', 'stop', 'stopped by the operator'],
    ['REPLACE', 'config_changed', 'removal', 'removed from the configuration'],
  ] as const) {
    it(`a ${cut} while a restart (${reason}) waits for the old process to end records it as cut short, not left in flight`, async () => {
      const h = await startHarness({ specs: [fakeSpec('ss-1'), fakeSpec('ss-2')], settings: { stop_timeout: 10 } });
      h.world.stubborn.add('ss-1'); // ignores SIGTERM: its stop takes stop_timeout
      if (begin === 'RESTART') h.supervisor.command('ss-1', 'RESTART');
      else h.supervisor.replace('ss-1');
      await h.settle();
      expect(h.state()).toBe('stopped.stopping');
      expect(h.reportsOf('restart_started')).toHaveLength(1);
      if (cut === 'stop') h.supervisor.command('ss-1', 'STOP');
      else h.supervisor.reconcile([fakeSpec('ss-2')], h.supervisor.settings());
      await h.advance(10_000);
      if (cut === 'stop') expect(h.state()).toBe('stopped.down');
      else expect(h.supervisor.proxy('ss-1')).toBeUndefined();
      const finished = h.reportsOf('restart_finished');
      expect(finished).toHaveLength(1);
      expect(finished[0].record).toMatchObject({ reason, success: false, error: `${by} before it was ready` });
    });
  }

  it('a removal while a restart is being verified cuts it short too, and says so', async () => {
    const h = await startHarness({ specs: [fakeSpec('ss-1'), fakeSpec('ss-2')], settings: { min_uptime: 30, start_grace: 60 } });
    h.world.crash('ss-2');
    await h.settle();
    expect(h.state('ss-2')).toBe('restarting.verifying');
    h.supervisor.reconcile([fakeSpec('ss-1')], h.supervisor.settings());
    await h.settle();
    expect(h.supervisor.proxy('ss-2')).toBeUndefined(); // gone at once, not after 30 s
    expect(h.reportsOf('restart_finished').at(-1)!.record).toMatchObject({
      success: false,
      error: 'removed from the configuration before it was ready',
    });
  });

  it('a hung proxy stopped while it is being reaped is stopped once its process is gone (a reload that changes it meanwhile does not start it)', async () => {
    const h = await startHarness({ settings: { check_interval: 10, failure_threshold: 1, stop_timeout: 10 } });
    h.world.stubborn.add('ss-1');
    h.world.unhealthy.add('ss-1');
    await h.advance(10_000);
    expect(h.state()).toBe('crashed.reaping');
    h.supervisor.command('ss-1', 'STOP');
    h.supervisor.replace('ss-1');
    await h.settle();
    expect(h.state()).toBe('crashed.reaping');
    await h.advance(10_000);
    expect(h.state()).toBe('stopped.down');
    expect(h.world.log.filter((l) => l === 'spawn ss-1')).toHaveLength(1);
  });
});

describe('proxy machine: restart always | on-failure (systemd Restart=)', () => {
  it('always (the default): a clean exit is restarted like a crash', async () => {
    const h = await startHarness();
    h.world.crash('ss-1', 'SIGTERM');
    await h.settle();
    expect(h.state()).toBe('running.up');
    expect(h.reportsOf('restart_finished')).toHaveLength(1);
  });

  it('on-failure: a clean exit leaves the proxy stopped until started; a kill is still restarted', async () => {
    const h = await startHarness({ settings: { restart: 'on-failure', restart_cooldown: 0 } });
    h.world.crash('ss-1', 'SIGKILL');
    await h.settle();
    expect(h.state()).toBe('running.up');
    h.world.crash('ss-1', 'SIGTERM');
    await h.settle();
    expect(h.state()).toBe('stopped.down');
    expect(h.reportsOf('crash_detected')).toHaveLength(1);
    expect(h.reportsOf('state_change').at(-1)).toMatchObject({ from: 'running', to: 'stopped' });
    expect(h.proxy().context.explanation).toMatch(/exited cleanly \(on signal SIGTERM\); restart is on-failure/);
    // `why` has it: the exit (with an escape note, for a proxy that daemonized) and why no restart follows.
    expect(h.proxy().context.lastExit).toBe('process exited on signal SIGTERM');
    expect(whyReply(h.proxy(), h.world.clock.now(), []).message).toMatch(/^no restart: process exited cleanly \(on signal SIGTERM\)/);
    await h.advance(120_000);
    expect(h.state()).toBe('stopped.down');
    h.supervisor.command('ss-1', 'START');
    await h.settle();
    expect(h.state()).toBe('running.up');
  });

  it('on-failure: a clean exit while a restart is verified fails that restart and leaves the proxy stopped, not retried', async () => {
    const h = await startHarness({ settings: { restart: 'on-failure', restart_cooldown: 0, min_uptime: 2 } });
    // After a crash (restarting.verifying) and after an operator's restart (running.verifying).
    for (const [begin, verifying] of [
      [() => h.world.crash('ss-1', 'SIGKILL'), 'restarting.verifying'],
      [() => h.supervisor.command('ss-1', 'RESTART'), 'running.verifying'],
    ] as const) {
      h.supervisor.command('ss-1', 'START');
      await h.settle();
      const restarts = h.reportsOf('restart_started').length;
      begin();
      await h.advance(500);
      expect(h.state()).toBe(verifying);
      h.world.crash('ss-1', 'SIGTERM'); // a clean exit, before min_uptime
      await h.settle();
      expect(h.state(), verifying).toBe('stopped.down');
      expect(h.reportsOf('restart_finished').at(-1)!.record).toMatchObject({ success: false });
      expect(h.proxy().context.explanation).toMatch(/exited cleanly \(on signal SIGTERM\); restart is on-failure/);
      await h.advance(120_000);
      expect(h.state()).toBe('stopped.down');
      expect(h.reportsOf('restart_started')).toHaveLength(restarts + 1); // the one that failed, no retry
    }
  });

  it('counts code 0 and the four signals systemd calls clean as clean, nothing else', () => {
    expect([isCleanExit(0, null), isCleanExit(1, null), isCleanExit(null, 'SIGKILL'), isCleanExit(null, 'SIGSEGV')]).toEqual([
      true,
      false,
      false,
      false,
    ]);
    expect(['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE'].every((s) => isCleanExit(null, s))).toBe(true);
  });
});

describe('proxy machine: per-proxy settings', () => {
  it("a proxy's own failure_threshold and restart apply to it alone, and survive a change of the global settings", async () => {
    const h = await startHarness({
      specs: [fakeSpec('ss-1'), fakeSpec('strict', { settings: { failure_threshold: 1, restart: 'on-failure' } })],
      settings: { check_interval: 10, failure_threshold: 3 },
    });
    h.world.unhealthy.add('ss-1');
    h.world.unhealthy.add('strict');
    await h.advance(10_000);
    expect(h.phase('strict')).not.toBe('running'); // one failed check is its threshold
    expect(h.proxy('ss-1').context.checkFailures).toBe(1);
    h.supervisor.configure({ ...h.supervisor.settings(), failure_threshold: 5 });
    await h.settle();
    expect(h.proxy('strict').context.policy).toMatchObject({ failureThreshold: 1, restart: 'on-failure' });
    expect(h.proxy('ss-1').context.policy).toMatchObject({ failureThreshold: 5, restart: 'always' });
    expect(h.supervisor.proxy('strict')).toMatchObject({
      settings: { failure_threshold: 1, restart: 'on-failure', stop_timeout: 10, health_timeout: 5, start_grace: 5 },
      ownSettings: ['failure_threshold', 'restart'],
    });
  });
});
