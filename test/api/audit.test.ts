// GET /audit: the audit trail read back over the API, newest first, filtered by proxy, action and
// time, with the reason and proxy type lifted out of the stored detail.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { AUDIT_ACTIONS } from '../../src/store/types.ts';
import { restartActor } from '../../src/supervisor/reports.ts';
import { API, startApi, type ApiHarness } from './api-harness.ts';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
  // An entry from before audit rows carried a reason and a proxy type: both read back as null.
  api.store.addAudit({
    at: api.world.clock.now() - 7_200_000,
    user: 'cli',
    action: 'proxy_stop',
    proxyId: 'ss-1',
    detail: { auth: 'none' },
  });
  expect((await api.call('POST', `${API}/proxies/ss-1/stop`)).status).toBe(200);
  await api.advance(1_000);
  expect((await api.call('POST', `${API}/stop`)).status).toBe(200);
  await api.advance(1_000);
});
afterAll(() => api?.close());

it('lists every entry newest first, with reason, proxy type and the rest of the detail', async () => {
  const { status, json } = await api.call('GET', `${API}/audit`);
  expect(status).toBe(200);
  expect(json).toMatchObject({ since: null, proxy_id: null, action: null });
  expect(json.records.map((r: { action: string }) => r.action)).toEqual(['monitor_stop', 'proxy_stop', 'proxy_stop']);
  const [monitor, stop, old] = json.records;
  expect(stop).toMatchObject({
    user: 'api:127.0.0.1',
    action: 'proxy_stop',
    proxy_id: 'ss-1',
    proxy_type: 'exec',
    reason: 'stopped by the operator',
  });
  expect(stop.detail).toEqual({ auth: 'loopback' }); // reason and proxy_type lifted out of it
  expect(stop.time).toBe(new Date(Date.parse(monitor.time) - 1_000).toISOString());
  expect(monitor).toMatchObject({ proxy_id: null, proxy_type: null });
  expect(old).toMatchObject({ user: 'cli', proxy_type: null, reason: null, detail: { auth: 'none' } });
});

it('filters by proxy, by action and by time, and says which filters it applied', async () => {
  const byProxy = (await api.call('GET', `${API}/audit?proxy=ss-1`)).json;
  expect(byProxy).toMatchObject({ proxy_id: 'ss-1', action: null });
  expect(byProxy.records.map((r: { action: string }) => r.action)).toEqual(['proxy_stop', 'proxy_stop']);

  const byAction = (await api.call('GET', `${API}/audit?action=monitor_stop`)).json;
  expect(byAction).toMatchObject({ proxy_id: null, action: 'monitor_stop' });
  expect(byAction.records).toHaveLength(1);

  const now = api.world.clock.now();
  const recent = (await api.call('GET', `${API}/audit?since=1h`)).json;
  expect(recent.since).toBe(new Date(now - 3_600_000).toISOString());
  expect(recent.records).toHaveLength(2); // the two-hour-old entry is left out

  const bad = await api.call('GET', `${API}/audit?since=yesterday`);
  expect(bad.status).toBe(400);
});

it('refuses an action it never records, naming the ones it does; every action written is one of them', async () => {
  const bad = await api.call('GET', `${API}/audit?action=proxy_stopp`);
  expect(bad.status).toBe(400);
  expect(bad.json.message).toMatch(/^querystring: action: expected one of "proxy_enable", .*, got "proxy_stopp"$/);
  for (const name of ['enable', 'disable', 'start', 'restart'])
    expect((await api.call('POST', `${API}/proxies/ss-1/${name}`)).status).toBe(200);
  expect((await api.call('POST', `${API}/start`)).status).toBe(200);
  expect((await api.call('PATCH', `${API}/config`, { body: { check_interval: 45 } })).status).toBe(200);
  const written = new Set((await api.call('GET', `${API}/audit?limit=1000`)).json.records.map((r: { action: string }) => r.action));
  expect(written.size).toBeGreaterThanOrEqual(8);
  for (const manual of [true, false]) written.add(restartActor(manual).action);
  for (const action of written) expect(AUDIT_ACTIONS).toContain(action);
});
