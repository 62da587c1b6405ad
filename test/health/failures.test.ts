// Why a check failed, in the words the operator reads in `why` and in the log, for each kind of
// check; and the readiness wait's bounds. Killed by mutants Stryker found surviving in src/health
// (docs/mutation.md).
import { execFileSync } from 'node:child_process';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { killRunningChecks } from '../../src/health/exec.ts';
import { probe } from '../../src/health/probe.ts';
import { waitUntilReady } from '../../src/health/ready.ts';

async function listen(server: net.Server): Promise<number> {
  server.listen(0, '127.0.0.1');
  await new Promise((resolve) => server.once('listening', resolve));
  return (server.address() as net.AddressInfo).port;
}

describe('a failed check says why', () => {
  const servers: net.Server[] = [];
  let closed: number; // a port nobody listens on
  let silent: number; // accepts, reads, never answers
  let hangsUp: number; // accepts and closes at once
  let garbage: number; // answers anything with bytes that are not shadowsocks
  let status400: number;
  const open = async (server: net.Server) => {
    servers.push(server);
    return listen(server);
  };

  beforeAll(async () => {
    silent = await open(net.createServer((socket) => socket.resume()));
    hangsUp = await open(net.createServer((socket) => socket.end()));
    garbage = await open(net.createServer((socket) => socket.once('data', () => socket.write(Buffer.alloc(64, 7)))));
    status400 = await open(http.createServer((_request, response) => response.writeHead(400).end()));
    // Last: a port freed before the servers above were opened could be handed to one of them (it
    // was, once: the "refused" connection reached the garbage server).
    const spare = net.createServer();
    closed = await listen(spare);
    await new Promise((resolve) => spare.close(resolve));
  });
  afterAll(() => {
    for (const server of servers) {
      (server as http.Server).closeAllConnections?.();
      server.close();
    }
  });

  it('http: a 4xx is a failure named by its status; a refused connection by its error code', async () => {
    expect(await probe({ kind: 'http', url: `http://127.0.0.1:${status400}/` }, { timeoutMs: 2_000 })).toMatchObject({
      ok: false,
      error: 'HTTP status 400',
    });
    expect(await probe({ kind: 'http', url: `http://127.0.0.1:${closed}/` }, { timeoutMs: 2_000 })).toMatchObject({
      ok: false,
      error: 'ECONNREFUSED',
    });
  });

  it('tls: a refused connection is named by its error code', async () => {
    expect(await probe({ kind: 'tls', host: '127.0.0.1', port: closed }, { timeoutMs: 2_000 })).toMatchObject({
      ok: false,
      error: 'ECONNREFUSED',
    });
  });

  it('exec: a command killed by a signal is named by the signal', async () => {
    expect(await probe({ kind: 'exec', command: ['/bin/sh', '-c', 'kill -TERM $$'] }, { timeoutMs: 5_000 })).toMatchObject({
      ok: false,
      error: 'killed by SIGTERM',
    });
  });

  it('exec: a daemon that stops kills the checks still running, with what they started', async () => {
    const seconds = 30_000 + Math.floor(Math.random() * 10_000); // names this test's sleeps in `ps`
    const running = probe(
      // One child in the check's group, one in a session of its own (setsid): both go.
      { kind: 'exec', command: ['/bin/sh', '-c', `sleep ${seconds} & setsid sleep ${seconds + 2} & exec sleep ${seconds + 1}`] },
      { timeoutMs: 60_000 },
    );
    const pids = (s: number) => execFileSync('pgrep', ['-x', '-f', `sleep ${s}`], { encoding: 'utf8' }).trim();
    const found = (s: number) => {
      try {
        return pids(s);
      } catch {
        return ''; // pgrep exits 1 when nothing matches
      }
    };
    await expect.poll(() => found(seconds) !== '' && found(seconds + 1) !== '' && found(seconds + 2) !== '', { timeout: 5_000 }).toBe(true);
    await killRunningChecks();
    // Gone once it resolves (a daemon exits right after), the escaped one included.
    expect(found(seconds + 2)).toBe('');
    expect(await running).toMatchObject({ ok: false, error: 'killed by SIGKILL' });
    await expect.poll(() => found(seconds) + found(seconds + 1), { timeout: 5_000 }).toBe('');
  });

  it('process: no pid to look at', async () => {
    expect(await probe({ kind: 'process' }, { timeoutMs: 1_000 })).toMatchObject({ ok: false, error: 'no pid' });
  });

  it('shadowsocks: a server that hangs up, and one whose reply does not decrypt', async () => {
    const spec = (port: number) => ({ kind: 'shadowsocks', host: '127.0.0.1', port, password: 'pw', method: 'aes-256-gcm' }) as const;
    expect(await probe(spec(hangsUp), { timeoutMs: 2_000 })).toMatchObject({ ok: false, error: 'closed before the echo came back' });
    expect(await probe(spec(garbage), { timeoutMs: 2_000 })).toMatchObject({
      ok: false,
      error: 'reply failed authentication: wrong password or method',
    });
  });

  it('a probe whose signal is already aborted does not connect', async () => {
    let connections = 0;
    const counting = net.createServer((socket) => {
      connections++;
      socket.end();
    });
    const port = await open(counting);
    const aborted = AbortSignal.abort();
    expect(await probe({ kind: 'tcp', host: '127.0.0.1', port }, { timeoutMs: 1_000, signal: aborted })).toMatchObject({
      ok: false,
      error: 'aborted',
    });
    await new Promise((resolve) => setTimeout(resolve, 50));
    expect(connections).toBe(0);
  });

  describe('waitUntilReady', () => {
    it('a deadline already passed: no probe, and says so', async () => {
      const result = await waitUntilReady(
        { kind: 'tcp', host: '127.0.0.1', port: silent },
        { timeoutMs: 1_000 },
        Date.now() - 1,
        new AbortController().signal,
      );
      expect(result).toEqual({ ok: false, durationMs: 0, error: 'deadline passed before a probe' });
    });

    it('aborted before it began: no probe, and says so', async () => {
      const result = await waitUntilReady(
        { kind: 'tcp', host: '127.0.0.1', port: silent },
        { timeoutMs: 1_000 },
        Date.now() + 1_000,
        AbortSignal.abort(),
      );
      expect(result).toEqual({ ok: false, durationMs: 0, error: 'aborted' });
    });

    it('no single probe carries the wait past the deadline', async () => {
      const began = Date.now();
      const result = await waitUntilReady(
        { kind: 'tcp', host: '127.0.0.1', port: silent, send: 'PING\n', expect: 'PONG' },
        { timeoutMs: 20_000 },
        began + 300,
        new AbortController().signal,
      );
      if (result.ok) throw new Error('the silent server passed');
      expect(result.error).toMatch(/^timed out after \d+ ms$/);
      expect(Number(result.error.match(/\d+/)![0])).toBeLessThanOrEqual(300);
      expect(Date.now() - began).toBeLessThan(300 + 2_000); // the deadline, not the probe's 20 s; slack for a loaded machine
    });
  });
});
