// A proxy's process the state has no record of (state.db reset or lost, or a write the full disk
// refused, then the daemon killed): the next daemon finds it by its spawn token, which names this
// state_dir and the proxy, and adopts it instead of starting a second copy beside it.
import { rmSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { pidsMatching, STARTUP_MS, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

const marker = `${process.pid}${Date.now() % 100_000}7`;
const daemons: TestDaemon[] = [];
afterAll(async () => {
  for (const daemon of daemons) await daemon.stop('SIGKILL');
  for (const pid of pidsMatching(`sleep ${marker}`)) process.kill(pid, 'SIGKILL'); // both tests' processes
});

it('adopts a live process of its state_dir that state.db does not record, found by its spawn token', async () => {
  const { dir, configFile } = writeConfig({
    api: { listen: '127.0.0.1:0' },
    proxy: { monitor: { enable: true, check_interval: 30 }, proxies: [{ id: 'p', type: 'exec', command: '/bin/sleep', args: [marker] }] },
  });
  const first = startDaemon(configFile, dir);
  daemons.push(first);
  await waitUntil(() => pidsMatching(`sleep ${marker}`).length === 1, STARTUP_MS);
  const [pid] = pidsMatching(`sleep ${marker}`);
  first.child.kill('SIGKILL');
  await first.exited;
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${dir}/state/state.db${suffix}`, { force: true });

  const second = startDaemon(configFile, dir);
  daemons.push(second);
  expect(await second.waitFor((l) => l.message.startsWith('proxy process of this state_dir found by its spawn token'))).toMatchObject({
    proxy_id: 'p',
    pid,
  });
  expect(await second.waitFor((l) => l.message === 'proxy process adopted from the previous run')).toMatchObject({ proxy_id: 'p', pid });
  await new Promise((done) => setTimeout(done, 500));
  expect(pidsMatching(`sleep ${marker}`)).toEqual([pid]);
  expect(await second.stop('SIGTERM')).toBe(0);
  expect(pidsMatching(`sleep ${marker}`)).toEqual([]);
}, 60_000);

it('adopts the proxy itself, not a child it started with setsid, which carries the same token', async () => {
  const script = `setsid sleep ${marker}1 & exec sleep ${marker}2`;
  const { dir, configFile } = writeConfig({
    api: { listen: '127.0.0.1:0' },
    proxy: {
      monitor: { enable: true, check_interval: 30 },
      proxies: [{ id: 'p', type: 'exec', command: '/bin/sh', args: ['-c', script] }],
    },
  });
  const first = startDaemon(configFile, dir);
  daemons.push(first);
  await waitUntil(() => pidsMatching(`sleep ${marker}2`).length === 1 && pidsMatching(`sleep ${marker}1`).length === 1, STARTUP_MS);
  const [proxy] = pidsMatching(`sleep ${marker}2`);
  first.child.kill('SIGKILL');
  await first.exited;
  for (const suffix of ['', '-wal', '-shm']) rmSync(`${dir}/state/state.db${suffix}`, { force: true });

  const second = startDaemon(configFile, dir);
  daemons.push(second);
  expect(await second.waitFor((l) => l.message === 'proxy process adopted from the previous run')).toMatchObject({
    proxy_id: 'p',
    pid: proxy,
  });
  // Stopped, it takes what it set out of its group with it: nothing of it is left to run beside a next start.
  expect(await second.stop('SIGTERM')).toBe(0);
  await waitUntil(() => pidsMatching(`sleep ${marker}`).length === 0, 5_000);
}, 60_000);
