// Runtime adjustment: PATCH /config validated like the config file, applied from the next tick with
// no proxy restarted; POST /reload reports what the reload did or why it did not happen.
import http from 'node:http';
import { afterEach, expect, it } from 'vitest';
import { fakeSpec } from '../support/fake-world.ts';
import { API, startApi, type ApiHarness } from './api-harness.ts';

let api: ApiHarness;
afterEach(() => api?.close());

it('PATCH check_interval: the next check round comes after the new interval, and no proxy restarts', async () => {
  api = await startApi();
  await api.advance(30_000);
  const rounds = async () => (await api.get(`${API}/status`)).json.stats.total_checks;
  expect(await rounds()).toBe(1);
  const pid = api.proxy().context.pid;
  const spawns = api.world.log.filter((l) => l.startsWith('spawn')).length;

  const { status, json } = await api.call('PATCH', `${API}/config`, { body: { check_interval: 5, backoff: { max: 60 } } });
  expect(status).toBe(200);
  expect(json.changed).toEqual(['check_interval', 'backoff']);
  expect(json.config).toMatchObject({ check_interval: 5, backoff: { initial: 1, factor: 2, max: 60 }, restart_cooldown: 60 });
  expect(api.supervisor.settings().check_interval).toBe(5);

  await api.advance(5_000);
  expect(await rounds()).toBe(2);
  await api.advance(5_000);
  expect(await rounds()).toBe(3);
  expect(api.proxy().context.pid).toBe(pid);
  expect(api.world.log.filter((l) => l.startsWith('spawn'))).toHaveLength(spawns);
  expect((await api.get(`${API}/status`)).json.config.check_interval).toBe(5);
});

it('PATCH logger.level changes the level at once, audited; a wrong level is a 400 naming the key', async () => {
  api = await startApi();
  const { status, json } = await api.call('PATCH', `${API}/config`, { body: { logger: { level: 'warn' } } });
  expect(status).toBe(200);
  expect(json).toMatchObject({ logger: { level: 'warn' }, changed: ['logger.level'] });
  expect(api.audits()).toMatchObject([{ action: 'config_update', before: { 'logger.level': 'debug' }, after: { 'logger.level': 'warn' } }]);
  const bad = await api.call('PATCH', `${API}/config`, { body: { logger: { level: 'loud' } } });
  expect(bad.status).toBe(400);
  expect(bad.json.message).toMatch(/^body: logger\.level: expected one of/);
  const same = await api.call('PATCH', `${API}/config`, { body: { logger: { level: 'warn' } } });
  expect(same.json.changed).toEqual([]);
});

it('changes that are not check_interval leave the check timer alone; a new interval counts from the last round', async () => {
  api = await startApi({ settings: { check_interval: 5 } });
  const roundTimes: number[] = [];
  const start = api.world.clock.now();
  api.supervisor.watchMonitor(({ lastCheckAt }) => {
    if (lastCheckAt !== null && lastCheckAt !== roundTimes.at(-1)) roundTimes.push(lastCheckAt);
  });
  // A PATCH every 3 s with a 5 s interval: the rounds stay at 5, 10, 15.
  for (let i = 0; i < 5; i++) {
    await api.advance(3_000);
    const { status } = await api.call('PATCH', `${API}/config`, { body: { restart_cooldown: 10 + i } });
    expect(status).toBe(200);
  }
  expect(roundTimes.map((t) => t - start)).toEqual([5_000, 10_000, 15_000]);
  // Shorter, 1 s after the round at 15 s: the next one is 2 s after that round.
  await api.advance(1_000);
  await api.call('PATCH', `${API}/config`, { body: { check_interval: 2 } });
  await api.advance(3_500);
  expect(roundTimes.map((t) => t - start)).toEqual([5_000, 10_000, 15_000, 17_000, 19_000]);
  // Longer, at 19.5 s: the next round is 10 s after the last one (29 s), not after the change.
  await api.call('PATCH', `${API}/config`, { body: { check_interval: 10 } });
  await api.advance(9_400);
  expect(roundTimes).toHaveLength(5);
  await api.advance(200);
  expect(roundTimes.map((t) => t - start).at(-1)).toBe(29_000);
  // Shorter than the time already passed since the last round: due at once.
  await api.advance(3_000);
  await api.call('PATCH', `${API}/config`, { body: { check_interval: 1 } });
  await api.advance(1);
  expect(roundTimes.map((t) => t - start).at(-1)).toBe(32_101); // the 1 ms the test let pass
});

