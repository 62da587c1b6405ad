// The read routes over a real socket, on the simulated supervisor: shapes, 404 and 400.
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { fakeSpec } from '../support/fake-world.ts';
import { proxiesReply, statusReply } from '../../src/api/schemas.ts';
import { iso, proxyReply } from '../../src/api/views.ts';
import { API, startApi, type ApiHarness } from './api-harness.ts';

let api: ApiHarness;
beforeEach(async () => {
  api = await startApi({
    specs: [fakeSpec('ss-1'), fakeSpec('ss-2', { monitor: false, type: 'trojan', settings: { stop_timeout: 30, restart: 'on-failure' } })],
  });
});
afterEach(() => api.close());

describe('GET /status', () => {
  it('has exactly the seed field names, with the running config', async () => {
    await api.advance(30_000);
    const { status, json } = await api.get(`${API}/status`);
    expect(status).toBe(200);
    expect(Object.keys(json).sort()).toEqual(['config', 'enabled_proxies', 'running', 'stats', 'status_count', 'total_proxies']);
    expect(json).toMatchObject({
      running: true,
      total_proxies: 2,
      enabled_proxies: 1,
      status_count: { unknown: 0, running: 2, stopped: 0, crashed: 0, restarting: 0 },
      stats: { total_checks: 1, total_restarts: 0, success_restarts: 0, failed_restarts: 0, last_check_time: '2026-01-01T00:00:30.000Z' },
    });
    expect(json.config).toMatchObject({ check_interval: 30, restart_cooldown: 60, max_restarts: 10, health_timeout: 5 });
  });
});

