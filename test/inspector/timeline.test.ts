// The fleet timeline: states rebuilt from restart records and operator stops/starts, ending in the
// state each proxy is in now; the route validated like the others.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { timelineOf, type Segment } from '../../src/api/timeline.ts';
import { fakeSpec } from '../support/fake-world.ts';
import { API, startApi, type ApiHarness } from '../api/api-harness.ts';

const S = 1_000;
const span = { from: 0, to: 60 * S, bootedAt: -1 };
const text = (segments: Segment[]) => segments.map((s) => `${s.state} ${s.from / S}-${s.to / S}`);

describe('timelineOf', () => {
  it('draws restarts as restarting, then running or (failed) crashed until the next attempt', () => {
    const events = [
      { kind: 'restart' as const, at: 20 * S, end: 21 * S, success: false, manual: false },
      { kind: 'restart' as const, at: 30 * S, end: 31 * S, success: true, manual: false },
    ];
    expect(text(timelineOf(events, { phase: 'running', since: 31 * S }, span))).toEqual([
      'running 0-20',
      'restarting 20-21',
      'crashed 21-30',
      'restarting 30-31',
      'running 31-60',
    ]);
  });

  it('ends in the current state from when it began, and knows nothing before a proxy first ran', () => {
    expect(text(timelineOf([], { phase: 'crashed', since: 50 * S }, span))).toEqual(['running 0-50', 'crashed 50-60']);
    expect(text(timelineOf([{ kind: 'stop', at: 10 * S }], { phase: 'stopped', since: null }, span))).toEqual([
      'running 0-10',
      'stopped 10-60',
    ]);
    expect(text(timelineOf([], { phase: 'running', since: 40 * S }, span))).toEqual(['none 0-40', 'running 40-60']);
    const restart = { kind: 'restart' as const, at: 20 * S, end: 21 * S, success: true, manual: false };
    expect(text(timelineOf([restart], { phase: 'crashed', since: 45 * S }, span))).toEqual([
      'running 0-20',
      'restarting 20-21',
      'running 21-45',
      'crashed 45-60',
    ]);
  });

  it('knows nothing before the daemon started, or before the first record of an earlier run (the proxy may not have existed)', () => {
    const restart = { kind: 'restart' as const, at: 30 * S, end: 31 * S, success: true, manual: false };
    const current = { phase: 'running' as const, since: 31 * S };
    expect(text(timelineOf([restart], current, { ...span, bootedAt: 20 * S }))).toEqual([
      'none 0-20',
      'running 20-30',
      'restarting 30-31',
      'running 31-60',
    ]);
    expect(text(timelineOf([restart], current, { ...span, bootedAt: 40 * S }))).toEqual(['none 0-30', 'restarting 30-31', 'running 31-60']);
  });

  it('clips events to the span and merges neighbours in the same state', () => {
    const events = [
      { kind: 'start' as const, at: -5 * S },
      { kind: 'restart' as const, at: 58 * S, end: 65 * S, success: true, manual: true },
    ];
    expect(text(timelineOf(events, { phase: 'restarting', since: 58 * S }, span))).toEqual(['running 0-58', 'restarting 58-60']);
  });
});

describe('GET /timeline and /proxies/:id/output', () => {
  let api: ApiHarness;
  beforeAll(async () => {
    api = await startApi({ specs: [fakeSpec('ss-1'), fakeSpec('ss-2')], settings: { restart_cooldown: 0 } });
  });
  afterAll(() => api?.close());

  it("gives every proxy's states over the last hour, a crash and a failed restart among them", async () => {
    await api.advance(60 * S);
    // Its first restart fails (not ready), the next one (after the backoff) works.
    api.world.unhealthy.add('ss-2');
    api.world.crash('ss-2');
    await api.advance(3 * S);
    api.world.unhealthy.delete('ss-2');
    await api.advance(10 * S);
    const { status, json } = await api.get(`${API}/timeline`);
    expect(status).toBe(200);
    expect(Date.parse(json.until) - Date.parse(json.since)).toBe(3_600 * S);
    expect(json.truncated).toBe(false);
    const states = (id: string) => json.proxies.find((p: { id: string }) => p.id === id).segments.map((s: { state: string }) => s.state);
    expect(states('ss-1')).toEqual(['none', 'running']);
    expect(states('ss-2')).toEqual(['running', 'restarting', 'crashed', 'running']);
  });

  it('refuses a span it cannot give, naming the field', async () => {
    for (const since of ['yesterday', '48h', '2020-01-01T00:00:00Z']) {
      const { status, json } = await api.get(`${API}/timeline?since=${since}`);
      expect(status).toBe(400);
      expect(json.issues).toEqual([expect.objectContaining({ in: 'querystring', field: 'since' })]);
      expect(json.message).toMatch(/^querystring: since: expected /); // as every route says where the bad input was
    }
    expect((await api.get(`${API}/timeline?until=1h`)).status).toBe(400);
  });

  it("gives a proxy's last output lines, and 404 for an unknown proxy", async () => {
    for (let i = 0; i < 25; i++) api.recent.onOutput('ss-1', 'stderr', `line ${i}`);
    const { json } = await api.get(`${API}/proxies/ss-1/output`);
    expect(json.lines.map((l: { line: string }) => l.line)).toEqual(Array.from({ length: 20 }, (_, i) => `line ${i + 5}`));
    expect(json.lines[0]).toMatchObject({ stream: 'stderr', time: expect.any(String) });
    expect((await api.get(`${API}/proxies/nope/output`)).status).toBe(404);
    expect((await api.get(`${API}/proxies/${encodeURIComponent('../x')}/output`)).status).toBe(400);
  });
});