it('check_concurrency bounds the checks running at once, from the file and after a PATCH', async () => {
  const specs = Array.from({ length: 8 }, (_, i) => fakeSpec(`ss-${i + 1}`));
  api = await startApi({ specs, settings: { check_concurrency: 3 } });
  api.world.probeMs = 1_000; // every check takes a simulated second
  await api.advance(30_000 + 3_000); // the round at 30 s: 8 checks, 3 at a time, all done by 33 s
  expect(api.world.probes).toMatchObject({ concurrency: 3, peak: 3, inFlight: 0 });
  expect(api.world.log.filter((l) => l.startsWith('probe'))).toHaveLength(8);

  expect((await api.call('PATCH', `${API}/config`, { body: { check_concurrency: 5 } })).status).toBe(200);
  api.world.probes.peak = 0;
  await api.advance(35_000); // the next round (30 s after the last, or after the PATCH) and its 2 s of checks
  expect(api.world.probes).toMatchObject({ concurrency: 5, peak: 5, inFlight: 0 });
  expect(api.world.log.filter((l) => l.startsWith('probe'))).toHaveLength(16);
});

it('PATCH max_restarts reaches the restart decisions', async () => {
  api = await startApi({ settings: { restart_cooldown: 0 } });
  await api.call('PATCH', `${API}/config`, { body: { max_restarts: 1 } });
  api.world.crash('ss-1');
  await api.advance(200);
  api.world.crash('ss-1');
  await api.settle();
  const why = (await api.get(`${API}/proxies/ss-1/why`)).json;
  expect(why.decision).toMatchObject({ verdict: 'withheld', guard: 'restart_cap', inputs: { max_restarts: 1, restarts_in_window: 1 } });
});

it("PATCH max_memory sets the fleet's memory limit, and null removes it", async () => {
  api = await startApi();
  const set = await api.call('PATCH', `${API}/config`, { body: { max_memory: '64MiB' } });
  expect(set.json).toMatchObject({ changed: ['max_memory'], config: { max_memory: '64MiB' } });
  const removed = await api.call('PATCH', `${API}/config`, { body: { max_memory: null } });
  expect(removed.status).toBe(200);
  expect(removed.json.changed).toEqual(['max_memory']);
  expect(removed.json.config).not.toHaveProperty('max_memory');
  expect(api.supervisor.settings()).not.toHaveProperty('max_memory');
  expect(api.store.audits({}).map((a) => a.detail)).toContainEqual(
    expect.objectContaining({ before: { max_memory: '64MiB' }, after: { max_memory: null } }),
  );
  expect((await api.call('PATCH', `${API}/config`, { body: { max_memory: null } })).json.changed).toEqual([]);
});

it.each([
  [{ check_interval: -5 }, 'check_interval', /expected seconds from 1 to 86400 \(1 s to 1 day\), got -5/],
  [{ max_restarts: 2.5 }, 'max_restarts', /expected an integer/],
  [{ enable: 'yes' }, 'enable', /expected true or false/],
  [{ backoff: { initial: 10, max: 5 } }, 'backoff.max', /backoff.initial/],
  [{ backoff: { max: 0.5 } }, 'backoff.max', /backoff.initial \(1\)/], // only wrong once merged with the running config
  [{ check_intervall: 5 }, 'check_intervall', /unknown key, did you mean check_interval\?/],
  [{}, '', /at least one setting/],
])('PATCH %j is refused with 400 naming %s, and changes nothing', async (body, field, message) => {
  api = await startApi();
  const before = structuredClone(api.supervisor.settings());
  const { status, json } = await api.call('PATCH', `${API}/config`, { body });
  expect(status).toBe(400);
  expect(json.error).toBe('invalid_request');
  expect(json.issues).toEqual([expect.objectContaining({ in: 'body', field, message: expect.stringMatching(message) })]);
  expect(api.supervisor.settings()).toEqual(before);
  expect(api.audits()).toEqual([]);
  expect(api.store.audits({})).toEqual([]);
});

