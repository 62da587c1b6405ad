// /healthz (is the check loop alive?) and /metrics (counters from the hooks, gauges at scrape time).
import { afterEach, expect, it } from 'vitest';
import { API, startApi, type ApiHarness } from './api-harness.ts';
import { fakeSpec } from '../support/fake-world.ts';

let api: ApiHarness;
afterEach(() => api?.close());

/** `name{labels} value` lines of the exposition text, as a map. */
function samples(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    const m = /^(proxy_monitor_[^\s]+) (\S+)$/.exec(line);
    if (m) out.set(m[1], Number(m[2]));
  }
  return out;
}

it('/healthz: 200 while ticking, 503 naming the delay once no round ran for 2 x check_interval', async () => {
  api = await startApi();
  await api.advance(30_000);
  const ok = await api.get('/healthz');
  expect(ok.status).toBe(200);
  expect(ok.json).toMatchObject({ ok: true, state: 'ticking', last_tick: '2026-01-01T00:00:30.000Z', check_interval: 30 });

  api.stall(61_000);
  const stalled = await api.get('/healthz');
  expect(stalled.status).toBe(503);
  expect(stalled.json).toMatchObject({ ok: false, state: 'stalled', seconds_since_tick: 61 });
  expect(stalled.json.message).toMatch(/no check round for 61.0s, expected one every 30s/);
});

it('/healthz: the grace is exactly 2 x check_interval since the last round', async () => {
  api = await startApi({ settings: { check_interval: 10 } });
  await api.advance(10_000); // one round at 10 s
  api.stall(20_000);
  const atLimit = await api.get('/healthz');
  expect(atLimit.status).toBe(200);
  expect(atLimit.json).toMatchObject({ ok: true, state: 'ticking', seconds_since_tick: 20 });
  api.stall(1);
  const past = await api.get('/healthz');
  expect(past.status).toBe(503);
  expect(past.json).toMatchObject({ ok: false, state: 'stalled', seconds_since_tick: 20.001 });
  expect(past.json.message).toMatch(/expected one every 10s \(limit 20s\)/);
});

it('/healthz: 200 and says why when the monitor is paused on purpose or disabled', async () => {
  api = await startApi();
  await api.call('POST', `${API}/stop`);
  api.stall(600_000);
  const paused = await api.get('/healthz');
  expect(paused.status).toBe(200);
  expect(paused.json).toMatchObject({ ok: true, state: 'paused', message: expect.stringMatching(/stopped by the operator/) });

  await api.call('POST', `${API}/start`);
  await api.call('PATCH', `${API}/config`, { body: { enable: false } });
  const disabled = await api.get('/healthz');
  expect(disabled.status).toBe(200);
  expect(disabled.json).toMatchObject({ ok: true, state: 'disabled', message: expect.stringMatching(/enable: false/) });
});

it('/metrics: counters move with checks and restarts, gauges describe the present', async () => {
  api = await startApi({ settings: { max_restarts: 2, restart_cooldown: 0, backoff: { initial: 0.1, factor: 1, max: 0.1 } } });
  const response = await api.get('/metrics');
  expect(response.headers.get('content-type')).toMatch(/^text\/plain; version=0.0.4/);
  const before = samples(response.text);
  expect(before.get('proxy_monitor_proxy_state{proxy_id="ss-1",state="running"}')).toBe(1);
  expect(before.get('proxy_monitor_proxy_state{proxy_id="ss-1",state="crashed"}')).toBe(0);
  expect(before.get('proxy_monitor_running')).toBe(1);
  expect(before.get('proxy_monitor_max_restarts')).toBe(2);
  expect(before.get('proxy_monitor_check_rounds_total')).toBe(0);
  expect(before.get('proxy_monitor_check_interval_seconds')).toBe(30);
  expect(before.get('proxy_monitor_proxy_enabled{proxy_id="ss-1"}')).toBe(1);
  expect(before.get('proxy_monitor_proxy_wanted_up{proxy_id="ss-1"}')).toBe(1);

  await api.advance(30_000);
  api.world.crash('ss-1');
  await api.advance(200);
  api.world.crash('ss-1');
  await api.advance(200);
  api.world.crash('ss-1'); // a third crash within the hour: the cap of 2 holds it back
  await api.settle();

  const after = samples((await api.get('/metrics')).text);
  expect(after.get('proxy_monitor_check_rounds_total')).toBe(1);
  expect(after.get('proxy_monitor_checks_total{proxy_id="ss-1",result="success"}')).toBe(1);
  expect(after.get('proxy_monitor_check_duration_seconds_count')).toBe(1);
  expect(after.get('proxy_monitor_restarts_total{proxy_id="ss-1",result="success",reason="exited"}')).toBe(2);
  expect(after.get('proxy_monitor_restart_duration_seconds_count')).toBe(2);
  expect(after.get('proxy_monitor_restarts_in_window{proxy_id="ss-1"}')).toBe(2);
  expect(after.get('proxy_monitor_restart_cap_reached{proxy_id="ss-1"}')).toBe(1);
  expect(after.get('proxy_monitor_proxy_state{proxy_id="ss-1",state="crashed"}')).toBe(1);
  expect(after.get('proxy_monitor_proxy_state{proxy_id="ss-1",state="running"}')).toBe(0);
  expect(after.get('proxy_monitor_last_tick_timestamp_seconds')).toBe(Date.UTC(2026, 0, 1, 0, 0, 30) / 1000);
  expect(after.get('proxy_monitor_seconds_since_last_tick')).toBeCloseTo(0.4);

  await api.call('POST', `${API}/stop`);
  const paused = samples((await api.get('/metrics')).text);
  expect(paused.get('proxy_monitor_running')).toBe(0);
  expect(paused.get('proxy_monitor_seconds_since_last_tick')).toBe(0);

  await api.call('POST', `${API}/proxies/ss-1/disable`);
  await api.call('POST', `${API}/proxies/ss-1/stop`);
  await api.call('PATCH', `${API}/config`, { body: { check_interval: 7 } });
  const held = samples((await api.get('/metrics')).text);
  expect(held.get('proxy_monitor_proxy_enabled{proxy_id="ss-1"}')).toBe(0);
  expect(held.get('proxy_monitor_proxy_wanted_up{proxy_id="ss-1"}')).toBe(0);
  expect(held.get('proxy_monitor_check_interval_seconds')).toBe(7);
});

it("/metrics: a removed proxy's series go with it, counters included", async () => {
  api = await startApi({ specs: [fakeSpec('ss-1'), fakeSpec('ss-2')] });
  await api.advance(30_000);
  api.world.crash('ss-2');
  await api.settle();
  const before = (await api.get('/metrics')).text;
  expect(before).toMatch(/proxy_monitor_checks_total\{proxy_id="ss-2"/);
  expect(before).toMatch(/proxy_monitor_restarts_total\{proxy_id="ss-2"/);
  api.supervisor.reconcile([fakeSpec('ss-1')], api.supervisor.settings());
  await api.settle();
  const after = (await api.get('/metrics')).text;
  expect(after).not.toMatch(/proxy_id="ss-2"/);
  expect(after).toMatch(/proxy_monitor_checks_total\{proxy_id="ss-1"/);
});
