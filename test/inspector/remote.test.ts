// The remote inspector over a real WebSocket: an inspector that comes up late, or restarts, is told
// about every live actor with its current snapshot; no secret in any string it is sent.
import type { AddressInfo } from 'node:net';
import { afterEach, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { assign, createActor, createMachine, setup } from 'xstate';
import { createRemoteInspector } from '../../src/inspector/websocket.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { createRedactor } from '../../src/logging/redact.ts';
import { freePorts, waitUntil } from '../support/daemon.ts';

const SECRET = 'Canary-Passw0rd-77e1';

interface Message {
  type: string;
  name?: string;
  sessionId: string;
  snapshot?: { value?: unknown };
}

const child = createMachine({ id: 'child', initial: 'idle', states: { idle: { on: { GO: 'busy' } }, busy: {} } });
const parent = setup({ actors: { child } }).createMachine({
  id: 'parent',
  context: { lastError: '' },
  entry: [assign({ lastError: `probe failed: password ${SECRET} rejected` })],
  invoke: { id: 'worker', src: 'child' },
});

const cleanups: (() => unknown)[] = [];
afterEach(async () => {
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});

/** A WebSocket receiver on `port`, recording what it is sent. */
async function receiver(port: number) {
  const server = new WebSocketServer({ host: '127.0.0.1', port });
  await new Promise((listening) => server.once('listening', listening));
  const messages: Message[] = [];
  const raw: string[] = [];
  let connections = 0;
  server.on('connection', (socket) => {
    connections++;
    socket.on('message', (data) => {
      raw.push(String(data));
      messages.push(JSON.parse(String(data)));
    });
  });
  const close = () => {
    for (const client of server.clients) client.terminate();
    return new Promise((closed) => server.close(closed));
  };
  cleanups.push(close);
  return { port: (server.address() as AddressInfo).port, messages, raw, close, connections: () => connections };
}

function start(url: string) {
  const logs: { message: string }[] = [];
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void logs.push(JSON.parse(line)) } });
  const inspector = createRemoteInspector({ url, redact: () => createRedactor([SECRET]), logger });
  const actor = createActor(parent, { inspect: inspector.inspect }).start();
  cleanups.push(
    () => actor.stop(),
    () => inspector.stop(),
  );
  return { actor, inspector, logs };
}

const announced = (messages: Message[]) => messages.filter((m) => m.type === '@xstate.actor').map((m) => m.name);

it('announces the live actors to an inspector that starts after the daemon, and again after it restarts', async () => {
  const [port] = await freePorts(1);
  const { actor, logs } = start(`ws://127.0.0.1:${port}`);
  await new Promise((r) => setTimeout(r, 300)); // the first attempt fails: nobody listens yet
  expect(logs.map((l) => l.message)).toContain('inspector unreachable; retrying');

  const first = await receiver(port);
  await waitUntil(() => announced(first.messages).length === 2, 10_000, 20);
  expect(announced(first.messages)).toEqual(['parent', 'worker']);
  actor.getSnapshot().children.worker!.send({ type: 'GO' });
  await waitUntil(() => first.messages.some((m) => m.type === '@xstate.snapshot' && m.snapshot?.value === 'busy'), 5_000, 20);

  await first.close();
  const second = await receiver(port);
  await waitUntil(() => announced(second.messages).length === 2, 10_000, 20);
  // Announced as they are now, not as they were created.
  expect(second.messages.find((m) => m.name === 'worker')!.snapshot!.value).toBe('busy');
  expect(logs.map((l) => l.message)).toEqual(expect.arrayContaining(['inspector connected', 'inspector connection lost; retrying']));

  const sent = [...first.raw, ...second.raw].join('\n');
  expect(sent).toContain(`probe failed: password [REDACTED] rejected`);
  expect(sent).not.toContain(SECRET);
});

it('forgets stopped actors, and stops trying once stopped', async () => {
  const relay = await receiver(0);
  const { actor, inspector } = start(`ws://127.0.0.1:${relay.port}`);
  await waitUntil(() => announced(relay.messages).length === 2, 5_000, 20);
  actor.stop();
  await relay.close();

  const again = await receiver(relay.port);
  await waitUntil(() => again.connections() === 1, 10_000, 20);
  await new Promise((r) => setTimeout(r, 200));
  expect(announced(again.messages)).toEqual([]);

  inspector.stop();
  await again.close();
  const last = await receiver(relay.port);
  await new Promise((r) => setTimeout(r, 3_000)); // longer than the retry delay
  expect(last.connections()).toBe(0);
});
