// Operator commands over a real socket: each one acts on the proxy or the monitor, persists the
// intent in the store (so it survives a daemon restart), and is audited in the store and the log.
import { afterEach, beforeEach, expect, it } from 'vitest';
import { API, startApi, type ApiHarness } from './api-harness.ts';

let api: ApiHarness;
beforeEach(async () => {
  api = await startApi();
});
afterEach(() => api.close());

const memory = () => api.store.memory('ss-1', api.world.clock.now());
const storedAudits = () => api.store.audits({}).reverse(); // oldest first

it('disable / enable turn monitoring of one proxy off and on, and persist the override', async () => {
  const off = await api.call('POST', `${API}/proxies/ss-1/disable`);
  expect(off.status).toBe(200);
  expect(off.json).toMatchObject({
    action: 'proxy_disable',
    proxy: { id: 'ss-1', enabled: false, monitoring_active: false, state: 'running' },
  });
  expect(memory().override).toBe(false);

  api.world.crash('ss-1');
  await api.advance(1_000);
  expect(api.phase()).toBe('crashed'); // not restarted: monitoring is off

  const on = await api.call('POST', `${API}/proxies/ss-1/enable`);
  expect(on.json.proxy.enabled).toBe(true);
  expect(memory().override).toBe(true);
  await api.advance(1_000);
  expect(api.phase()).toBe('running');
});

it('stop / start / restart act on the process and persist what the operator wants', async () => {
  const pid = api.proxy().context.pid;
  const stopped = await api.call('POST', `${API}/proxies/ss-1/stop`);
  expect(stopped.json).toMatchObject({ action: 'proxy_stop', proxy: { wanted: 'down' } });
  // The proxy in the fields GET /proxies/ID shows, privileges included.
  const shown = (await api.call('GET', `${API}/proxies/ss-1`)).json;
  expect(Object.keys(stopped.json.proxy).sort()).toEqual(Object.keys(shown).sort());
  expect(stopped.json.proxy.privileges).toEqual(shown.privileges);
  await api.settle();
  expect(api.phase()).toBe('stopped');
  expect(memory().wanted).toBe('down');

  await api.call('POST', `${API}/proxies/ss-1/start`);
  await api.advance(100);
  expect(api.phase()).toBe('running');
  expect(memory().wanted).toBe('up');

  const before = api.proxy().context.pid;
  expect(before).not.toBe(pid);
  const restarted = await api.call('POST', `${API}/proxies/ss-1/restart`);
  expect(restarted.json.action).toBe('proxy_restart');
  await api.advance(100);
  expect(api.phase()).toBe('running');
  expect(api.proxy().context.pid).not.toBe(before);
});

it('an unknown proxy is a 404 and nothing is persisted or audited', async () => {
  const { status, json } = await api.call('POST', `${API}/proxies/ghost/stop`);
  expect(status).toBe(404);
  expect(json.message).toBe('no proxy "ghost"');
  expect(api.store.memory('ghost', 0).wanted).toBeUndefined();
  expect(storedAudits()).toEqual([]);
  expect(api.audits()).toEqual([]);
});

it('stop / start of the whole monitor pause and resume checks and automatic restarts', async () => {
  const stopped = await api.call('POST', `${API}/stop`);
  expect(stopped.json).toMatchObject({ action: 'monitor_stop', status: { running: false } });
  api.world.crash('ss-1');
  await api.advance(31_000);
  expect(api.phase()).toBe('crashed');
  expect((await api.get(`${API}/status`)).json.stats.total_checks).toBe(0);

  const started = await api.call('POST', `${API}/start`);
  expect(started.json.status.running).toBe(true);
  await api.advance(100);
  expect(api.phase()).toBe('running');
});

