// `rm -rf state_dir` under a running daemon: it notices at once (the lock file is gone), says so at
// error level, recreates the directory, the lock and the database with the history it still holds
// open, so a second daemon started on the path refuses, and no proxy runs twice.
import Database from 'better-sqlite3';
import { existsSync, renameSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { API, getJson } from '../api/real-daemon.ts';
import { startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

const daemons: TestDaemon[] = [];
let proxyPid: number | undefined;
afterAll(async () => {
  for (const daemon of daemons) await daemon.stop('SIGTERM');
  if (proxyPid) {
    try {
      process.kill(proxyPid, 'SIGKILL');
    } catch {
      // stopped with its daemon
    }
  }
});

it('recreates a deleted state_dir with its lock and history; a second daemon refuses', async () => {
  const { dir, configFile } = writeConfig({
    proxy: {
      monitor: { enable: true, check_interval: 1, restart_cooldown: 0 },
      proxies: [{ id: 'sleeper', type: 'exec', command: '/bin/sleep', args: ['300'] }],
    },
    api: { listen: '127.0.0.1:0' },
  });
  const stateDir = join(dir, 'state');
  const first = startDaemon(configFile, dir);
  daemons.push(first);
  const url = (await first.waitFor((l) => l.message === 'api listening', 30_000)).url as string;
  const proxy = async () => (await getJson(`${url}${API}/proxies/sleeper`)).json;
  await waitUntil(async () => (await proxy()).state === 'running', 15_000, 50);
  // Some history to keep: one crash and its restart.
  const crashed = (await proxy()).pid;
  process.kill(crashed, 'SIGKILL');
  await waitUntil(async () => (await proxy()).pid !== crashed && (await proxy()).state === 'running', 15_000, 50);
  proxyPid = (await proxy()).pid;

  // Gone from its path at once (a recursive rm races with the daemon recreating it: ENOTEMPTY).
  renameSync(stateDir, `${stateDir}.deleted`);
  rmSync(`${stateDir}.deleted`, { recursive: true, force: true });
  await first.waitFor((l) => l.message === 'state_dir was deleted while running: recreating it', 10_000);
  expect(first.lines.find((l) => l.message === 'state_dir was deleted while running: recreating it')).toMatchObject({
    level: 'error',
    state_dir: stateDir,
  });
  await waitUntil(() => existsSync(join(stateDir, 'daemon.lock')) && existsSync(join(stateDir, 'state.db')), 5_000, 20);

  const second = startDaemon(configFile, dir);
  daemons.push(second);
  expect(await second.exited).toBe(1);
  expect(second.stderr()).toMatch(/is in use by another proxy-monitor/);

  // The first daemon goes on with the same process, and the history it held open is on disk again.
  expect((await proxy()).pid).toBe(proxyPid);
  expect(first.child.exitCode).toBeNull();
  const db = new Database(join(stateDir, 'state.db'), { readonly: true });
  try {
    expect(db.prepare('SELECT proxy_id, reason FROM restarts').all()).toEqual([{ proxy_id: 'sleeper', reason: 'exited' }]);
    expect(db.prepare('SELECT pid FROM processes').pluck().all()).toEqual([proxyPid]);
  } finally {
    db.close();
  }
}, 90_000);

it('a daemon whose deleted state_dir another one took (it was stopped meanwhile) leaves its proxies to that one, which adopted them', async () => {
  const { dir, configFile } = writeConfig({
    proxy: {
      monitor: { enable: true, check_interval: 1 },
      proxies: [{ id: 'sleeper', type: 'exec', command: '/bin/sleep', args: ['301'] }],
    },
    api: { listen: '127.0.0.1:0' },
  });
  const stateDir = join(dir, 'state');
  const first = startDaemon(configFile, dir);
  daemons.push(first);
  await first.waitFor((l) => l.proxy_id === 'sleeper' && l.state_to === 'running', 30_000);
  const url = (await first.waitFor((l) => l.message === 'api listening', 30_000)).url as string;
  const pid = (await getJson(`${url}${API}/proxies/sleeper`)).json.pid as number;
  first.child.kill('SIGSTOP');
  try {
    rmSync(stateDir, { recursive: true, force: true });
    const second = startDaemon(configFile, dir);
    daemons.push(second);
    expect(await second.waitFor((l) => l.message === 'proxy process adopted from the previous run', 30_000)).toMatchObject({ pid });
  } finally {
    first.child.kill('SIGCONT');
  }
  await first.waitFor((l) => l.message.startsWith('another proxy-monitor took the recreated state_dir'), 15_000);
  expect(await first.exited).toBe(1);
  const second = daemons.at(-1)!;
  await new Promise((done) => setTimeout(done, 1_500)); // a check round or so of the second daemon
  expect(second.lines.filter((l) => l.message === 'proxy crash detected')).toEqual([]);
  process.kill(pid, 0); // still running, adopted
  expect(await second.stop('SIGTERM')).toBe(0);
}, 90_000);
