// Who may change things: the bearer token when one is set, loopback callers when none is.
import type { FastifyReply, FastifyRequest } from 'fastify';
import { afterEach, describe, expect, it } from 'vitest';
import { isLoopback, requireAuthForMutations } from '../../src/api/auth.ts';
import { API, startApi, type ApiHarness } from './api-harness.ts';

const TOKEN = 'tok-5f1c0a9e-rotate-me';
let api: ApiHarness;
afterEach(() => api?.close());

describe('with api.token set', () => {
  it('refuses every mutation without the token (401, WWW-Authenticate), changes and audits nothing', async () => {
    api = await startApi({ token: TOKEN });
    const attempts: Array<[string, string, { body?: unknown; token?: string }]> = [
      ['POST', '/proxies/ss-1/stop', {}],
      ['POST', '/proxies/ss-1/disable', { token: 'wrong' }],
      ['POST', '/proxies/ss-1/restart', { token: `${TOKEN}x` }],
      ['POST', '/proxies/ss-1/enable', { token: TOKEN.slice(0, -1) }], // a prefix is not the token
      ['POST', '/proxies/ss-1/start', { token: TOKEN.slice(0, 1) }],
      ['POST', '/stop', {}],
      ['PATCH', '/config', { body: { check_interval: 1 } }],
      ['POST', '/reload', {}],
    ];
    for (const [method, path, init] of attempts) {
      const { status, json, headers } = await api.call(method, `${API}${path}`, init);
      expect(status, `${method} ${path}`).toBe(401);
      expect(json.error).toBe('unauthorized');
      expect(headers.get('www-authenticate')).toBe('Bearer');
      // A token sent and refused is told apart from none sent.
      expect(json.message, `${method} ${path}`).toBe(
        init.token === undefined
          ? 'this request changes state: send "Authorization: Bearer <token>" with the api.token'
          : 'the token sent is not the api.token: this request changes state and is refused',
      );
    }
    expect(api.phase()).toBe('running');
    expect(api.proxy().context.override).toBeNull();
    expect(api.supervisor.status().running).toBe(true);
    expect(api.supervisor.settings().check_interval).toBe(30);
    expect(api.store.audits({})).toEqual([]);
  });

  it('accepts the right token, audits the change as token-authenticated, and never logs the token', async () => {
    api = await startApi({ token: TOKEN });
    const { status } = await api.call('POST', `${API}/proxies/ss-1/disable`, { token: TOKEN });
    expect(status).toBe(200);
    expect(api.store.audits({})[0]).toMatchObject({ action: 'proxy_disable', user: 'api:127.0.0.1', detail: { auth: 'token' } });
    expect(JSON.stringify(api.logLines)).not.toContain(TOKEN);
    expect(JSON.stringify(api.store.audits({}))).not.toContain(TOKEN);
  });

  it('reads the Authorization scheme case-insensitively (RFC 9110)', async () => {
    api = await startApi({ token: TOKEN });
    for (const scheme of ['bearer', 'BEARER', 'BeArEr']) {
      const response = await fetch(`${api.url}${API}/proxies/ss-1/enable`, {
        method: 'POST',
        headers: { authorization: `${scheme} ${TOKEN}` },
      });
      expect(response.status, scheme).toBe(200);
    }
  });

  it('keeps reads open', async () => {
    api = await startApi({ token: TOKEN });
    for (const path of [`${API}/status`, `${API}/proxies`, `${API}/history`, '/healthz', '/metrics']) {
      expect((await api.get(path)).status, path).toBe(200);
    }
  });
});

describe('without a token', () => {
  it('accepts mutations on a loopback listener', async () => {
    api = await startApi();
    expect((await api.call('POST', `${API}/proxies/ss-1/disable`)).status).toBe(200);
  });

  it('refuses mutations end to end when the API listens on every interface, even from loopback (403)', async () => {
    api = await startApi({ listen: '0.0.0.0:0' });
    const port = new URL(api.url).port;
    for (const [method, path] of [
      ['POST', '/proxies/ss-1/stop'],
      ['PATCH', '/config'],
      ['POST', '/stop'],
    ] as const) {
      const response = await fetch(`http://127.0.0.1:${port}${API}${path}`, {
        method,
        headers: { 'content-type': 'application/json' },
        body: method === 'PATCH' ? JSON.stringify({ check_interval: 1 }) : undefined,
      });
      expect(response.status, `${method} ${path}`).toBe(403);
      expect((await response.json()).error).toBe('forbidden');
    }
    expect((await fetch(`http://127.0.0.1:${port}${API}/status`)).status).toBe(200);
    expect(api.phase()).toBe('running');
    expect(api.supervisor.settings().check_interval).toBe(30);
    expect(api.supervisor.status().running).toBe(true);
    expect(api.store.audits({})).toEqual([]);
  });

  it('refuses mutations when the listener is not loopback (403)', async () => {
    const hook = requireAuthForMutations({ token: () => undefined, boundAddress: () => '0.0.0.0' });
    const request = { method: 'PATCH', ip: '192.0.2.7', headers: {} } as FastifyRequest;
    const reply = { header: () => reply } as unknown as FastifyReply;
    await expect(hook(request, reply)).rejects.toMatchObject({ statusCode: 403, code: 'forbidden' });
    await expect(hook({ ...request, method: 'GET' } as FastifyRequest, reply)).resolves.toBeUndefined();
  });
});

it('knows loopback addresses', () => {
  for (const address of ['127.0.0.1', '127.3.2.1', '::1', '::ffff:127.0.0.1']) expect(isLoopback(address), address).toBe(true);
  for (const address of ['0.0.0.0', '::', '10.0.0.1', '192.0.2.7', '::ffff:10.0.0.1']) expect(isLoopback(address), address).toBe(false);
});
