// The feed on the simulated supervisor: everything at connection, then batches at most every
// FLUSH_MS holding only the cards that changed and every state change (the pass through crashed
// included), however many events came in; nothing once the last page has gone.
import { expect, it } from 'vitest';
import { createFeed, FLUSH_MS, MAX_TRANSITIONS, SUMMARY_MS, type Batch } from '../../src/inspector/feed.ts';
import { createRecent } from '../../src/inspector/recent.ts';
import { createLiveness } from '../../src/metrics/liveness.ts';
import { fakeSpec } from '../support/fake-world.ts';
import { startHarness } from '../support/harness.ts';

async function setup(count = 2) {
  const specs = Array.from({ length: count }, (_, i) => fakeSpec(`ss-${i + 1}`));
  let now = () => 0;
  const recent = createRecent(() => now());
  const harness = await startHarness({ specs, hooks: { onReport: recent.onReport } });
  const { clock } = harness.world;
  now = () => clock.now();
  const feed = createFeed({ supervisor: harness.supervisor, clock, liveness: createLiveness(harness.supervisor, clock), recent });
  const seen: Batch[] = [];
  return { harness, feed, seen, listen: () => feed.subscribe((batch) => seen.push(batch)) };
}

it("starts a page with the daemon's time, a summary and every proxy's card", async () => {
  const { harness, feed } = await setup();
  const first = feed.current();
  expect(first).toMatchObject({ type: 'batch', now: harness.world.clock.now(), reset: true, removed: [], transitions: [] });
  expect(first.summary).toMatchObject({
    monitor: 'watching',
    running: true,
    total: 2,
    status_count: { running: 2, crashed: 0 },
    health: { ok: true },
  });
  expect(first.cards.map((card) => [card.id, card.type, card.state])).toEqual([
    ['ss-1', 'exec', 'running.up'],
    ['ss-2', 'exec', 'running.up'],
  ]);
});

it('sends a crash and restart as one batch: the state changes in order, the card as it ends', async () => {
  const { harness, seen, listen } = await setup();
  listen();
  harness.world.crash('ss-1', 'SIGKILL');
  await harness.settle();
  expect(seen).toEqual([]);
  await harness.advance(FLUSH_MS);
  expect(seen).toHaveLength(1);
  const [batch] = seen;
  expect(batch.transitions.map((t) => `${t.actor} ${t.event}: ${t.from} -> ${t.to}`)).toEqual([
    'ss-1 EXITED: running.up -> crashed.deciding',
    'ss-1 always (EXITED): crashed.deciding -> restarting.spawning',
    'ss-1 SPAWNED: restarting.spawning -> restarting.verifying',
    'ss-1 READY: restarting.verifying -> running.up',
  ]);
  expect(batch.cards.map((card) => card.id)).toEqual(['ss-1']);
  expect(batch.cards[0]).toMatchObject({ state: 'running.up', restarts_in_window: 1, last_restart: { success: true, reason: 'exited' } });
  expect(batch.cards[0].last_crash).toMatchObject({ signal: 'SIGKILL' });
  expect(batch.cards[0].decision).toMatch(/restart allowed/);
});

it('holds a storm of 200 crashes to a few batches, the state changes beyond the bound counted', async () => {
  const { harness, seen, listen } = await setup(200);
  listen();
  const started = harness.world.clock.now();
  for (let i = 1; i <= 200; i++) harness.world.crash(`ss-${i}`);
  await harness.settle();
  await harness.advance(2 * FLUSH_MS);
  const span = harness.world.clock.now() - started;
  expect(seen.length).toBeLessThanOrEqual(span / FLUSH_MS + 1);
  const cards = new Set(seen.flatMap((batch) => batch.cards.map((card) => card.id)));
  expect(cards.size).toBe(200);
  const sent = seen.reduce((sum, batch) => sum + batch.transitions.length, 0);
  const dropped = seen.reduce((sum, batch) => sum + batch.dropped, 0);
  expect(sent).toBeLessThanOrEqual(MAX_TRANSITIONS * seen.length);
  expect(sent + dropped).toBe(800);
  expect(seen.at(-1)!.summary?.status_count.running).toBe(200);
});

it('sends the summary alone when nothing changes, every SUMMARY_MS', async () => {
  const { harness, seen, listen } = await setup();
  listen();
  await harness.advance(SUMMARY_MS);
  expect(seen).toHaveLength(1);
  expect(seen[0]).toMatchObject({ cards: [], transitions: [], summary: { total: 2 } });
});

it('stops listening when the last page leaves, and starts afresh for the next', async () => {
  const { harness, seen, listen } = await setup();
  listen()();
  harness.world.crash('ss-1');
  await harness.settle();
  await harness.advance(SUMMARY_MS);
  expect(seen).toEqual([]);

  listen();
  harness.supervisor.command('ss-2', 'DISABLE');
  await harness.settle();
  await harness.advance(FLUSH_MS);
  expect(seen.flatMap((batch) => batch.cards)).toEqual([expect.objectContaining({ id: 'ss-2', state: 'running.up', enabled: false })]);
});
