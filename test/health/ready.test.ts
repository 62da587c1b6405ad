import net from 'node:net';
import { describe, expect, it } from 'vitest';
import { waitUntilReady } from '../../src/health/ready.ts';

async function freePort(): Promise<number> {
  const server = net.createServer().listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  const { port } = server.address() as net.AddressInfo;
  await new Promise((resolve) => server.close(resolve));
  return port;
}

describe('waitUntilReady', () => {
  it('passes once a server comes up late', async () => {
    const port = await freePort();
    const server = net.createServer((socket) => socket.end());
    setTimeout(() => server.listen(port, '127.0.0.1'), 300);
    try {
      const began = Date.now();
      const result = await waitUntilReady(
        { kind: 'tcp', host: '127.0.0.1', port },
        { timeoutMs: 200 },
        Date.now() + 5000,
        new AbortController().signal,
      );
      expect(result).toMatchObject({ ok: true });
      expect(Date.now() - began).toBeGreaterThanOrEqual(290);
      expect(Date.now() - began).toBeLessThan(300 + 2_000);
    } finally {
      server.close();
    }
  });

  it('resolves the last failure at the deadline', async () => {
    const port = await freePort();
    const began = Date.now();
    const result = await waitUntilReady(
      { kind: 'tcp', host: '127.0.0.1', port },
      { timeoutMs: 200 },
      Date.now() + 300,
      new AbortController().signal,
    );
    expect(result).toMatchObject({ ok: false, error: 'ECONNREFUSED' });
    expect(Date.now() - began).toBeGreaterThanOrEqual(290);
    expect(Date.now() - began).toBeLessThan(300 + 2_000); // the deadline ends it, with slack for a loaded machine
  });

  it('stops early when aborted, even mid-probe', async () => {
    const began = Date.now();
    const result = await waitUntilReady(
      { kind: 'exec', command: ['sleep', '30'] },
      { timeoutMs: 10_000 },
      Date.now() + 10_000,
      AbortSignal.timeout(150),
    );
    expect(result).toMatchObject({ ok: false, error: 'aborted' });
    expect(Date.now() - began).toBeLessThan(150 + 2_000); // the abort, not the 10 s timeout
  });
});
