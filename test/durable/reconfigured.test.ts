// The config changed while the daemon was down: its processes from the previous run are adopted if
// unchanged, replaced if their settings changed, stopped if their proxy is gone.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { isAliveNotZombie } from '../../src/process/driver.ts';
import { pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

const marker = `${process.pid}${Date.now() % 100_000}`;
const sleeper = (id: string, seconds: string, env: Record<string, string> = {}) => ({ id, type: 'exec', command: '/bin/sleep', args: [seconds], env });
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
  const first = startDaemon(configFile, dir);
  daemons.push(first);
  await waitUntil(() => [keep, change, drop].every((s) => pidOf(s).length === 1), 10_000);
  const before = { keep: pidOf(keep)[0], change: pidOf(change)[0], drop: pidOf(drop)[0] };
  first.child.kill('SIGKILL');
  await first.exited;

  writeFileSync(configFile, stringify({ state_dir: join(dir, 'state'), api: { listen: '127.0.0.1:0' }, proxy: { monitor, proxies: [sleeper('keep', keep), sleeper('change', change, { MODE: 'new' })] } }));
  const second = startDaemon(configFile, dir);
  daemons.push(second);
  expect(await second.waitFor((l) => l.message === 'state loaded')).toMatchObject({ adopting: 2, replacing: 1, stopping: 1 });
  await second.waitFor((l) => l.message === 'adopted proxy process was started from a different configuration: restarting it' && l.proxy_id === 'change');
  await waitUntil(() => pidOf(change).length === 1 && pidOf(change)[0] !== before.change && !isAliveNotZombie(before.change), 10_000);
  await waitUntil(() => !isAliveNotZombie(before.drop), 15_000);
  expect(pidOf(keep)).toEqual([before.keep]);
  expect(pidOf(drop)).toEqual([]);
  expect(second.lines.find((l) => l.message === 'stopping a proxy process left by the previous run')).toMatchObject({
    proxy_id: 'drop',
    pid: before.drop,
    reason: 'the proxy is no longer in the configuration',
  });

  expect(await second.stop('SIGTERM')).toBe(0);
  expect(pidsMatching(marker)).toEqual([]);
}, 60_000);
