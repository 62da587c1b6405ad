// Events reach the machines first (src/later.ts wired in through the World): a burst of exits reaches
// every actor before any restart is started or any report is heard; what follows runs afterwards, in
// order; nothing the machines asked for runs once the supervisor has shut down.
import { describe, expect, it } from 'vitest';
import { createLater } from '../../src/later.ts';
import { fakeSpec, flush } from '../support/fake-world.ts';
import { startHarness, testSettings } from '../support/harness.ts';

const IDS = ['a', 'b', 'c', 'd', 'e'];
/** Turns of the event loop until `done` or 50 turns. */
async function turnsUntil(done: () => boolean) {
  for (let i = 0; i < 50 && !done(); i++) await new Promise((resolve) => setImmediate(resolve));
}

async function deferredHarness() {
  const errors: unknown[] = [];
  const h = await startHarness({
    specs: IDS.map((id) => fakeSpec(id)),
    world: (world) => {
      world.later = createLater((error) => errors.push(error));
    },
  });
  await turnsUntil(() => IDS.every((id) => h.state(id) === 'running.up'));
  const spawns = () => h.world.log.filter((line) => line.startsWith('spawn')).length;
  return { ...h, spawns, errors };
}

describe('exits first', () => {
  it('a burst of exits reaches every actor before any restart starts or any report is heard', async () => {
    const h = await deferredHarness();
    expect(IDS.map((id) => h.state(id))).toEqual(IDS.map(() => 'running.up'));
    const spawned = h.spawns();
    const heard = h.reports.length;
    for (const id of IDS) h.world.crash(id);
    // Each actor has taken its exit and decided to restart...
    for (const id of IDS) expect(h.state(id)).toMatch(/^restarting/);
    // ... and nothing that follows from it has run yet.
    expect(h.spawns()).toBe(spawned);
    expect(h.reports.length).toBe(heard);
    await turnsUntil(() => h.spawns() === spawned + IDS.length);
    expect(h.spawns()).toBe(spawned + IDS.length);
    // Heard afterwards, in the order the exits came.
    expect(h.reportsOf('crash_detected').map((r) => r.proxyId)).toEqual(IDS);
    expect(h.errors).toEqual([]);
  });

  it('a restart asked for just before shutdown is not started after it; its reports are still heard', async () => {
    const h = await deferredHarness();
    const spawned = h.spawns();
    h.world.crash('a');
    expect(h.state('a')).toMatch(/^restarting/);
    await h.shutdown();
    await turnsUntil(() => false);
    expect(h.spawns()).toBe(spawned);
    expect(h.reportsOf('crash_detected').map((r) => r.proxyId)).toEqual(['a']);
    expect(h.errors).toEqual([]);
  });
});

describe('check results', () => {
  it('reach their proxies through the queue, so an exit that comes with them is not held behind them', async () => {
    // A queue the test runs by hand: what is in it has not happened yet.
    const jobs: (() => void)[] = [];
    const later = Object.assign((job: () => void) => void jobs.push(job), {
      flush: () => {
        for (const job of jobs.splice(0)) job();
      },
    });
    const drain = async () => {
      for (let i = 0; i < 50 && jobs.length; i++) {
        later.flush();
        await flush();
      }
    };
    const heard: string[] = [];
    const h = await startHarness({
      specs: IDS.map((id) => fakeSpec(id)),
      settings: { min_uptime: 0 },
      world: (world) => {
        world.later = later;
      },
      hooks: {
        onReport: (report) => void (report.type === 'check_finished' && heard.push(`check ${report.proxyId}`)),
        onCheckRound: (_ms, checked) => void heard.push(`round of ${checked}`),
      },
    });
    await drain();
    expect(IDS.map((id) => h.state(id))).toEqual(IDS.map(() => 'running.up'));

    await h.advance(testSettings.check_interval * 1000); // the tick: the round is queued
    later.flush(); // the round starts; every probe answers at once
    await flush();
    expect(h.world.log.filter((line) => line.startsWith('probe')).length).toBeGreaterThanOrEqual(IDS.length);
    // The answers are queued, not yet sent to the proxies; an exit now reaches its actor at once.
    expect(IDS.map((id) => h.proxy(id).context.lastCheck)).toEqual(IDS.map(() => null));
    h.world.crash('a');
    expect(h.state('a')).toMatch(/^restarting/);

    await drain();
    for (const id of IDS.slice(1)) expect(h.proxy(id).context.lastCheck?.ok).toBe(true);
    // The round is heard after the reports of its checks.
    expect(heard.at(-1)).toBe(`round of ${IDS.length}`);
    expect(heard.slice(0, -1).sort()).toEqual(IDS.slice(1).map((id) => `check ${id}`));
    expect(h.errors).toEqual([]);
  });
});
