import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/health/probe.ts';
import { startEchoServer, type EchoServer } from './echo.ts';

/** A port nobody listens on: bind one, then close it. */
async function closedPort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('tcp probe', () => {
  let echo: EchoServer;
  beforeAll(async () => {
    echo = await startEchoServer();
  });
  afterAll(async () => {
    await echo.stop();
  });

  it('passes on a bare connect', async () => {
    const result = await probe({ kind: 'tcp', host: '127.0.0.1', port: echo.port }, { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: true });
  });

  it('fails fast on a refused connection', async () => {
    const port = await closedPort();
    const result = await probe({ kind: 'tcp', host: '127.0.0.1', port }, { timeoutMs: 10_000 });
    expect(result).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    expect(result.durationMs).toBeLessThan(2_000); // the refusal, not the 10 s timeout
  });

  it('passes send/expect against the echo server, fails on the wrong reply', async () => {
    const spec = { kind: 'tcp', host: '127.0.0.1', port: echo.port, send: 'PING\n' } as const;
    expect(await probe({ ...spec, expect: 'PONG' }, { timeoutMs: 1000 })).toMatchObject({ ok: true });
    expect(await probe(spec, { timeoutMs: 1000 })).toMatchObject({ ok: true });
    const wrong = await probe({ ...spec, expect: 'HELLO' }, { timeoutMs: 300 });
    expect(wrong).toMatchObject({ ok: false, error: 'timed out after 300 ms' });
  });

  it('send/expect fails against a server that reads and closes without replying', async () => {
    const silent = net.createServer((socket) => socket.once('data', () => socket.end())).listen(0, '127.0.0.1');
    await new Promise((resolve) => silent.once('listening', resolve));
    const { port } = silent.address() as net.AddressInfo;
    try {
      const spec = { kind: 'tcp', host: '127.0.0.1', port, send: 'PING\n' } as const;
      expect(await probe({ ...spec, expect: 'PONG' }, { timeoutMs: 5_000 })).toMatchObject({ ok: false, error: 'closed without a reply' });
      expect(await probe(spec, { timeoutMs: 5_000 })).toMatchObject({ ok: false, error: 'closed without a reply' });
    } finally {
      await new Promise((resolve) => silent.close(resolve));
    }
  });

  it('expect without send waits for the server to speak first (a banner), and fails on a mute one', async () => {
    const banner = net.createServer((socket) => socket.end('SSH-2.0-banner\r\n')).listen(0, '127.0.0.1');
    const mute = net.createServer(() => {}).listen(0, '127.0.0.1');
    await Promise.all([banner, mute].map((server) => new Promise((resolve) => server.once('listening', resolve))));
    const portOf = (server: net.Server) => (server.address() as net.AddressInfo).port;
    try {
      const check = (port: number) => ({ kind: 'tcp', host: '127.0.0.1', port, expect: 'SSH-2.0' }) as const;
      expect(await probe(check(portOf(banner)), { timeoutMs: 2_000 })).toMatchObject({ ok: true });
      expect(await probe(check(portOf(mute)), { timeoutMs: 300 })).toMatchObject({ ok: false, error: 'timed out after 300 ms' });
    } finally {
      for (const server of [banner, mute]) server.close();
    }
  });

  it('send/expect fails on a wrong reply followed by a close, naming the reply', async () => {
    const wrong = net.createServer((socket) => socket.once('data', () => socket.end('HELLO\n'))).listen(0, '127.0.0.1');
    await new Promise((resolve) => wrong.once('listening', resolve));
    const { port } = wrong.address() as net.AddressInfo;
    try {
      const result = await probe({ kind: 'tcp', host: '127.0.0.1', port, send: 'PING\n', expect: 'PONG' }, { timeoutMs: 5_000 });
      expect(result).toMatchObject({ ok: false, error: 'unexpected reply "HELLO\\n"' });
    } finally {
      await new Promise((resolve) => wrong.close(resolve));
    }
  });

  it('send/expect fails at once on a server that streams data without the expected reply', async () => {
    const block = Buffer.alloc(16 * 1024, 'a');
    const streamer = net
      .createServer((socket) => {
        const more = () => {
          while (!socket.destroyed && socket.write(block));
        };
        socket.on('drain', more);
        socket.on('error', () => {});
        more();
      })
      .listen(0, '127.0.0.1');
    await new Promise((resolve) => streamer.once('listening', resolve));
    const { port } = streamer.address() as net.AddressInfo;
    try {
      const result = await probe({ kind: 'tcp', host: '127.0.0.1', port, send: 'PING\n', expect: 'PONG' }, { timeoutMs: 10_000 });
      expect(result).toMatchObject({ ok: false, error: `no "PONG" in the first 64 KiB of the reply "${'a'.repeat(80)}"` });
      expect(result.durationMs).toBeLessThan(5_000); // not the 10 s timeout
    } finally {
      streamer.close();
    }
  });

  it('shadowsocks needs a protocol round trip: a listener that is not a shadowsocks server fails', async () => {
    const spec = { kind: 'shadowsocks', host: '127.0.0.1', port: echo.port, password: 'pw', method: 'aes-256-gcm' } as const;
    expect(await probe(spec, { timeoutMs: 500 })).toMatchObject({ ok: false });
  });

  it('tells a SIGSTOPped server from a live one only with send/expect', async () => {
    const stopped = await startEchoServer();
    try {
      process.kill(stopped.child.pid!, 'SIGSTOP');
      const bare = await probe({ kind: 'tcp', host: '127.0.0.1', port: stopped.port }, { timeoutMs: 1000 });
      expect(bare).toMatchObject({ ok: true });

      const spec = { kind: 'tcp', host: '127.0.0.1', port: stopped.port, send: 'PING\n', expect: 'PONG' } as const;
      const began = performance.now();
      const hung = await probe(spec, { timeoutMs: 500 });
      expect(hung).toMatchObject({ ok: false, error: 'timed out after 500 ms' });
      expect(performance.now() - began).toBeLessThan(500 + 2_000); // the timeout ends it, with slack for a loaded machine
    } finally {
      await stopped.stop();
    }
  });
});
