// A proxy whose process ended while the daemon was down (killed, or being restarted by systemd) is a
// crash nobody saw: the next daemon says so, records it, and restarts it as it restarts any crash.
import { writeFileSync } from 'node:fs';
import { afterAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon, STARTUP_MS } from '../support/daemon.ts';

const marker = `${process.pid}${Date.now() % 100_000}`;
const daemons: TestDaemon[] = [];
afterAll(async () => {
  for (const daemon of daemons) await daemon.stop('SIGKILL');
  for (const pid of [...pidsMatching(`sleep ${marker}`), ...pidsMatching(`sleep 1${marker}`), ...pidsMatching(`2${marker}`)])
    process.kill(pid, 'SIGKILL');
});

it('a process that ended while the daemon was down is logged, recorded and restarted as a crash', async () => {
  const config = {
    api: { listen: '127.0.0.1:0' },
    proxy: {
      monitor: { enable: true, check_interval: 30 },
      // A worker forked into the proxy's group (as a pre-forking server's, which would keep its port).
      proxies: [{ id: 'p', type: 'exec', command: '/bin/sh', args: ['-c', `/bin/sleep 1${marker} & exec /bin/sleep ${marker}`] }],
    },
  };
  const { dir, configFile } = writeConfig(config);
  const first = startDaemon(configFile, dir);
  daemons.push(first);
  await waitUntil(() => pidsMatching(`sleep ${marker}`).length === 1 && pidsMatching(`sleep 1${marker}`).length === 1, STARTUP_MS);
  const [before] = pidsMatching(`sleep ${marker}`);
  const [worker] = pidsMatching(`sleep 1${marker}`);
  first.child.kill('SIGKILL');
  await first.exited;
  process.kill(before, 'SIGKILL');
  await waitUntil(() => pidsMatching(`sleep ${marker}`).length === 0, 5_000);
  writeFileSync(configFile, stringify({ ...config, state_dir: `${dir}/state` }));

  const second = startDaemon(configFile, dir);
  daemons.push(second);
  expect(await second.waitFor((l) => l.message === 'proxy process ended while the daemon was down: handled as a crash')).toMatchObject({
    proxy_id: 'p',
    pid: before,
  });
  expect(await second.waitFor((l) => l.message === 'proxy crash detected')).toMatchObject({
    proxy_id: 'p',
    reason: 'process ended while the daemon was down (exit status unknown)',
  });
  // What it left in its group is killed before the proxy starts again, as when it ends under the daemon's eye.
  expect(
    await second.waitFor((l) => l.message === 'proxy process ended while the daemon was down, leaving processes running: killing them'),
  ).toMatchObject({ proxy_id: 'p', pid: before, left_pids: [worker] });
  await second.waitFor((l) => l.message === 'proxy restart succeeded' && l.proxy_id === 'p');
  expect(pidsMatching(`sleep ${marker}`)).toHaveLength(1);
  expect(pidsMatching(`sleep 1${marker}`)).toHaveLength(1);
  expect(pidsMatching(`sleep 1${marker}`)).not.toContain(worker);
  const url = (await second.waitFor((l) => l.message === 'api listening')).url as string;
  const history = (await (await fetch(`${url}/api/v1/proxy/monitor/proxies/p/history`)).json()) as { records: unknown[] };
  expect(history.records).toMatchObject([{ proxy_id: 'p', reason: 'exited', success: true, manual: false }]);
  expect(await second.stop('SIGTERM')).toBe(0);
}, 60_000);

it("the process an operator's restart was stopping, ended while the daemon was down, is no crash: the proxy is started", async () => {
  const config = {
    api: { listen: '127.0.0.1:0' },
    proxy: {
      monitor: { enable: true, check_interval: 30, stop_timeout: 20 },
      // Takes a second to stop on TERM: the daemon is killed in that second.
      proxies: [
        {
          id: 'p',
          type: 'exec',
          command: '/bin/sh',
          args: ['-c', `trap 'sleep 1; exit 0' TERM; while :; do /bin/sleep 0.2; done; : 2${marker}`],
        },
      ],
    },
  };
  const { dir, configFile } = writeConfig(config);
  const first = startDaemon(configFile, dir);
  daemons.push(first);
  const url = (await first.waitFor((l) => l.message === 'api listening', STARTUP_MS)).url as string;
  await waitUntil(() => pidsMatching(`2${marker}`).length === 1, STARTUP_MS);
  const [before] = pidsMatching(`2${marker}`);
  expect((await fetch(`${url}/api/v1/proxy/monitor/proxies/p/restart`, { method: 'POST' })).status).toBe(200);
  await first.waitFor((l) => l.proxy_id === 'p' && l.state_to === 'stopped'); // its old process being stopped
  first.child.kill('SIGKILL');
  await first.exited;
  await waitUntil(() => !pidsMatching(`2${marker}`).includes(before), 5_000); // its TERM handled, it ends

  const second = startDaemon(configFile, dir);
  daemons.push(second);
  await waitUntil(() => pidsMatching(`2${marker}`).length === 1, STARTUP_MS);
  const url2 = (await second.waitFor((l) => l.message === 'api listening')).url as string;
  await waitUntil(async () => (await (await fetch(`${url2}/api/v1/proxy/monitor/proxies/p`)).json()).sub_state === 'running.up', 10_000);
  expect(second.lines.filter((l) => l.message === 'proxy crash detected' || l.message.startsWith('proxy process ended while'))).toEqual([]);
  const history = (await (await fetch(`${url2}/api/v1/proxy/monitor/proxies/p/history`)).json()) as { records: unknown[] };
  expect(history.records).toMatchObject([
    { reason: 'operator', success: false, error: 'interrupted: the daemon stopped during the restart' },
  ]);
  expect(await second.stop('SIGTERM')).toBe(0);
}, 60_000);
