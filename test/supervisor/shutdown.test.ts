// Shutdown on the fake world: every process gets SIGTERM, one that ignores it gets stop_timeout
// seconds before SIGKILL, and shutdown resolves only once all are gone.
import { expect, it } from 'vitest';
import { fakeSpec } from '../support/fake-world.ts';
import { startHarness } from '../support/harness.ts';

it('waits stop_timeout for a process that ignores SIGTERM, then kills it; the others stop at once', async () => {
  const h = await startHarness({ specs: [fakeSpec('polite'), fakeSpec('stubborn')], settings: { stop_timeout: 10 } });
  h.world.stubborn.add('stubborn');
  let done = false;
  const shutdown = h.supervisor.shutdown().then(() => (done = true));
  await h.settle();
  expect(h.world.log).toContain('exit polite SIGTERM');
  await h.advance(9_900);
  expect(done).toBe(false);
  expect(h.world.running.has('stubborn')).toBe(true);
  await h.advance(200);
  await shutdown;
  expect(h.world.log.slice(-1)).toEqual(['exit stubborn SIGKILL']);
  expect(h.world.running.size).toBe(0);
});
