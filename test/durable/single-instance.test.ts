// Two daemons on one state directory would both spawn every proxy: the second one refuses at once.
import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { CLI, ROOT, startDaemon, writeConfig, type TestDaemon } from '../support/daemon.ts';

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
  await first.waitFor((l) => l.message === 'proxy monitor started', 60_000);

  // "At once": no later than a `validate` of the same file started at the same moment (the same node
  // start-up and config load on the same loaded machine), give or take two seconds; a lock that waited
  // for the holder would take its busy timeout more.
  const began = Date.now();
  const second = startDaemon(configFile, dir);
  daemons.push(second);
  const validated = new Promise<number>((done) =>
    execFile(process.execPath, [CLI, 'validate', configFile], { cwd: ROOT }, () => done(Date.now() - began)),
  );
  expect(await second.exited).toBe(1);
  const refusedAfter = Date.now() - began;
  expect(refusedAfter).toBeLessThan((await validated) + 2_000);
  expect(second.stderr()).toBe(
    `proxy-monitor: state directory ${join(dir, 'state')} is in use by another proxy-monitor (pid ${first.child.pid}); not starting a second one\n`,
  );
  expect(second.lines).toEqual([]);

  // The first is untouched, and once it is gone the directory is free.
  expect(first.child.exitCode).toBeNull();
  expect(await first.stop('SIGKILL')).toBeNull();
  const third = startDaemon(configFile, dir);
  daemons.push(third);
  await third.waitFor((l) => l.message === 'proxy monitor started', 60_000);
  expect(await third.stop('SIGTERM')).toBe(0);
}, 300_000); // three daemon start-ups, each up to a minute on a loaded 2-core machine