describe('GET /proxies and /proxies/:id', () => {
  it('lists every proxy with state, pid, uptime, monitoring, last check, window and schedule', async () => {
    await api.advance(30_000);
    const { status, json } = await api.get(`${API}/proxies`);
    expect(status).toBe(200);
    expect(json.proxies.map((p: { id: string }) => p.id)).toEqual(['ss-1', 'ss-2']);
    const [one, two] = json.proxies;
    expect(one).toMatchObject({
      proxy_type: 'exec',
      state: 'running',
      sub_state: 'running.up',
      pid: api.world.running.get('ss-1')!.pid,
      uptime_s: 30,
      enabled: true,
      monitoring_active: true,
      wanted: 'up',
      last_check: { time: '2026-01-01T00:00:30.000Z', ok: true, duration_ms: 5, error: null },
      last_restart: null,
      restarts_in_window: 0,
      max_restarts: 10,
      window_s: 3600,
      cooldown_ends_at: null,
      next_attempt_at: null,
    });
    expect(two).toMatchObject({ enabled: false, monitoring_active: false, last_check: null });
    // The settings in effect: the proxy's own, else the global ones.
    expect(one).toMatchObject({
      settings: { stop_timeout: 10, health_timeout: 5, failure_threshold: 3, start_grace: 5, restart: 'always' },
      own_settings: [],
    });
    expect(two).toMatchObject({
      proxy_type: 'trojan',
      settings: { stop_timeout: 30, health_timeout: 5, failure_threshold: 3, start_grace: 5, restart: 'on-failure' },
      own_settings: ['stop_timeout', 'restart'],
    });
    expect((await api.get(`${API}/proxies/ss-2`)).json).toMatchObject({ proxy_type: 'trojan', settings: { stop_timeout: 30 } });
  });

  it('shows a crashed proxy waiting out its cooldown, with the cooldown end and the next attempt', async () => {
    api.world.crash('ss-1');
    await api.advance(200); // restarted at once: the first restart has no cooldown to wait for
    api.world.crash('ss-1');
    await api.settle();
    const { json } = await api.get(`${API}/proxies/ss-1`);
    expect(json).toMatchObject({
      state: 'crashed',
      sub_state: 'crashed.waiting',
      pid: null,
      uptime_s: null,
      restarts_in_window: 1,
      cooldown_ends_at: '2026-01-01T00:01:00.000Z',
      next_attempt_at: '2026-01-01T00:01:00.000Z',
      last_restart: { proxy_id: 'ss-1', reason: 'exited', success: true, manual: false, error: null },
    });
  });

  it('replies from the read cache: equal to a reply built afresh, changed by any change at once, by time within a second', async () => {
    const fresh = () => {
      const now = api.world.clock.now();
      const proxies = api.supervisor.proxies().map((view) => proxyReply(view, now, api.supervisor.spec(view.id)));
      return proxiesReply.parse({ as_of: iso(now), proxies });
    };
    await api.advance(30_000);
    const before = (await api.get(`${API}/proxies`)).json;
    expect(before).toEqual(fresh());
    expect((await api.get(`${API}/status`)).json).toEqual(statusReply.parse(api.supervisor.status()));
    // A change with no time passing: the next read has it.
    api.world.crash('ss-1');
    await api.settle();
    const crashed = (await api.get(`${API}/proxies`)).json;
    expect(crashed.proxies[0].stats.restarts).toBe(before.proxies[0].stats.restarts + 1);
    expect(crashed).toEqual(fresh());
    expect((await api.get(`${API}/status`)).json).toEqual(statusReply.parse(api.supervisor.status()));
    await api.call('POST', `${API}/proxies/ss-2/stop`);
    expect((await api.get(`${API}/proxies/ss-2`)).json).toMatchObject({ wanted: 'down' });
    // Time alone: within a second the same reply (its as_of says when); past it, a new one.
    await api.advance(1_000);
    const running = (await api.get(`${API}/proxies`)).json;
    expect(running).toEqual(fresh());
    await api.advance(400);
    expect((await api.get(`${API}/proxies`)).json.as_of).toBe(running.as_of);
    await api.advance(600);
    expect((await api.get(`${API}/proxies`)).json).toEqual(fresh());
  });

  it('answers 404 with a JSON error for an unknown id, 400 naming `id` for a malformed one', async () => {
    const missing = await api.get(`${API}/proxies/nope`);
    expect(missing.status).toBe(404);
    expect(missing.json).toEqual({ error: 'not_found', message: 'no proxy "nope"' });
    for (const path of ['/proxies/nope/why', '/proxies/nope/history']) expect((await api.get(`${API}${path}`)).status).toBe(404);

    const bad = await api.get(`${API}/proxies/${'x'.repeat(65)}`);
    expect(bad.status).toBe(400);
    expect(bad.json.issues).toEqual([expect.objectContaining({ in: 'params', field: 'id' })]);
  });

  it('answers 404 in JSON for a route that does not exist', async () => {
    const { status, json } = await api.get('/api/v1/nothing');
    expect(status).toBe(404);
    expect(json.error).toBe('not_found');
  });

  it('answers 405 with Allow for a path served under other methods (GET of a command, POST of a read)', async () => {
    const command = await api.get(`${API}/proxies/ss-1/stop`);
    expect(command.status).toBe(405);
    expect(command.headers.get('allow')).toBe('POST');
    expect(command.json).toEqual({ error: 'method_not_allowed', message: `GET ${API}/proxies/ss-1/stop: expected POST` });
    const read = await api.call('DELETE', `${API}/status?x=1`);
    expect(read.status).toBe(405);
    expect(read.headers.get('allow')).toBe('GET, HEAD');
    expect((await api.call('POST', '/inspect/anything')).headers.get('allow')).toBe('GET, HEAD');
    expect(api.server.hasRoute({ method: 'GET', url: `${API}/proxies/:id/stop` })).toBe(false); // no route was added for it
    // A route of the method asked that has nothing at the path: 404, not 405.
    for (const path of ['/inspect/charts/nope.svg', '/inspect/assets/missing.css']) {
      const missing = await api.get(path);
      expect([missing.status, missing.json?.error], path).toEqual([404, 'not_found']);
    }
  });
});

