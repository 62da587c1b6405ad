// The hourly cap across a daemon restart, to the millisecond: the supervisor on a SimulatedClock,
// the real SQLite store in a temp dir, the daemon "restarted" by building a new supervisor from it.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../machines/proxy/policy.ts';
import { fakeSpec, flush } from '../support/fake-world.ts';
import { bootSimulated } from './support/simulated.ts';

const settings = { max_restarts: 3, restart_cooldown: 60 };
const boot = (stateDir: string, at: number) => bootSimulated(stateDir, at, { settings });

describe('the hourly cap survives a daemon restart', () => {
  it('no restart after the restart until the window frees a slot, then one at that moment', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'pm-cap-')), 'state');
    const start = Date.UTC(2026, 0, 1);
    const first = await boot(stateDir, start);

    // Three crashes, a cooldown apart: three automatic restarts, the cap.
    const attempts: number[] = [];
    for (let i = 0; i < 3; i++) {
      attempts.push(first.world.clock.now());
      first.world.crash('ss-1');
      await flush();
      expect(first.state()).toBe('running.up');
      await first.world.advance(61_000);
    }
    first.world.crash('ss-1');
    await flush();
    expect(first.view().context.decision).toMatchObject({ blocker: 'restart_cap', nextAttemptAt: attempts[0] + HOUR_MS });
    expect(first.restarts()).toHaveLength(3);
    const statsBefore = first.view().context.stats;

    // The daemon goes down for ten minutes and comes back on the same state directory.
    const downAt = first.world.clock.now();
    await first.stop();
    let second = await boot(stateDir, downAt + 10 * 60_000);
    expect(second.view().context.attempts).toEqual(attempts);
    expect(second.view().context.stats).toEqual(statsBefore);
    expect(second.store.restarts({ proxyId: 'ss-1' })).toHaveLength(3);

    // It was down after a crash, at its cap: not started at boot, it waits for the same slot.
    expect(second.state()).toBe('crashed.waiting');
    expect(second.world.log.filter((e) => e === 'spawn ss-1')).toEqual([]);
    // Carried over once more, it is still that crash (not "crashed before ... (crashed before ...)").
    await second.stop();
    const again = await boot(stateDir, downAt + 11 * 60_000);
    expect(again.view().context.crashReason).toBe('process exited on signal SIGKILL');
    await again.stop();
    const third = await boot(stateDir, downAt + 12 * 60_000);
    expect(third.view().context.crashReason).toBe('process exited on signal SIGKILL');
    await third.stop();
    second = await boot(stateDir, downAt + 13 * 60_000);
    expect(second.view().context.decision).toMatchObject({
      verdict: 'withheld',
      blocker: 'restart_cap',
      nextAttemptAt: attempts[0] + HOUR_MS,
    });

    const slot = attempts[0] + HOUR_MS;
    await second.world.advance(slot - second.world.clock.now() - 100);
    expect(second.state()).toBe('crashed.waiting');
    expect(second.restarts()).toHaveLength(0);
    await second.world.advance(200);
    expect(second.state()).toBe('running.up');
    expect(second.restarts()).toHaveLength(1);
    expect(second.restarts()[0]).toMatchObject({ record: { at: slot, success: true } });
    expect(second.store.restarts({ proxyId: 'ss-1' }).map((r) => r.at)).toEqual([slot, ...attempts.reverse()]);
  });

  it('a cooldown carries over too: a crash right after the restart waits for its end', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'pm-cap-')), 'state');
    const first = await boot(stateDir, Date.UTC(2026, 0, 1));
    first.world.crash('ss-1');
    await flush();
    const attempt = first.world.clock.now();
    await first.stop();

    const second = await boot(stateDir, attempt + 5_000);
    second.world.crash('ss-1');
    await flush();
    expect(second.view().context.decision).toMatchObject({ blocker: 'cooldown', nextAttemptAt: attempt + 60_000 });
    await second.world.advance(attempt + 60_000 - second.world.clock.now() - 100);
    expect(second.restarts()).toHaveLength(0);
    await second.world.advance(200);
    expect(second.restarts()).toHaveLength(1);
  });
});

describe("a restart that failed for want of the daemon's own resources", () => {
  it('is not counted against the cap by the next daemon either', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'pm-fault-')), 'state');
    const first = await boot(stateDir, Date.UTC(2026, 0, 1));
    first.world.daemonShort.add('ss-1');
    first.world.crash('ss-1');
    await flush();
    expect(first.restarts()).toMatchObject([{ record: { success: false, uncounted: true } }]);
    expect(first.view().context.attempts).toEqual([]);
    await first.stop();
    const second = await boot(stateDir, Date.UTC(2026, 0, 1) + 1_000);
    expect(second.view().context.attempts).toEqual([]);
    expect(second.store.restarts({ proxyId: 'ss-1' })).toMatchObject([{ success: false, uncounted: true }]);
  });
});

describe('a proxy removed while crashed', () => {
  it('keeps no crash to carry over: put back in the file, it is started at the next daemon start', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'pm-retired-')), 'state');
    const first = await bootSimulated(stateDir, Date.UTC(2026, 0, 1), { settings: { restart_cooldown: 600 }, ids: ['ss-1', 'ss-2'] });
    first.world.crash('ss-1');
    await flush();
    first.world.crash('ss-1'); // inside the cooldown: crashed, waiting
    await flush();
    expect(first.state()).toBe('crashed.waiting');
    expect(first.store.memory('ss-1', first.world.clock.now()).carriedCrash).not.toBeNull();
    first.supervisor.reconcile([fakeSpec('ss-2')], first.supervisor.settings());
    await flush();
    expect(first.store.memory('ss-1', first.world.clock.now()).carriedCrash).toBeNull();
    await first.stop();
    const second = await bootSimulated(stateDir, Date.UTC(2026, 0, 1) + 60_000, {
      settings: { restart_cooldown: 600 },
      ids: ['ss-1', 'ss-2'],
    });
    expect(second.state()).toBe('running.up');
  });
});

describe('the failure backoff survives a daemon restart', () => {
  it('a crash right after the restart waits for the backoff of the failed restart before it', async () => {
    const stateDir = join(mkdtempSync(join(tmpdir(), 'pm-backoff-')), 'state');
    const backoff = { restart_cooldown: 0, backoff: { initial: 120, factor: 2, max: 600 } };
    const first = await bootSimulated(stateDir, Date.UTC(2026, 0, 1), { settings: backoff });
    first.world.spawnFails.add('ss-1');
    first.world.crash('ss-1');
    await flush();
    const failedAt = first.world.clock.now();
    expect(first.restarts()).toMatchObject([{ record: { success: false } }]);
    expect(first.view().context.decision).toMatchObject({ blocker: 'backoff', nextAttemptAt: failedAt + 120_000 });
    await first.stop();

    // Back 10 s later: down after that failed restart, it is not started at boot; its next attempt still waits.
    const second = await bootSimulated(stateDir, failedAt + 10_000, { settings: backoff });
    expect(second.view().context).toMatchObject({ consecutiveFailures: 1, lastFailureAt: failedAt });
    expect(second.state()).toBe('crashed.waiting');
    expect(second.view().context.decision).toMatchObject({ verdict: 'withheld', blocker: 'backoff', nextAttemptAt: failedAt + 120_000 });
    await second.world.advance(failedAt + 120_000 - second.world.clock.now() - 100);
    expect(second.restarts()).toHaveLength(0);
    await second.world.advance(200);
    expect(second.restarts()).toMatchObject([{ record: { success: true } }]);
  });
});
