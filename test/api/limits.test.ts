// Bad input and idle clients cannot hurt the API: an absurd `since` is a 400, not a 500; a path
// the router refuses answers in the API's error shape; idle keep-alive sockets are closed after a
// few seconds; the number of connections is capped.
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { clientErrorHandler } from '../../src/api/errors.ts';
import { API_LIMITS } from '../../src/api/server.ts';
import { API, startApi, type ApiHarness } from './api-harness.ts';

let api: ApiHarness;
beforeAll(async () => {
  api = await startApi();
});
afterAll(() => api.close());

it('GET /history?since=200000000d is a 400 naming the parameter', async () => {
  for (const since of ['200000000d', '9999999999999h', '1e400d']) {
    const { status, json } = await api.get(`${API}/history?since=${since}`);
    expect(status, since).toBe(400);
    expect(json.issues[0]).toMatchObject({ in: 'querystring', field: 'since' });
  }
  expect((await api.get(`${API}/history?since=3650d`)).status).toBe(200);
});

it('a path the router refuses (an over-long id, a bad percent-encoding) answers in the API error shape', async () => {
  const long = await api.get(`${API}/proxies/${'a'.repeat(5_000)}`);
  expect(long.status).toBe(414);
  expect(long.json).toMatchObject({ error: 'invalid_request', message: expect.stringMatching(/^path: a path segment longer than 100/) });
  const bad = await api.get(`${API}/proxies/%zz`);
  expect(bad.status).toBe(400);
  expect(bad.json).toMatchObject({ error: 'invalid_request', message: 'path: not a valid URL (a bad percent-encoding)' });
});

it('a request Node refuses before the router (headers too large, not HTTP) answers in the API error shape', async () => {
  const { port } = new URL(api.url);
  const raw = async (request: string) => {
    const socket = net.connect(Number(port), '127.0.0.1');
    socket.write(request);
    let text = '';
    socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
    await new Promise((resolve) => socket.once('close', resolve));
    const [head, body] = text.split('\r\n\r\n');
    return { status: Number(head.split(' ')[1]), json: JSON.parse(body) };
  };
  const big = await raw(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Big: ${'a'.repeat(20_000)}\r\n\r\n`);
  expect(big).toEqual({ status: 431, json: { error: 'headers_too_large', message: 'request headers over 16 KiB' } });
  const garbage = await raw('HELLO\r\n\r\n');
  expect(garbage).toEqual({ status: 400, json: { error: 'invalid_request', message: 'not a valid HTTP request' } });
});

it('closes an idle keep-alive connection after a few seconds, and caps connections', async () => {
  expect(API_LIMITS.keepAliveTimeoutMs).toBeLessThanOrEqual(5_000);
  expect(api.server.server.maxConnections).toBe(API_LIMITS.maxConnections);
  const { port } = new URL(api.url);
  const socket = net.connect(Number(port), '127.0.0.1');
  const began = Date.now();
  socket.write(`GET /healthz HTTP/1.1\r\nHost: 127.0.0.1:${port}\r\nConnection: keep-alive\r\n\r\n`);
  socket.resume();
  await new Promise((resolve) => socket.once('close', resolve));
  const idle = Date.now() - began;
  expect(idle).toBeLessThan(API_LIMITS.keepAliveTimeoutMs + 3_000);
}, 20_000);

it('bad bytes after a request whose response has begun close the connection without a 400 inside that response', async () => {
  // As Node's own handler: a 400 written now would land in the middle of the first reply's body.
  let begun: () => void = () => {};
  const responseBegun = new Promise<void>((resolve) => (begun = resolve));
  const server = http.createServer((_request, response) => {
    response.writeHead(200, { 'content-type': 'text/plain' }).write('partial');
    begun();
  });
  server.on('clientError', clientErrorHandler);
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const socket = net.connect((server.address() as net.AddressInfo).port, '127.0.0.1');
  let text = '';
  socket.setEncoding('utf8').on('data', (chunk: string) => (text += chunk));
  socket.write('GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: keep-alive\r\n\r\n');
  await responseBegun;
  socket.write('HELLO\r\n\r\n');
  await new Promise((resolve) => socket.once('close', resolve));
  server.closeAllConnections();
  await new Promise((resolve) => server.close(resolve));
  expect(text).toMatch(/^HTTP\/1\.1 200 OK\r\n/);
  expect(text).toContain('partial');
  expect(text).not.toContain('HTTP/1.1 400');
});
