import http from 'node:http';
import type net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { probe } from '../../src/health/probe.ts';

describe('http probe', () => {
  let server: http.Server;
  let base: string;
  beforeAll(async () => {
    server = http.createServer((request, response) => {
      if (request.url === '/hang') return; // never answers
      if (request.url === '/stall') {
        // Its headers and the start of its body, then nothing: a server hung mid-reply.
        response.writeHead(200, { 'content-length': '1000' });
        response.write('partial');
        return;
      }
      if (request.url === '/big') return response.end(Buffer.alloc(1 << 20, 'x')); // read in part: enough
      response.statusCode = Number(request.url!.slice(1)) || 200;
      response.end('body');
    });
    server.listen(0, '127.0.0.1');
    await new Promise((resolve) => server.once('listening', resolve));
    base = `http://127.0.0.1:${(server.address() as net.AddressInfo).port}`;
  });
  afterAll(async () => {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  });

  it('passes on 2xx and 3xx when no status is configured', async () => {
    expect(await probe({ kind: 'http', url: `${base}/200` }, { timeoutMs: 1000 })).toMatchObject({ ok: true });
    expect(await probe({ kind: 'http', url: `${base}/302` }, { timeoutMs: 1000 })).toMatchObject({ ok: true });
  });

  it('fails on 500', async () => {
    const result = await probe({ kind: 'http', url: `${base}/500` }, { timeoutMs: 1000 });
    expect(result).toMatchObject({ ok: false, error: 'HTTP status 500' });
  });

  it('requires the configured status exactly', async () => {
    expect(await probe({ kind: 'http', url: `${base}/204`, status: 204 }, { timeoutMs: 1000 })).toMatchObject({ ok: true });
    expect(await probe({ kind: 'http', url: `${base}/200`, status: 204 }, { timeoutMs: 1000 })).toMatchObject({ ok: false });
  });

  it('times out on a server that never answers', async () => {
    const began = performance.now();
    const result = await probe({ kind: 'http', url: `${base}/hang` }, { timeoutMs: 300 });
    expect(result).toMatchObject({ ok: false, error: 'timed out after 300 ms' });
    expect(performance.now() - began).toBeLessThan(300 + 2_000); // the server never answers: only the timeout ends it
  });

  it('times out on a server that hangs after its headers; a big reply need not be read whole', async () => {
    expect(await probe({ kind: 'http', url: `${base}/stall` }, { timeoutMs: 300 })).toMatchObject({
      ok: false,
      error: 'timed out after 300 ms',
    });
    expect(await probe({ kind: 'http', url: `${base}/big` }, { timeoutMs: 1000 })).toMatchObject({ ok: true });
  });

  it('fails, without throwing, on a malformed url', async () => {
    expect(await probe({ kind: 'http', url: 'not a url' }, { timeoutMs: 300 })).toMatchObject({ ok: false });
  });
});
