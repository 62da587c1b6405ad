// Two daemons on one state directory would both spawn every proxy: the second one refuses at once.
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { startDaemon, writeConfig, type TestDaemon } from '../support/daemon.ts';

const daemons: TestDaemon[] = [];
afterAll(async () => {
  for (const daemon of daemons) await daemon.stop('SIGKILL');
});

it('a second daemon on the same state directory exits with one line naming the directory and the holder', async () => {
  const { dir, configFile } = writeConfig({
    api: { listen: '127.0.0.1:0' }, // the API on a free port: 8080 may be taken
    proxy: { monitor: { enable: true }, proxies: [{ id: 'sleeper', type: 'exec', command: '/bin/sleep', args: ['300'] }] },
  });
  const first = startDaemon(configFile, dir);
  daemons.push(first);
  await first.waitFor((l) => l.message === 'proxy monitor started');

  const began = Date.now();
  const second = startDaemon(configFile, dir);
  daemons.push(second);
  expect(await second.exited).toBe(1);
  expect(Date.now() - began).toBeLessThan(10_000);
  expect(second.stderr()).toBe(
    `proxy-monitor: state directory ${join(dir, 'state')} is in use by another proxy-monitor (pid ${first.child.pid}); not starting a second one\n`,
  );
  expect(second.lines).toEqual([]);

  // The first is untouched, and once it is gone the directory is free.
  expect(first.child.exitCode).toBeNull();
  expect(await first.stop('SIGKILL')).toBeNull();
  const third = startDaemon(configFile, dir);
  daemons.push(third);
  await third.waitFor((l) => l.message === 'proxy monitor started');
  expect(await third.stop('SIGTERM')).toBe(0);
}, 30_000);