it('a __proto__ or constructor key is an unknown key like any other, not invalid JSON, and changes nothing', async () => {
  api = await startApi();
  const before = structuredClone(api.supervisor.settings());
  for (const [rawBody, field] of [
    ['{"__proto__": {"check_interval": 5}}', '__proto__'],
    ['{"check_interval": 5, "backoff": {"__proto__": {"max": 1}}}', 'backoff.__proto__'],
    ['{"constructor": {"prototype": {"check_interval": 5}}}', 'constructor'],
  ]) {
    const { status, json } = await api.call('PATCH', `${API}/config`, { rawBody });
    const message = expect.stringMatching(/^unknown key, expected one of /); // the keys of the mapping it is in
    expect([status, json], rawBody).toEqual([
      400,
      {
        error: 'invalid_request',
        message: expect.stringMatching(`^body: ${field}: unknown key`),
        issues: [{ in: 'body', field, message }],
      },
    ]);
  }
  expect(api.supervisor.settings()).toEqual(before);
  expect(({} as Record<string, unknown>).check_interval).toBeUndefined(); // no prototype was touched
  expect(api.store.audits({})).toEqual([]);
});

it('a body that is not JSON is a 400; one over 64 KiB is a 413; nothing changes', async () => {
  api = await startApi();
  const before = structuredClone(api.supervisor.settings());
  const broken = await api.call('PATCH', `${API}/config`, { rawBody: '{"check_interval": ' });
  expect(broken.status).toBe(400);
  // The same shape as any other bad input.
  expect(broken.json).toEqual({
    error: 'invalid_request',
    message: 'body: expected a JSON object, got invalid JSON',
    issues: [{ in: 'body', field: '', message: 'expected a JSON object, got invalid JSON' }],
  });
  const huge = await api.call('PATCH', `${API}/config`, { body: { check_interval: 5, padding: 'x'.repeat(70_000) } });
  expect(huge.status).toBe(413);
  expect(huge.json.error).toBe('body_too_large');
  expect(api.supervisor.settings()).toEqual(before);
});

it('a body announced over 64 KiB with Expect: 100-continue is refused with 413 before it is sent; a small one is taken', async () => {
  api = await startApi();
  const before = structuredClone(api.supervisor.settings());
  /** Sends the headers, waits for the server's first answer, then the body if it was asked for. */
  const expecting = (body: string) =>
    new Promise<{ status: number; text: string; continued: boolean }>((resolve, reject) => {
      let continued = false;
      const request = http.request(`${api!.url}${API}/config`, {
        method: 'PATCH',
        headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), expect: '100-continue' },
      });
      request.on('continue', () => {
        continued = true;
        request.end(body);
      });
      request.on('response', (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk) => (text += chunk));
        response.on('end', () => resolve({ status: response.statusCode!, text, continued }));
      });
      request.on('error', (error) => (continued ? resolve({ status: 0, text: String(error), continued }) : reject(error)));
      request.flushHeaders();
    });
  const huge = await expecting(JSON.stringify({ check_interval: 5, padding: 'x'.repeat(4_000_000) }));
  expect(huge).toMatchObject({ status: 413, continued: false });
  expect(JSON.parse(huge.text)).toMatchObject({ error: 'body_too_large' });
  expect(api.supervisor.settings()).toEqual(before);
  const small = await expecting(JSON.stringify({ check_interval: 7 }));
  expect(small).toMatchObject({ status: 200, continued: true });
  expect(api.supervisor.settings().check_interval).toBe(7);
});

it('POST /reload answers with what changed, or 422 with the error when the file is invalid; the caller goes to the audit', async () => {
  const changes = {
    added: ['ss-9'],
    removed: [],
    changed: [],
    reconfigured: ['ss-1'],
    settings: ['proxy.monitor.check_interval', 'log.file'],
    at_next_start: ['log.file'],
  };
  const outcomes = [
    { ok: true as const, changes },
    { ok: false as const, error: 'config.yaml: proxy.monitor.check_interval: expected seconds from 1 to 86400 (1 s to 1 day), got -1' },
  ];
  const callers: unknown[] = [];
  api = await startApi({
    reload: async (by) => {
      callers.push(by);
      return outcomes.shift()!;
    },
  });
  const ok = await api.call('POST', `${API}/reload`);
  expect(ok.status).toBe(200);
  expect(ok.json).toEqual(changes);
  const failed = await api.call('POST', `${API}/reload`);
  expect(failed.status).toBe(422);
  expect(failed.json).toMatchObject({
    error: 'reload_failed',
    message: expect.stringMatching(/running config is kept: config.yaml: proxy.monitor.check_interval/),
  });
  // The daemon's reload writes the audit row (test/api/reload.test.ts), for this caller.
  expect(callers).toEqual([
    { user: 'api:127.0.0.1', auth: 'loopback' },
    { user: 'api:127.0.0.1', auth: 'loopback' },
  ]);
});
