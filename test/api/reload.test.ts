// SIGHUP to a real daemon: one proxy added, one removed, one unchanged. The unchanged one keeps its
// process and its restart counters; a broken file changes nothing and the error is logged.
import { writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { accepts, freePorts, pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';
import { API, apiUrl, echoProxy, getJson, killEchoServers } from './real-daemon.ts';

let daemon: TestDaemon;
let url: string;
let ports: number[];
let configFile: string;
let stateDir: string;
const monitor = { enable: true, check_interval: 1, restart_cooldown: 0 };

const proxy = async (id: string) => (await getJson(`${url}${API}/proxies/${id}`)).json;
const writeProxies = (proxies: unknown[]) =>
  writeFileSync(configFile, stringify({ state_dir: stateDir, proxy: { monitor, proxies }, api: { listen: '127.0.0.1:0' } }));

beforeAll(async () => {
  ports = await freePorts(3);
  const written = writeConfig({ proxy: { monitor, proxies: [echoProxy('keep', ports[0]), echoProxy('drop', ports[1])] }, api: { listen: '127.0.0.1:0' } });
  configFile = written.configFile;
  stateDir = `${written.dir}/state`;
  daemon = startDaemon(configFile, written.dir);
  url = await apiUrl(daemon);
  await waitUntil(async () => (await accepts(ports[0])) && (await accepts(ports[1])), 15_000, 100);
});

afterAll(async () => {
  await daemon?.stop('SIGTERM');
  killEchoServers(ports ?? []);
});

it('reconciles on SIGHUP: added starts, removed stops, unchanged keeps its pid and counters', async () => {
  // Give the unchanged proxy a history: one restart in the window.
  const first = await proxy('keep');
  process.kill(first.pid, 'SIGKILL');
  await waitUntil(async () => (await proxy('keep')).stats.restarts === 1 && (await proxy('keep')).state === 'running', 10_000, 50);
  const before = await proxy('keep');
  expect(before.restarts_in_window).toBe(1);

  writeProxies([echoProxy('keep', ports[0]), echoProxy('added', ports[2])]);
  daemon.child.kill('SIGHUP');
  const reloaded = await daemon.waitFor((l) => l.message === 'config reloaded');
  expect(reloaded).toMatchObject({ added: ['added'], removed: ['drop'], changed: [] });

  await waitUntil(() => accepts(ports[2]), 10_000, 50);
  await waitUntil(async () => pidsMatching(`--port ${ports[1]}`).length === 0, 10_000, 50);
  expect((await getJson(`${url}${API}/proxies/drop`)).status).toBe(404);
  expect((await proxy('added')).state).toBe('running');

  const after = await proxy('keep');
  expect(after.pid).toBe(before.pid);
  expect(after.stats).toEqual(before.stats);
  expect(after.restarts_in_window).toBe(1);
  expect(after.last_restart).toEqual(before.last_restart);
  expect(pidsMatching(`--port ${ports[0]}`)).toEqual([before.pid]);
  const status = (await getJson(`${url}${API}/status`)).json;
  expect(status).toMatchObject({ total_proxies: 2, stats: { total_restarts: 1, success_restarts: 1 } });
});

it('keeps the running config when the file is broken, and logs why (SIGHUP and POST /reload alike)', async () => {
  const pids = { keep: (await proxy('keep')).pid, added: (await proxy('added')).pid };
  writeFileSync(configFile, stringify({ state_dir: stateDir, proxy: { monitor: { ...monitor, check_interval: -1 }, proxies: [] } }));

  daemon.child.kill('SIGHUP');
  const failed = await daemon.waitFor((l) => l.message === 'config reload failed; keeping the running config');
  expect(failed.error).toMatch(/proxy\.monitor\.check_interval: expected a number > 0, got -1/);

  const viaApi = await fetch(`${url}${API}/reload`, { method: 'POST' });
  expect(viaApi.status).toBe(422);
  expect((await viaApi.json()).message).toMatch(/running config is kept: .*check_interval/);

  await new Promise((r) => setTimeout(r, 1_500)); // a few check rounds under the kept config
  const status = (await getJson(`${url}${API}/status`)).json;
  expect(status).toMatchObject({ total_proxies: 2, running: true, config: { check_interval: 1 } });
  expect((await proxy('keep')).pid).toBe(pids.keep);
  expect((await proxy('added')).pid).toBe(pids.added);
  expect(daemon.lines.filter((l) => l.message === 'config reloaded')).toHaveLength(1);
});
