// TCP checks made by the spawn helper (a bare connect to a numeric address): the same results, in
// the same words, as Node's socket gives; names, send/expect and a helper that is gone fall back to
// Node's socket.
import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import net from 'node:net';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createProbe } from '../../src/health/probe.ts';
import { nextRequestId, startSpawnHelper, type HelperSpawner } from '../../src/process/helper.ts';
import type { Connector } from '../../src/process/spawner.ts';
import { freePorts, waitUntil } from '../support/daemon.ts';

/** A server whose accept queue (backlog 1) is full and never drained: the next connects hang in SYN. */
async function blackHole(): Promise<{ port: number; child: ChildProcess; held: net.Socket[] }> {
  const script =
    "const s = require('net').createServer().listen({ port: 0, host: '127.0.0.1', backlog: 1 }, () => console.log(s.address().port));";
  const child = spawn(process.execPath, ['-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  const [line] = (await once(createInterface({ input: child.stdout! }), 'line')) as [string];
  process.kill(child.pid!, 'SIGSTOP'); // the kernel still completes handshakes, until the queue is full
  const port = Number(line);
  const held: net.Socket[] = [];
  for (let i = 0; i < 3; i++) {
    const socket = net.connect(port, '127.0.0.1');
    socket.on('error', () => {});
    held.push(socket);
  }
  await new Promise((done) => setTimeout(done, 200));
  return { port, child, held };
}

describe('tcp checks through the spawn helper', () => {
  let helper: HelperSpawner;
  let server: net.Server;
  let listening: number;
  let closed: number;
  const calls: string[] = [];
  let probe: ReturnType<typeof createProbe>;

  beforeAll(async () => {
    helper = await startSpawnHelper(() => {});
    const spy: Connector = (host, port, timeoutMs) => {
      calls.push(`${host}:${port}`);
      return helper.connect(host, port, timeoutMs);
    };
    probe = createProbe(spy);
    server = net.createServer((socket) => socket.end()).listen(0, '127.0.0.1');
    await once(server, 'listening');
    listening = (server.address() as net.AddressInfo).port;
    [closed] = await freePorts(1);
  });
  afterAll(async () => {
    helper.close();
    await new Promise((done) => server.close(done));
  });

  it('passes on a connect, made by the helper, and the server sees the connection end', async () => {
    // Listened for as the connection comes: it may close before the probe's answer is read.
    const ended = once(server, 'connection').then(([socket]) => once(socket as net.Socket, 'close'));
    calls.length = 0;
    const result = await probe({ kind: 'tcp', host: '127.0.0.1', port: listening }, { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: true });
    expect(result.durationMs).toBeGreaterThan(0);
    expect(calls).toEqual([`127.0.0.1:${listening}`]);
    await ended;
  });

  it('fails with ECONNREFUSED on a port nobody listens on, as Node words it', async () => {
    const result = await probe({ kind: 'tcp', host: '127.0.0.1', port: closed }, { timeoutMs: 10_000 });
    expect(result).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    expect(result.durationMs).toBeLessThan(2_000);
  });

  it('connects to IPv6 loopback too, where the host has it', async () => {
    const v6 = net.createServer((socket) => socket.end());
    const bound = await new Promise<boolean>((done) => {
      v6.once('error', () => done(false));
      v6.listen(0, '::1', () => done(true));
    });
    if (!bound) return; // no IPv6 on this host: nothing to compare
    try {
      calls.length = 0;
      const port = (v6.address() as net.AddressInfo).port;
      expect(await probe({ kind: 'tcp', host: '::1', port }, { timeoutMs: 1000 })).toMatchObject({ ok: true });
      expect(calls).toEqual([`::1:${port}`]);
    } finally {
      v6.close();
    }
  });

  it('times out on a server that never completes the handshake, in the same words', async () => {
    const hole = await blackHole();
    try {
      const began = performance.now();
      const result = await probe({ kind: 'tcp', host: '127.0.0.1', port: hole.port }, { timeoutMs: 300 });
      expect(result).toMatchObject({ ok: false, error: 'timed out after 300 ms' });
      expect(performance.now() - began).toBeGreaterThanOrEqual(295);
      expect(performance.now() - began).toBeLessThan(300 + 2_000);
      // An abort ends the wait at once.
      const controller = new AbortController();
      const pending = probe({ kind: 'tcp', host: '127.0.0.1', port: hole.port }, { timeoutMs: 5_000, signal: controller.signal });
      setTimeout(() => controller.abort(), 50);
      expect(await pending).toMatchObject({ ok: false, error: 'aborted' });
    } finally {
      for (const socket of hole.held) socket.destroy();
      hole.child.kill('SIGKILL');
    }
  });

  it('leaves names and send/expect to Node: the helper is not asked', async () => {
    calls.length = 0;
    expect(await probe({ kind: 'tcp', host: 'localhost', port: listening }, { timeoutMs: 1000 })).toMatchObject({ ok: true });
    const echo = { kind: 'tcp', host: '127.0.0.1', port: closed, send: 'PING\n' } as const;
    expect(await probe(echo, { timeoutMs: 1000 })).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    expect(calls).toEqual([]);
  });

  it('a helper that stops answering holds one check for its timeout and a grace, then checks connect from the daemon until it answers again', async () => {
    const events: string[] = [];
    const stuck = await startSpawnHelper((event) => events.push(event.type));
    const check = createProbe(stuck.connect);
    const spec = { kind: 'tcp', host: '127.0.0.1', port: listening } as const;
    process.kill(stuck.pid, 'SIGSTOP');
    try {
      const began = performance.now();
      expect(await check(spec, { timeoutMs: 300 })).toMatchObject({ ok: true }); // given back, then Node's socket
      expect(performance.now() - began).toBeGreaterThanOrEqual(300 + 1000);
      expect(performance.now() - began).toBeLessThan(300 + 2 * 1000 + 2_000);
      expect(events).toEqual(['stalled']);
      // Stalled: the next checks do not wait on it.
      const next = performance.now();
      expect(await check(spec, { timeoutMs: 300 })).toMatchObject({ ok: true });
      expect(performance.now() - next).toBeLessThan(300);
      process.kill(stuck.pid, 'SIGCONT');
      await waitUntil(() => events.length === 2, 5_000);
      expect(events).toEqual(['stalled', 'answering']);
      expect(await stuck.connect('127.0.0.1', listening, 1000)).toMatchObject({ error: 0 });
    } finally {
      process.kill(stuck.pid, 'SIGCONT');
      stuck.close();
    }
  });

  it('request ids wrap below 2^31, where the replies carry them', () => {
    expect([1, 41, 0x7ffffffe, 0x7fffffff].map(nextRequestId)).toEqual([2, 42, 0x7fffffff, 1]);
  });

  it('once the helper is gone, checks connect with Node and still pass', async () => {
    const lost = await startSpawnHelper(() => {});
    process.kill(lost.pid, 'SIGKILL');
    await new Promise((done) => setTimeout(done, 200));
    expect(await lost.connect('127.0.0.1', listening, 1000)).toBeUndefined();
    const fallback = createProbe(lost.connect);
    expect(await fallback({ kind: 'tcp', host: '127.0.0.1', port: listening }, { timeoutMs: 1000 })).toMatchObject({ ok: true });
  });
});
