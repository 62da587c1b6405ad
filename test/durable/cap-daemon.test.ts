// The hourly cap with real daemons: a proxy driven to its cap stays capped after a daemon restart.
// (cap-simulated.test.ts follows the same story on a simulated clock to the moment the slot frees.)
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startDaemon, writeConfig, type TestDaemon } from '../support/daemon.ts';
import { readState } from './support/state.ts';

const daemons: TestDaemon[] = [];
afterAll(async () => {
  for (const daemon of daemons) await daemon.stop('SIGKILL');
});

const restartLines = (daemon: TestDaemon) => daemon.lines.filter((l) => /^proxy restart (succeeded|failed)$/.test(l.message));

it('no further restart after the daemon restart: the cap is counted from the stored history', async () => {
  const config = (script: string) => ({
    api: { listen: '127.0.0.1:0' }, // the API on a free port: 8080 may be taken
    proxy: {
      // min_uptime 0: up for 0.3 s, then exits, so that every restart succeeds and the next crash follows at once.
      monitor: { enable: true, check_interval: 30, restart_cooldown: 0, max_restarts: 3, start_grace: 2, min_uptime: 0 },
      proxies: [{ id: 'flaky', type: 'exec', command: '/bin/sh', args: ['-c', script] }],
    },
  });
  const { dir, configFile } = writeConfig(config('sleep 0.3; exit 3'));
  const first = startDaemon(configFile, dir);
  daemons.push(first);
  const capped = await first.waitFor((l) => l.message === 'proxy restart withheld' && l.guard === 'restart_cap', 20_000);
  expect(restartLines(first)).toHaveLength(3);
  first.child.kill('SIGKILL');
  await first.exited;
  expect(readState(join(dir, 'state')).restarts).toHaveLength(3);

  const second = startDaemon(configFile, dir);
  daemons.push(second);
  // Down after a crash at its cap when the daemon died: not started at boot, its restart withheld
  // by the same cap, with the same slot (no "held" line first: the monitor watches from the start).
  const withheld = await second.waitFor((l) => l.message === 'proxy restart withheld', 10_000);
  expect(second.lines.filter((l) => l.message === 'proxy restart held')).toEqual([]);
  expect(withheld).toMatchObject({ guard: 'restart_cap', restarts_in_window: 3, max_restarts: 3, next_attempt_at: capped.next_attempt_at });
  await new Promise((done) => setTimeout(done, 2_000));
  expect(restartLines(second)).toEqual([]);
  expect(second.lines.filter((l) => l.message === 'proxy crash detected')).toEqual([]); // never started, so never ended
  expect(readState(join(dir, 'state')).restarts).toHaveLength(3);

  // Its entry fixed while the daemon is down: restarted at once with the new one, as a reload would.
  second.child.kill('SIGTERM');
  await second.exited;
  writeConfig(config('sleep 60'), dir);
  const third = startDaemon(configFile, dir);
  daemons.push(third);
  expect(await third.waitFor((l) => l.message === 'proxy restart succeeded', 10_000)).toMatchObject({
    reason: 'config_changed',
    manual: true,
  });
}, 60_000);
