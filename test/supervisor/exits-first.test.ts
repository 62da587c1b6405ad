// Events reach the machines first (src/later.ts wired in through the World): a burst of exits reaches
// every actor before any restart is started or any report is heard; what follows runs afterwards, in
// order; nothing the machines asked for runs once the supervisor has shut down.
import { describe, expect, it } from 'vitest';
import { createLater } from '../../src/later.ts';
import { fakeSpec } from '../support/fake-world.ts';
import { startHarness } from '../support/harness.ts';

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
