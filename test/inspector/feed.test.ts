// The feed on the simulated supervisor: a card per proxy change, a log line per state change (the
// pass through crashed included), nothing once the last page has gone.
import { expect, it } from 'vitest';
import { createFeed, type FeedMessage } from '../../src/inspector/feed.ts';
import { fakeSpec } from '../support/fake-world.ts';
import { startHarness } from '../support/harness.ts';

async function setup() {
  const harness = await startHarness({ specs: [fakeSpec('ss-1'), fakeSpec('ss-2')] });
  const feed = createFeed(harness.supervisor, harness.world.clock);
  const seen: FeedMessage[] = [];
  return { harness, feed, seen, listen: () => feed.subscribe((message) => seen.push(message)) };
}

it("starts a page with the daemon's time, the monitor and every proxy card", async () => {
  const { harness, feed } = await setup();
  const current = feed.current();
  expect(current.slice(0, 2)).toEqual([{ type: 'clock', now: harness.world.clock.now() }, { type: 'monitor', state: 'watching' }]);
  expect(current.slice(2).map((m) => m.type === 'proxy' && [m.card.id, m.card.state])).toEqual([['ss-1', 'running.up'], ['ss-2', 'running.up']]);
  const card = current[2].type === 'proxy' ? current[2].card : undefined;
  expect(Object.keys(card!).sort()).toEqual(
    ['cooldown_ends_at', 'decision', 'enabled', 'id', 'max_restarts', 'next_attempt_at', 'phase', 'pid', 'restarts_in_window', 'started_at', 'state'].sort(),
  );
});

it('logs every step of a crash and restart, and sends the cards as they change', async () => {
  const { harness, seen, listen } = await setup();
  listen();
  harness.world.crash('ss-1');
  await harness.settle();
  const steps = seen.flatMap((m) => (m.type === 'transition' && m.actor === 'ss-1' ? [`${m.event}: ${m.from} -> ${m.to}`] : []));
  expect(steps).toEqual([
    'EXITED: running.up -> crashed.deciding',
    'always (EXITED): crashed.deciding -> restarting.spawning',
    'SPAWNED: restarting.spawning -> restarting.verifying',
    'READY: restarting.verifying -> running.up',
  ]);
  const cards = seen.flatMap((m) => (m.type === 'proxy' ? [m.card] : []));
  expect(cards.every((card) => card.id === 'ss-1')).toBe(true);
  expect(cards.at(-1)).toMatchObject({ state: 'running.up', restarts_in_window: 1 });
  expect(cards.at(-1)!.decision).toMatch(/restart allowed/);
});

it('stops listening when the last page leaves, and starts afresh for the next', async () => {
  const { harness, seen, listen } = await setup();
  listen()();
  harness.world.crash('ss-1');
  await harness.settle();
  expect(seen).toEqual([]);

  listen();
  harness.supervisor.command('ss-2', 'DISABLE');
  await harness.settle();
  expect(seen).toEqual([{ type: 'proxy', card: expect.objectContaining({ id: 'ss-2', state: 'running.up', enabled: false }) }]);
});