it('writes every mutation to the store audit table and to a JSON audit log line, with who did it', async () => {
  await api.call('POST', `${API}/proxies/ss-1/disable`);
  await api.call('POST', `${API}/stop`);
  await api.call('PATCH', `${API}/config`, { body: { max_restarts: 3 } });

  expect(storedAudits().map((a) => [a.action, a.user, a.proxyId])).toEqual([
    ['proxy_disable', 'api:127.0.0.1', 'ss-1'],
    ['monitor_stop', 'api:127.0.0.1', null],
    ['config_update', 'api:127.0.0.1', null],
  ]);
  expect(storedAudits()[2].detail).toMatchObject({ before: { max_restarts: 10 }, after: { max_restarts: 3 }, auth: 'loopback' });
  expect(api.audits()).toEqual([
    expect.objectContaining({ audit: true, action: 'proxy_disable', user: 'api:127.0.0.1', proxy_id: 'ss-1', message: 'audit' }),
    expect.objectContaining({ audit: true, action: 'monitor_stop', user: 'api:127.0.0.1' }),
    expect.objectContaining({ audit: true, action: 'config_update', user: 'api:127.0.0.1', after: { max_restarts: 3 } }),
  ]);
});

it('why names the command that lifts a hold; monitor start with enable: false turns enable on, and /status says so', async () => {
  await api.close();
  api = await startApi({ settings: { enable: false } });
  const why = async () => (await api.get(`${API}/proxies/ss-1/why`)).json;
  api.world.crash('ss-1');
  await api.advance(1_000);
  expect(api.phase()).toBe('crashed');
  expect((await why()).decision).toMatchObject({ verdict: 'held', guard: 'monitoring_disabled' });
  expect((await why()).message).toMatch(
    /^not restarted: the monitor is not watching, .*proxy\.monitor\.enable: false.*`proxy-monitor monitor start` resumes/,
  );
  expect((await api.get(`${API}/status`)).json).toMatchObject({ running: false, config: { enable: false } });

  const started = await api.call('POST', `${API}/start`);
  expect(started.json.status).toMatchObject({ running: true, config: { enable: true } });
  expect((await api.get(`${API}/status`)).json).toMatchObject({ running: true, config: { enable: true } });
  await api.advance(1_000);
  expect(api.phase()).toBe('running');

  await api.call('POST', `${API}/proxies/ss-1/disable`);
  api.world.crash('ss-1');
  await api.advance(1_000);
  expect((await why()).message).toBe(
    'not restarted: monitoring is disabled for this proxy (`proxy-monitor enable ss-1` resumes automatic restarts)',
  );
  await api.call('POST', `${API}/proxies/ss-1/stop`);
  await api.settle();
  expect((await why()).message).toMatch(/`proxy-monitor start ss-1`/);
});

it('a command refuses a body that is not an object, and any query, as any bad request: 400, nothing done, nothing audited', async () => {
  const before = memory();
  const pid = api.proxy().context.pid;
  const commands = ['enable', 'disable', 'start', 'stop', 'restart'].map((name) => `${API}/proxies/ss-1/${name}`);
  for (const path of [...commands, `${API}/stop`, `${API}/start`, `${API}/reload`]) {
    for (const [rawBody, got] of [
      ['[1]', 'a list'],
      ['1', '1'],
      ['"stop"', '"stop"'],
      ['true', 'true'],
    ]) {
      const { status, json } = await api.call('POST', path, { rawBody });
      expect([status, json], `${path} ${rawBody}`).toEqual([
        400,
        {
          error: 'invalid_request',
          message: `body: expected a mapping, got ${got}`,
          issues: [{ in: 'body', field: '', message: `expected a mapping, got ${got}` }],
        },
      ]);
    }
    const unknown = await api.call('POST', path, { body: { force: true } });
    expect([unknown.status, unknown.json.message], path).toEqual([400, 'body: force: unknown key']);
    const query = await api.call('POST', `${path}?force=1`);
    expect([query.status, query.json.message], `${path}?force=1`).toEqual([400, 'querystring: force: unknown key']);
  }
  await api.settle();
  expect(memory()).toEqual(before);
  expect([api.phase(), api.proxy().context.pid, api.supervisor.status().running]).toEqual(['running', pid, true]);
  expect(storedAudits()).toEqual([]);
  // No body, an empty object or null is the command itself.
  expect((await api.call('POST', `${API}/proxies/ss-1/disable`, { body: {} })).status).toBe(200);
  expect((await api.call('POST', `${API}/proxies/ss-1/enable`, { rawBody: 'null' })).status).toBe(200);
  expect((await api.call('POST', `${API}/proxies/ss-1/disable`)).status).toBe(200);
});
