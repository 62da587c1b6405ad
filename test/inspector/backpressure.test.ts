// A client of /inspect/events that never reads must not grow the daemon's memory: its queue is
// bounded, and once over the bound it is dropped and counted.
import { spawn } from 'node:child_process';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { SSE_MAX_QUEUED_BYTES, SSE_MAX_STREAMS } from '../../src/inspector/plugin.ts';
import { waitUntil } from '../support/daemon.ts';
import { fakeSpec } from '../support/fake-world.ts';
import { startApi, type ApiHarness } from '../api/api-harness.ts';

const ids = Array.from({ length: 40 }, (_, i) => `p-${i}`);
let api: ApiHarness;
beforeAll(async () => {
  api = await startApi({
    specs: ids.map((id) => fakeSpec(id)),
    settings: { restart_cooldown: 0, max_restarts: 1_000_000, stable_uptime: 1 },
  });
});
afterAll(() => api.close());

it('drops a client that does not read, and counts it', async () => {
  const { port } = new URL(api.url);
  // A client with a tiny receive buffer that never reads (node cannot shrink a socket's buffers):
  // what the daemon cannot send piles up in its own memory, where the bound applies.
  const client = spawn(
    'python3',
    [
      '-c',
      [
        'import socket, sys, time',
        's = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)',
        `s.connect(("127.0.0.1", ${port}))`,
        `s.sendall(b"GET /inspect/events HTTP/1.1\\r\\nHost: 127.0.0.1:${port}\\r\\n\\r\\n")`,
        'time.sleep(120)',
      ].join('\n'),
    ],
    { stdio: 'ignore' },
  );
  try {
    const droppedClients = async () =>
      Number(/^proxy_monitor_inspector_clients_dropped_total (\S+)$/m.exec(await (await fetch(`${api.url}/metrics`)).text())?.[1]);
    // The page is loaded on its first request (lazy-inspector.ts): its counter exists from then on.
    await waitUntil(async () => (await droppedClients()) === 0, 30_000, 100);
    // Crash loops on every proxy: each crash streams a few KiB of cards and transitions.
    for (let cycle = 0; cycle < 200 && (await droppedClients()) === 0; cycle++) {
      for (const id of ids) api.world.crash(id);
      await api.advance(1_000);
    }
    expect(await droppedClients()).toBe(1);
    expect(SSE_MAX_QUEUED_BYTES).toBeLessThanOrEqual(4 * 1024 * 1024);
  } finally {
    client.kill('SIGKILL');
  }
}, 60_000);

it('takes at most 16 event streams at once: the 17th is refused, and the API still answers', async () => {
  const open: AbortController[] = [];
  try {
    for (let i = 0; i < SSE_MAX_STREAMS; i++) {
      const controller = new AbortController();
      open.push(controller);
      const response = await fetch(`${api.url}/inspect/events`, { signal: controller.signal });
      expect(response.status).toBe(200);
    }
    const refused = await fetch(`${api.url}/inspect/events`);
    expect(refused.status).toBe(503);
    expect(refused.headers.get('retry-after')).toBe('30');
    expect(await refused.json()).toMatchObject({ error: 'too_many_streams' });
    expect((await fetch(`${api.url}/healthz`)).status).toBe(200);
    // A page closed frees its place.
    open.pop()!.abort();
    await waitUntil(
      async () => {
        const again = await fetch(`${api.url}/inspect/events`);
        if (again.status !== 200) return false;
        await again.body?.cancel();
        return true;
      },
      5_000,
      50,
    );
  } finally {
    for (const controller of open) controller.abort();
  }
});

it('sends /inspect/ (with the slash people type) to the page, by a relative redirect that keeps a proxy prefix', async () => {
  const response = await fetch(`${api.url}/inspect/`, { redirect: 'manual' });
  expect(response.status).toBe(302);
  expect(response.headers.get('location')).toBe('../inspect');
  expect(new URL('../inspect', 'http://h/prefix/inspect/').pathname).toBe('/prefix/inspect');
});
