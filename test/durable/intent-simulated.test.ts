// What the operator set at run time (stop, disable), stored by the API through the Store, still
// holds when the daemon comes back.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { expect, it } from 'vitest';
import { flush } from '../support/fake-world.ts';
import { bootSimulated } from './support/simulated.ts';

it('a stopped proxy stays stopped and a disabled one stays unmonitored after a restart; enabling again resumes', async () => {
  const stateDir = join(mkdtempSync(join(tmpdir(), 'pm-intent-')), 'state');
  const ids = ['ss-stopped', 'ss-disabled', 'ss-plain'];
  const first = await bootSimulated(stateDir, Date.UTC(2026, 0, 1), { ids });
  // What the API does on STOP and DISABLE: command the proxy, remember the intent.
  first.supervisor.command('ss-stopped', 'STOP');
  first.store.setWanted('ss-stopped', 'down');
  first.supervisor.command('ss-disabled', 'DISABLE');
  first.store.setOverride('ss-disabled', false);
  await flush();
  await first.stop();

  const second = await bootSimulated(stateDir, first.world.clock.now() + 1_000, { ids });
  expect(second.state('ss-stopped')).toBe('stopped.down');
  expect(second.world.log).not.toContain('spawn ss-stopped');
  expect(second.view('ss-disabled').context.override).toBe(false);
  expect(second.supervisor.status()).toMatchObject({ enabled_proxies: 2, total_proxies: 3 });

  second.world.crash('ss-disabled');
  await flush();
  expect(second.state('ss-disabled')).toBe('crashed.held');
  expect(second.view('ss-disabled').context.decision).toMatchObject({ verdict: 'held', blocker: 'monitoring_disabled' });
  second.world.crash('ss-plain');
  await flush();
  expect(second.state('ss-plain')).toBe('running.up');

  second.store.setOverride('ss-disabled', null);
  await second.stop();
  const third = await bootSimulated(stateDir, second.world.clock.now() + 1_000, { ids });
  expect(third.view('ss-disabled').context.override).toBeNull();
  expect(third.state('ss-disabled')).toBe('running.up');
});
