// `run --inspect ws://...`: a real daemon reports its actors (the monitor and each proxy, with
// their full definitions) and their snapshots to a plain WebSocket server.
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { monitorMachine } from '../../machines/monitor.machine.ts';
import { proxyMachine } from '../../machines/proxy.machine.ts';
import { accepts, freePorts, startDaemon, waitUntil, writeConfig, type TestDaemon, STARTUP_MS } from '../support/daemon.ts';
import { apiUrl, echoProxy, killEchoServers } from '../api/real-daemon.ts';

const IDS = ['echo-a', 'echo-b'];

interface Message {
  type: string;
  name?: string;
  sessionId: string;
  definition?: string;
  snapshot?: { value?: unknown; context?: { id?: string } };
}

let server: WebSocketServer;
let daemon: TestDaemon;
let ports: number[];
const messages: Message[] = [];

beforeAll(async () => {
  server = new WebSocketServer({ host: '127.0.0.1', port: 0 });
  await new Promise((ready) => server.once('listening', ready));
  server.on('connection', (socket) => socket.on('message', (data) => messages.push(JSON.parse(String(data)))));
  ports = await freePorts(IDS.length);
  const monitor = { enable: true, check_interval: 1, restart_cooldown: 0 };
  const written = writeConfig({ proxy: { monitor, proxies: IDS.map((id, i) => echoProxy(id, ports[i])) }, api: { listen: '127.0.0.1:0' } });
  const { port } = server.address() as AddressInfo;
  daemon = startDaemon(written.configFile, written.dir, ['--inspect', `ws://127.0.0.1:${port}`]);
  await apiUrl(daemon);
  await waitUntil(async () => (await Promise.all(ports.map((p) => accepts(p)))).every(Boolean), STARTUP_MS, 100);
}, 30_000);

afterAll(async () => {
  await daemon?.stop('SIGTERM');
  killEchoServers(ports ?? []);
  await new Promise((done) => server?.close(done));
});

it('receives the actors with their whole definitions, and snapshots of the monitor and of every proxy', async () => {
  const actor = (name: string) => messages.find((m) => m.type === '@xstate.actor' && m.name === name);
  await waitUntil(() => ['monitor', ...IDS].every((name) => actor(name)), 10_000, 50);
  const snapshotsOf = (name: string) => messages.filter((m) => m.type === '@xstate.snapshot' && m.sessionId === actor(name)!.sessionId);
  await waitUntil(() => snapshotsOf('monitor').some((m) => m.snapshot?.value === 'watching'), 10_000, 50);
  for (const id of IDS) {
    await waitUntil(() => snapshotsOf(id).some((m) => JSON.stringify(m.snapshot?.value) === '{"running":"up"}'), 10_000, 50);
    expect(snapshotsOf(id).every((m) => m.snapshot?.context?.id === id)).toBe(true);
  }
  // Whole, not cut at some serialization depth: as the machines define themselves.
  const asSent = (config: unknown) =>
    JSON.parse(JSON.stringify(config, (_key, value) => (typeof value === 'function' ? { type: value.name } : value)));
  expect(JSON.parse(actor('echo-a')!.definition!)).toEqual(asSent(proxyMachine.config));
  expect(JSON.parse(actor('monitor')!.definition!)).toEqual(asSent(monitorMachine.config));
});