describe('uptime', () => {
  it("is the new process's while a restart verifies it, and none before it has a pid", async () => {
    const verifying = await startApi({ specs: [fakeSpec('v-1')], settings: { min_uptime: 5 } });
    try {
      verifying.world.crash('v-1');
      await verifying.settle();
      await verifying.advance(2_000);
      const { json } = await verifying.get(`${API}/proxies/v-1`);
      expect(json).toMatchObject({ state: 'restarting', uptime_s: 2 });
    } finally {
      await verifying.close();
    }
  });
});

describe('GET /proxies/:id/why', () => {
  it('before any crash: no decision, and says so', async () => {
    const { json } = await api.get(`${API}/proxies/ss-1/why`);
    expect(json).toMatchObject({ decision: null, remaining: { next_attempt_in_ms: null } });
    expect(json.message).toMatch(/no restart decision yet/);
  });

  it('while a hung process is being stopped: says so, not an earlier decision', async () => {
    api.world.crash('ss-1'); // an earlier crash and restart: a decision "allowed" on record
    await api.settle();
    api.world.unhealthy.add('ss-1');
    api.world.stubborn.add('ss-1');
    await api.advance(3 * 30_000); // three failed checks: crashed, its process sent SIGTERM
    expect(api.state()).toBe('crashed.reaping');
    const { json } = await api.get(`${API}/proxies/ss-1/why`);
    expect(json.message).toMatch(
      /^crashed \(health check failed 3 times in a row: connection refused\); its process \d+ is being stopped .*: the restart is decided once it has exited$/,
    );
  });

  it('names the guard holding a restart back with its inputs, and counts the remaining wait down from now', async () => {
    api.world.crash('ss-1');
    await api.advance(200);
    api.world.crash('ss-1');
    await api.settle();
    const first = (await api.get(`${API}/proxies/ss-1/why`)).json;
    expect(first.decision).toMatchObject({
      verdict: 'withheld',
      guard: 'cooldown',
      next_attempt_at: '2026-01-01T00:01:00.000Z',
      inputs: {
        restarts_in_window: 1,
        max_restarts: 10,
        window_s: 3600,
        cooldown_s: 60,
        cooldown_remaining_ms: 59_800,
        backoff_ms: 1_000, // the restart did not stay up stable_uptime: a failure, but the cooldown is longer
        consecutive_failures: 1,
      },
    });
    expect(first.remaining).toMatchObject({ cooldown_ms: 59_800, next_attempt_in_ms: 59_800 });
    expect(first.message).toMatch(/cooldown.*in 60s/);

    await api.advance(20_000);
    const later = (await api.get(`${API}/proxies/ss-1/why`)).json;
    expect(later.decision).toEqual(first.decision); // the decision as taken does not change
    expect(later.remaining).toMatchObject({ cooldown_ms: 39_800, next_attempt_in_ms: 39_800 });
  });

  it('explains a proxy whose monitoring is disabled: held, no attempt scheduled', async () => {
    api.world.crash('ss-2');
    await api.settle();
    const { json } = await api.get(`${API}/proxies/ss-2/why`);
    expect(json.decision).toMatchObject({ verdict: 'held', guard: 'monitoring_disabled', next_attempt_at: null });
    expect(json.remaining.next_attempt_in_ms).toBeNull();
  });
});

