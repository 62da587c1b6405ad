// SIGHUP to a real daemon: one proxy added, one removed, one unchanged. The unchanged one keeps its
// process and its restart counters; a broken file changes nothing and the error is logged.
import Database from 'better-sqlite3';
import { existsSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import { accepts, freePorts, pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon, STARTUP_MS } from '../support/daemon.ts';
import { API, apiUrl, echoProxy, getJson, killEchoServers } from './real-daemon.ts';

let daemon: TestDaemon;
let url: string;
let ports: number[];
let configFile: string;
let stateDir: string;
// A generous failure_threshold: on a loaded machine an echo server may take seconds to listen.
const monitor = { enable: true, check_interval: 1, restart_cooldown: 0, failure_threshold: 10 };

const proxy = async (id: string) => (await getJson(`${url}${API}/proxies/${id}`)).json;
const writeProxies = (proxies: unknown[], extra: { monitor?: object; api?: object; log?: object } = {}) =>
  writeFileSync(
    configFile,
    stringify({
      state_dir: stateDir,
      proxy: { monitor: { ...monitor, ...extra.monitor }, proxies },
      api: { listen: '127.0.0.1:0', ...extra.api },
      ...(extra.log && { log: extra.log }),
    }),
  );

beforeAll(async () => {
  ports = await freePorts(3);
  const written = writeConfig({
    proxy: { monitor, proxies: [echoProxy('keep', ports[0]), echoProxy('drop', ports[1])] },
    api: { listen: '127.0.0.1:0' },
  });
  configFile = written.configFile;
  stateDir = `${written.dir}/state`;
  daemon = startDaemon(configFile, written.dir);
  url = await apiUrl(daemon);
  await waitUntil(async () => (await accepts(ports[0])) && (await accepts(ports[1])), STARTUP_MS, 100);
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
  // Checks go on every second; every other counter is as it was.
  const { checks: checksBefore, ...countersBefore } = before.stats;
  const { checks: checksAfter, ...countersAfter } = after.stats;
  expect(countersAfter).toEqual(countersBefore);
  expect(checksAfter).toBeGreaterThanOrEqual(checksBefore);
  expect(after.restarts_in_window).toBe(1);
  expect(after.last_restart).toEqual(before.last_restart);
  expect(pidsMatching(`--port ${ports[0]}`)).toEqual([before.pid]);
  const status = (await getJson(`${url}${API}/status`)).json;
  expect(status).toMatchObject({ total_proxies: 2, stats: { total_restarts: 1, success_restarts: 1 } });
});

it('keeps the running config when the file is broken or empty, and logs why (SIGHUP and POST /reload alike)', async () => {
  const pids = { keep: (await proxy('keep')).pid, added: (await proxy('added')).pid };
  writeFileSync(configFile, stringify({ state_dir: stateDir, proxy: { monitor: { ...monitor, check_interval: -1 }, proxies: [] } }));

  daemon.child.kill('SIGHUP');
  const failed = await daemon.waitFor((l) => l.message === 'config reload failed; keeping the running config');
  expect(failed.error).toMatch(/proxy\.monitor\.check_interval: expected seconds from 1 to 86400 \(1 s to 1 day\), got -1/);

  const viaApi = await fetch(`${url}${API}/reload`, { method: 'POST' });
  expect(viaApi.status).toBe(422);
  expect((await viaApi.json()).message).toMatch(/running config is kept: .*check_interval/);

  // Check rounds go on under the kept config (check_interval 1): two more, and nothing restarted.
  const rounds = async () => (await getJson(`${url}${API}/status`)).json.stats.total_checks as number;
  const roundsBefore = await rounds();
  await waitUntil(async () => (await rounds()) >= roundsBefore + 2, 15_000, 100);
  const status = (await getJson(`${url}${API}/status`)).json;
  expect(status).toMatchObject({ total_proxies: 2, running: true, config: { check_interval: 1 } });
  expect((await proxy('keep')).pid).toBe(pids.keep);
  expect((await proxy('added')).pid).toBe(pids.added);
  expect(daemon.lines.filter((l) => l.message === 'config reloaded')).toHaveLength(1);

  // An empty file (truncated by an editor or a script mid-write) would be the defaults: no proxy.
  writeFileSync(configFile, '# nothing yet\n');
  const emptied = await fetch(`${url}${API}/reload`, { method: 'POST' });
  expect(emptied.status).toBe(422);
  expect((await emptied.json()).message).toMatch(/the file is empty: a reload would stop and remove every proxy/);
  // So would a file cut off right after "proxies:" (the key without a value).
  writeFileSync(configFile, 'proxy:\n  proxies:\n');
  const cut = await fetch(`${url}${API}/reload`, { method: 'POST' });
  expect(cut.status).toBe(422);
  expect((await cut.json()).message).toMatch(/proxy\.proxies has no list: a reload would stop and remove every proxy/);
  expect((await getJson(`${url}${API}/status`)).json.total_proxies).toBe(2);
  expect((await proxy('keep')).pid).toBe(pids.keep);

  // A typo in a program's path: the running process is kept, not stopped for a spawn that fails.
  writeProxies([{ ...echoProxy('keep', ports[0]), command: `${process.execPath}x` }, echoProxy('added', ports[2])]);
  const typo = await fetch(`${url}${API}/reload`, { method: 'POST' });
  expect(typo.status).toBe(422);
  expect((await typo.json()).message).toMatch(/proxy\.proxies\[0\]\.command: spawn \S+x ENOENT: cannot be run/);
  expect((await proxy('keep')).pid).toBe(pids.keep);
  // So is a health check that cannot be run, changed by the reload: it would fail every check.
  writeProxies([{ ...echoProxy('keep', ports[0]), health: { exec: ['/no/such-check.sh'] } }, echoProxy('added', ports[2])]);
  const check = await fetch(`${url}${API}/reload`, { method: 'POST' });
  expect(check.status).toBe(422);
  expect((await check.json()).message).toMatch(/proxy\.proxies\[0\]\.health\.exec: spawn \/no\/such-check\.sh ENOENT: cannot be run/);
  // A proxy the operator stopped is not started by a reload: its program is not asked for.
  expect((await fetch(`${url}${API}/proxies/added/stop`, { method: 'POST' })).status).toBe(200);
  writeProxies([echoProxy('keep', ports[0]), { ...echoProxy('added', ports[2]), command: `${process.execPath}x` }]);
  expect((await fetch(`${url}${API}/reload`, { method: 'POST' })).status).toBe(200);
  expect((await proxy('keep')).pid).toBe(pids.keep);
  writeProxies([echoProxy('keep', ports[0]), echoProxy('added', ports[2])]);
  expect((await fetch(`${url}${API}/reload`, { method: 'POST' })).status).toBe(200);
  expect((await fetch(`${url}${API}/proxies/added/start`, { method: 'POST' })).status).toBe(200);
  await daemon.waitFor((l) => l.audit === true && l.action === 'proxy_start' && l.proxy_id === 'added');
  await waitUntil(async () => (await proxy('added')).state === 'running', 10_000, 50);
});

it('SIGHUP is audited like POST /reload; the log names each changed setting with old and new value, secrets redacted; api.listen and log.file need a restart', async () => {
  const proxies = [echoProxy('keep', ports[0]), echoProxy('added', ports[2])];
  const [other] = await freePorts(1);
  writeProxies(proxies, {
    monitor: { check_interval: 2, backoff: { max: 60 } },
    api: { listen: `127.0.0.1:${other}`, token: 'reload-secret-31f' },
    log: { file: `${stateDir}-logs/pm.log` },
  });
  const seen = daemon.lines.length;
  daemon.child.kill('SIGHUP');
  const reloaded = await daemon.waitFor((l) => l.message === 'config reloaded' && daemon.lines.indexOf(l) >= seen);
  expect(reloaded.settings).toEqual({
    'proxy.monitor.check_interval': { old: 1, new: 2 },
    'proxy.monitor.backoff.max': { old: 300, new: 60 },
    'api.listen': { old: '127.0.0.1:0', new: `127.0.0.1:${other}` },
    'api.token': { old: null, new: '[redacted]' },
    'log.file': { old: null, new: `${stateDir}-logs/pm.log` },
  });
  const warned = daemon.lines.slice(seen).find((l) => l.message === 'api.listen changed: it takes effect at the next daemon start');
  expect(warned).toMatchObject({ level: 'warn', setting: 'api.listen', old: '127.0.0.1:0', new: `127.0.0.1:${other}` });
  // The logger was made at start: its file waits for the next one, and says so.
  expect(daemon.lines.slice(seen).some((l) => l.message === 'log.file changed: it takes effect at the next daemon start')).toBe(true);
  expect(existsSync(`${stateDir}-logs`)).toBe(false);
  const audit = daemon.lines.slice(seen).find((l) => l.audit === true);
  expect(audit).toMatchObject({ action: 'config_reload', user: 'signal:SIGHUP', auth: 'signal', added: [], changed: [] });
  expect(JSON.stringify(daemon.lines)).not.toContain('reload-secret-31f');

  // The same row in state.db as an API reload writes (which now needs the token the file set).
  const viaApi = await fetch(`${url}${API}/reload`, { method: 'POST', headers: { authorization: 'Bearer reload-secret-31f' } });
  expect(viaApi.status).toBe(200);
  const db = new Database(`${stateDir}/state.db`, { readonly: true });
  try {
    const rows = db.prepare("SELECT user, action, detail FROM audit WHERE action = 'config_reload' ORDER BY id").all() as {
      user: string;
      detail: string;
    }[];
    expect(rows.map((r) => r.user).slice(-2)).toEqual(['signal:SIGHUP', 'api:127.0.0.1']);
    expect(JSON.parse(rows.at(-2)!.detail)).toMatchObject({
      auth: 'signal',
      settings: { 'proxy.monitor.check_interval': { old: 1, new: 2 } },
    });
    expect(JSON.parse(rows.at(-1)!.detail)).toMatchObject({ auth: 'token', settings: {} });
  } finally {
    db.close();
  }
});

it('a reload that resumes a monitor the operator paused says so (the file wins)', async () => {
  const auth = { authorization: 'Bearer reload-secret-31f' }; // the token the test before set
  expect((await fetch(`${url}${API}/stop`, { method: 'POST', headers: auth })).status).toBe(200); // monitor stop
  const seen = daemon.lines.length;
  const reply = await fetch(`${url}${API}/reload`, { method: 'POST', headers: auth });
  expect((await reply.json()).settings).toEqual(['monitor']);
  const reloaded = await daemon.waitFor((l) => l.message === 'config reloaded' && daemon.lines.indexOf(l) >= seen);
  expect(reloaded.settings).toEqual({ monitor: { old: 'paused', new: 'watching' } });
  expect(daemon.lines.slice(seen).find((l) => l.level === 'warn' && /paused by the operator, watches again/.test(l.message))).toBeDefined();
});

it('a reload that puts back the log level a PATCH changed lists logger.level among its settings', async () => {
  const auth = { authorization: 'Bearer reload-secret-31f', 'content-type': 'application/json' };
  const patch = await fetch(`${url}${API}/config`, {
    method: 'PATCH',
    headers: auth,
    body: JSON.stringify({ logger: { level: 'debug' } }),
  });
  expect(patch.status).toBe(200);
  const seen = daemon.lines.length;
  const reply = await fetch(`${url}${API}/reload`, { method: 'POST', headers: { authorization: auth.authorization } });
  expect((await reply.json()).settings).toEqual(['logger.level']);
  const reloaded = await daemon.waitFor((l) => l.message === 'config reloaded' && daemon.lines.indexOf(l) >= seen);
  expect(reloaded.settings).toEqual({ 'logger.level': { old: 'debug', new: 'info' } });
});
