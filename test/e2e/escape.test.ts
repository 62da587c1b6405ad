// A proxy that daemonizes itself, under a real daemon: the escaped copy is killed, the error is
// logged, and `why` says the proxy must run in the foreground. Only this test's processes are touched
// (they carry the spawn tokens of this daemon, and the marker in their command line).
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { API, getJson } from '../api/real-daemon.ts';
import { pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

const marker = `pm-escape-${randomUUID()}`;
/** Every process of this test's proxy, escaped ones and their children included: they inherit its environment. */
const carrying = () => pidsMatching(marker, 'environ');
let daemon: TestDaemon | undefined;
/** Daemons a failed test may leave running. */
const started: TestDaemon[] = [];
afterAll(async () => {
  for (const d of [...started, daemon]) await d?.stop('SIGTERM');
  for (const pid of carrying()) process.kill(pid, 'SIGKILL');
});

it('kills the escaped copy, logs it at error and explains it in why', async () => {
  const { dir, configFile } = writeConfig({
    proxy: {
      monitor: { enable: true, check_interval: 1, restart_cooldown: 60 },
      // Detaches a copy into its own session, then exits 0, as `ss-server -f` does.
      proxies: [
        {
          id: 'forker',
          type: 'exec',
          command: '/bin/sh',
          args: ['-c', `setsid /bin/sh -c 'sleep 300; : ${marker}' & sleep 2; exit 0`, marker],
          env: { PM_ESCAPE_TEST: marker },
        },
      ],
    },
    api: { listen: '127.0.0.1:0' },
  });
  daemon = startDaemon(configFile, dir);
  const url = (await daemon.waitFor((l) => l.message === 'api listening', 30_000)).url as string;
  const error = await daemon.waitFor((l) => l.proxy_id === 'forker' && Array.isArray(l.escaped_pids), 15_000);
  expect(error.level).toBe('error');
  expect(error.message).toBe('proxy escaped its process group');
  expect(error.escaped).toMatch(/must run in the foreground/);
  await waitUntil(() => pidsMatching(`sleep 300; : ${marker}`).length === 0, 5_000);
  const why = (await getJson(`${url}${API}/proxies/forker/why`)).json;
  expect(why.last_exit).toMatch(
    /process exited with code 0; it left \d+ process(es)? running outside its process group .*daemonizes itself/,
  );
  // Restarted meanwhile, it detached another copy: stopping the daemon stops the proxy, and the copy
  // that escaped it is killed too before the daemon exits, its own child with it.
  expect(await daemon.stop('SIGTERM')).toBe(0);
  await waitUntil(() => carrying().length === 0, 5_000);
}, 60_000);

it('kills what an adopted proxy left outside its group when that proxy is stopped', async () => {
  const escapee = `pm-escape-adopted-${randomUUID()}`;
  const { dir, configFile } = writeConfig({
    proxy: {
      monitor: { enable: true, check_interval: 1 },
      // Detaches a copy into its own session and keeps running: stopping its group leaves the copy.
      proxies: [
        {
          id: 'forker',
          type: 'exec',
          command: '/bin/sh',
          args: ['-c', `setsid /bin/sh -c 'sleep 300; : ${escapee}' & exec sleep 300`, marker],
          env: { PM_ESCAPE_TEST: marker },
        },
      ],
    },
    api: { listen: '127.0.0.1:0' },
  });
  const first = startDaemon(configFile, dir);
  started.push(first);
  await first.waitFor((l) => l.proxy_id === 'forker' && l.state_to === 'running', 30_000);
  await waitUntil(() => pidsMatching(`sleep 300; : ${escapee}`).length === 1, 5_000);
  await first.stop('SIGKILL');
  daemon = startDaemon(configFile, dir);
  await daemon.waitFor((l) => l.message === 'proxy process adopted from the previous run' && l.proxy_id === 'forker', 30_000);
  const url = (await daemon.waitFor((l) => l.message === 'api listening', 30_000)).url as string;
  expect((await fetch(`${url}${API}/proxies/forker/stop`, { method: 'POST' })).status).toBe(200);
  const error = await daemon.waitFor((l) => l.proxy_id === 'forker' && Array.isArray(l.escaped_pids), 15_000);
  expect(error).toMatchObject({ level: 'error', message: 'proxy escaped its process group' });
  await waitUntil(() => carrying().length === 0, 5_000);
}, 60_000);