describe('GET /history and /proxies/:id/history', () => {
  async function crashAndRestart(id: string, times: number) {
    for (let i = 0; i < times; i++) {
      api.world.crash(id);
      await api.advance(61_000);
    }
  }

  it('returns the restart records from the store with the analysis', async () => {
    await crashAndRestart('ss-1', 2);
    api.world.spawnFails.add('ss-1');
    api.world.crash('ss-1');
    await api.advance(1_000); // the next attempt waits for the cooldown
    const { status, json } = await api.get(`${API}/history`);
    expect(status).toBe(200);
    expect(json.records).toHaveLength(3);
    expect(json.records[0]).toMatchObject({ proxy_id: 'ss-1', reason: 'exited', success: false, error: expect.stringMatching(/ENOENT/) });
    expect(Object.keys(json.records[0]).sort()).toEqual(['duration_ms', 'error', 'manual', 'proxy_id', 'reason', 'success', 'time']);
    expect(json.analysis).toMatchObject({ total: 3, successes: 2, failures: 1, by_reason: { exited: 3 } });
    expect(json.analysis.success_rate).toBeCloseTo(2 / 3);
    expect(json.analysis.by_hour[0]).toBe(3);
    expect(json.analysis.by_hour.reduce((a: number, b: number) => a + b)).toBe(3);
    expect(json.analysis.duration_ms).toEqual({ p50: expect.any(Number), p95: expect.any(Number), max: expect.any(Number) });
    expect(json.truncated).toBe(false);
    // Limited: the newest records, and the reply says more matched.
    const two = (await api.get(`${API}/history?limit=2`)).json;
    expect(two).toMatchObject({ truncated: true, analysis: { total: 2 } });
    expect(two.records).toEqual(json.records.slice(0, 2));
    expect((await api.get(`${API}/history?limit=3`)).json.truncated).toBe(false);
  });

  it('reports nearest-rank percentiles of the restarts as they took (known startup times)', async () => {
    await api.close();
    api = await startApi({ settings: { restart_cooldown: 0, max_restarts: 50, stable_uptime: 1 } });
    // Twenty restarts taking 100, 200, ..., 2000 ms of simulated time from crash to ready.
    for (let i = 1; i <= 20; i++) {
      api.world.startupMs.set('ss-1', i * 100);
      api.world.crash('ss-1');
      await api.advance(i * 100 + 100);
      expect(api.state()).toBe('running.up');
      await api.advance(1_000); // up stable_uptime: the next crash is not this restart failing
    }
    const { json } = await api.get(`${API}/history`);
    expect(json.records.map((r: { duration_ms: number }) => r.duration_ms)).toEqual(Array.from({ length: 20 }, (_, i) => (20 - i) * 100));
    expect(json.analysis.duration_ms).toEqual({ p50: 1000, p95: 1900, max: 2000 });
    expect(json.analysis.success_rate).toBe(1);
  });

  it('filters by proxy, since (a duration or an ISO time) and limit', async () => {
    await crashAndRestart('ss-1', 3); // restarts at 0s, 61s, 122s
    const limited = (await api.get(`${API}/proxies/ss-1/history?limit=2`)).json;
    expect(limited.records.map((r: { time: string }) => r.time)).toEqual(['2026-01-01T00:02:02.000Z', '2026-01-01T00:01:01.000Z']);
    expect(limited.analysis.total).toBe(2);
    const recent = (await api.get(`${API}/proxies/ss-1/history?since=90s`)).json;
    expect(recent.records).toHaveLength(1);
    expect(recent.since).toBe('2026-01-01T00:01:33.000Z');
    const fromIso = (await api.get(`${API}/history?since=2026-01-01T00:01:00Z`)).json;
    expect(fromIso.records).toHaveLength(2);
    expect((await api.get(`${API}/proxies/ss-2/history`)).status).toBe(200); // known proxy, no restarts
  });

  it('refuses a bad since or limit with 400 naming the parameter', async () => {
    const bad = await api.get(`${API}/history?since=yesterday&limit=0&extra=1`);
    expect(bad.status).toBe(400);
    expect(bad.json.issues.map((i: { field: string }) => i.field).sort()).toEqual(['extra', 'limit', 'since']);
    expect(bad.json.issues.every((i: { in: string }) => i.in === 'querystring')).toBe(true);
    // A proxy's routes take no query: an option meant as a filter is refused, not ignored.
    for (const path of ['ss-1?x=1', 'ss-1/why?x=1', 'ss-1/output?lines=5']) {
      const unknown = await api.get(`${API}/proxies/${path}`);
      expect([unknown.status, unknown.json.message], path).toEqual([400, `querystring: ${path.split('?')[1].split('=')[0]}: unknown key`]);
    }
  });
});
