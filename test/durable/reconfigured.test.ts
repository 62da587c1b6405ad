// The config changed while the daemon was down: its processes from the previous run are adopted if
// unchanged, replaced if their settings changed, stopped if their proxy is gone.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isAliveNotZombie } from '../../src/process/proc.ts';
import { accepts, freePorts, pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon, STARTUP_MS } from '../support/daemon.ts';

const marker = `${process.pid}${Date.now() % 100_000}`;
const sleeper = (id: string, seconds: string, env: Record<string, string> = {}) => ({
  id,
  type: 'exec',
  command: '/bin/sleep',
  args: [seconds],
  env,
});
const pidOf = (seconds: string) => pidsMatching(`sleep ${seconds}`);

const daemons: TestDaemon[] = [];
afterAll(async () => {
  for (const daemon of daemons) await daemon.stop('SIGKILL');
  for (const pid of pidsMatching(marker)) process.kill(pid, 'SIGKILL');
});

it('adopts the unchanged, replaces the changed, stops the removed', async () => {
  const [keep, change, drop] = ['1', '2', '3'].map((n) => `${n}${marker}`);
  const monitor = { enable: true, check_interval: 30 };
  const { dir, configFile } = writeConfig({
    api: { listen: '127.0.0.1:0' }, // the API on a free port: 8080 may be taken
    proxy: { monitor, proxies: [sleeper('keep', keep), sleeper('change', change), sleeper('drop', drop)] },
  });
  const firstStarted = Date.now();
  const first = startDaemon(configFile, dir);
  daemons.push(first);
  await waitUntil(() => [keep, change, drop].every((s) => pidOf(s).length === 1), STARTUP_MS);
  const before = { keep: pidOf(keep)[0], change: pidOf(change)[0], drop: pidOf(drop)[0] };
  const keepSeen = Date.now(); // it started between firstStarted and now
  await new Promise((r) => setTimeout(r, 3_000)); // an uptime an adoption at zero could not show
  first.child.kill('SIGKILL');
  await first.exited;

  writeFileSync(
    configFile,
    stringify({
      state_dir: join(dir, 'state'),
      api: { listen: '127.0.0.1:0' },
      proxy: { monitor, proxies: [sleeper('keep', keep), sleeper('change', change, { MODE: 'new' })] },
    }),
  );
  const second = startDaemon(configFile, dir);
  daemons.push(second);
  expect(await second.waitFor((l) => l.message === 'state loaded')).toMatchObject({ adopting: 2, replacing: 1, stopping: 1 });
  await second.waitFor(
    (l) => l.message === 'adopted proxy process was started from a different configuration: restarting it' && l.proxy_id === 'change',
  );
  await waitUntil(() => pidOf(change).length === 1 && pidOf(change)[0] !== before.change && !isAliveNotZombie(before.change), 10_000);
  await waitUntil(() => !isAliveNotZombie(before.drop), 15_000);
  expect(pidOf(keep)).toEqual([before.keep]);
  expect(pidOf(drop)).toEqual([]);
  expect(second.lines.find((l) => l.message === 'stopping a proxy process left by the previous run')).toMatchObject({
    proxy_id: 'drop',
    pid: before.drop,
    reason: 'the proxy is no longer in the configuration',
  });

  // The replaced one says why it was restarted; the adopted one's uptime counts from its own start.
  expect(
    second.lines.find((l) => l.message === 'proxy state changed' && l.proxy_id === 'change' && l.state_to === 'stopped'),
  ).toMatchObject({
    reason: 'configuration changed while the daemon was down',
  });
  const url = (await second.waitFor((l) => l.message === 'api listening')).url as string;
  const adopted = (await (await fetch(`${url}/api/v1/proxy/monitor/proxies/keep`)).json()) as { pid: number; uptime_s: number };
  expect(adopted.pid).toBe(before.keep);
  expect(adopted.uptime_s).toBeGreaterThanOrEqual((Date.now() - keepSeen) / 1000 - 1.5); // /proc's boot time is whole seconds
  expect(adopted.uptime_s).toBeLessThanOrEqual((Date.now() - firstStarted) / 1000 + 1.5);

  expect(await second.stop('SIGTERM')).toBe(0);
  expect(pidsMatching(marker)).toEqual([]);
}, 120_000);

it('a proxy renamed while the daemon was down starts once the old process, which holds its port, is gone', async () => {
  const [port] = await freePorts(1);
  // Holds the port and ignores SIGTERM: gone only at stop_timeout's SIGKILL. A second copy exits 98.
  const server = (id: string) => ({
    id,
    type: 'exec',
    command: 'perl',
    args: [
      '-MIO::Socket::INET',
      '-e',
      `$SIG{TERM}="IGNORE"; my $s = IO::Socket::INET->new(LocalAddr=>"127.0.0.1",LocalPort=>${port},Listen=>5,ReuseAddr=>1) or exit 98; sleep 300; # ${marker}`,
    ],
    health: { tcp: `127.0.0.1:${port}` },
  });
  const monitor = { enable: true, check_interval: 30, stop_timeout: 1 };
  const config = (id: string) => ({ api: { listen: '127.0.0.1:0' }, proxy: { monitor, proxies: [server(id)] } });
  const { dir, configFile } = writeConfig(config('old'));
  const first = startDaemon(configFile, dir);
  daemons.push(first);
  await waitUntil(() => accepts(port), STARTUP_MS);
  const [old] = pidsMatching(marker);
  first.child.kill('SIGKILL');
  await first.exited;

  writeFileSync(configFile, stringify({ ...config('new'), state_dir: join(dir, 'state') }));
  const second = startDaemon(configFile, dir);
  daemons.push(second);
  await second.waitFor((l) => l.message === 'proxies start once the processes left by the previous run are gone');
  await waitUntil(() => !isAliveNotZombie(old) && pidsMatching(marker).length === 1, 15_000);
  await waitUntil(() => accepts(port), 5_000);
  await new Promise((r) => setTimeout(r, 500));
  // Started once, beside nothing: no exit 98, no failed restart.
  expect(second.lines.filter((l) => l.proxy_id === 'new' && /crash|restart/.test(String(l.message)))).toEqual([]);
  expect(await second.stop('SIGTERM')).toBe(0);
}, 60_000);
