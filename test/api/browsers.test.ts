// Web pages cannot drive the API: a cross-site POST (any content type, with or without a body) and
// a DNS-rebinding request (a foreign Host) are refused with 403 and a reason, and change nothing.
// The CLI (no Origin) and the daemon's own page (same origin) keep working.
import http from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, startApi, type ApiHarness } from './api-harness.ts';

let api: ApiHarness;
let port: number;
beforeAll(async () => {
  api = await startApi({ allowedHosts: ['monitor.internal', 'fd00::1'] });
  port = Number(new URL(api.url).port);
});
afterAll(() => api.close());

/** node:http rather than fetch: fetch will not send a Host of our choosing. */
function send(method: string, path: string, headers: Record<string, string>, body?: string) {
  return new Promise<{ status: number; json: { error?: string; message?: string } }>((resolve, reject) => {
    const request = http.request(
      {
        host: '127.0.0.1',
        port,
        method,
        path,
        headers: { ...(body !== undefined && { 'content-length': String(Buffer.byteLength(body)) }), ...headers },
      },
      (response) => {
        let text = '';
        response.setEncoding('utf8').on('data', (chunk) => (text += chunk));
        response.on('end', () =>
          resolve({
            status: response.statusCode!,
            json: String(response.headers['content-type']).includes('json') ? JSON.parse(text) : {},
          }),
        );
        // A stream (/inspect/events) that was let through: its status is all we need.
        if (String(response.headers['content-type']).includes('event-stream')) {
          response.destroy();
          resolve({ status: response.statusCode!, json: {} });
        }
      },
    );
    request.on('error', reject);
    request.end(body);
  });
}

const own = () => `127.0.0.1:${port}`;
// The attacks are listed before the server has a port: placeholders, filled in when sent.
const OWN = '127.0.0.1:PORT';
const PORT = 'PORT';
const withPort = (headers: Record<string, string>) =>
  Object.fromEntries(Object.entries(headers).map(([k, v]) => [k, v.replace('PORT', String(port))]));

function expectUntouched() {
  expect(api.phase()).toBe('running');
  expect(api.proxy().context.override).toBeNull();
  expect(api.supervisor.status().running).toBe(true);
  expect(api.supervisor.settings().check_interval).toBe(30);
  expect(api.world.log.filter((e) => e.startsWith('kill'))).toEqual([]);
}

describe('attacks from a web page', () => {
  const attacks: Array<[string, string, string, Record<string, string>, string | undefined, RegExp]> = [
    [
      'cross-site text/plain POST',
      'POST',
      '/proxies/ss-1/stop',
      { host: OWN, origin: 'http://evil.example', 'content-type': 'text/plain' },
      'x',
      /origin/i,
    ],
    ['cross-site POST without a body', 'POST', '/proxies/ss-1/restart', { host: OWN, origin: 'http://evil.example' }, undefined, /origin/i],
    [
      'cross-site form POST',
      'POST',
      '/stop',
      { host: OWN, origin: 'http://evil.example', 'content-type': 'application/x-www-form-urlencoded' },
      'a=1',
      /origin/i,
    ],
    ['another port of the same host', 'POST', '/proxies/ss-1/disable', { host: OWN, origin: 'http://127.0.0.1:1' }, undefined, /origin/i],
    ['an opaque origin (sandboxed frame)', 'POST', '/proxies/ss-1/disable', { host: OWN, origin: 'null' }, undefined, /origin/i],
    [
      'Sec-Fetch-Site: cross-site without Origin',
      'POST',
      '/proxies/ss-1/stop',
      { host: OWN, 'sec-fetch-site': 'cross-site' },
      undefined,
      /cross-site/i,
    ],
    [
      'cross-site JSON PATCH',
      'PATCH',
      '/config',
      { host: OWN, origin: 'http://evil.example', 'content-type': 'application/json' },
      '{"check_interval":1}',
      /origin/i,
    ],
    [
      'a text/plain body without Origin',
      'POST',
      '/proxies/ss-1/stop',
      { host: OWN, 'content-type': 'text/plain' },
      'x',
      /application\/json/,
    ],
    ['a body with no content type', 'PATCH', '/config', { host: OWN }, '{"check_interval":1}', /application\/json/],
    ['DNS rebinding: a POST with a foreign Host', 'POST', '/proxies/ss-1/stop', { host: `evil.example:${PORT}` }, undefined, /host/i],
    [
      'DNS rebinding: the same-origin POST a rebound page sends',
      'POST',
      '/proxies/ss-1/stop',
      { host: `evil.example:${PORT}`, origin: `http://evil.example:${PORT}` },
      undefined,
      /host/i,
    ],
  ];
  for (const [name, method, path, headers, body, why] of attacks) {
    it(`refuses ${name} with 403 and says why; the proxy keeps running`, async () => {
      const { status, json } = await send(method, `${API}${path}`, withPort(headers), body);
      expect(status).toBe(403);
      expect(json.error).toBe('forbidden');
      expect(json.message).toMatch(why);
      expectUntouched();
    });
  }

  it('refuses reads through a rebound name too (they would leak the fleet to the page)', async () => {
    for (const path of [`${API}/status`, '/metrics', '/inspect', '/inspect/events']) {
      const { status, json } = await send('GET', path, { host: 'evil.example' });
      expect(status, path).toBe(403);
      expect(json.message).toMatch(/host "evil\.example" is not/i);
    }
    expect(api.store.audits({})).toEqual([]);
  });
});

describe('what keeps working', () => {
  it('the CLI: no Origin, no body, no content type', async () => {
    expect((await send('POST', `${API}/proxies/ss-1/disable`, { host: own() })).status).toBe(200);
    expect((await send('POST', `${API}/proxies/ss-1/enable`, { host: own() })).status).toBe(200);
  });

  it("the daemon's own page: same Origin, Sec-Fetch-Site same-origin", async () => {
    const page = { host: own(), origin: `http://${own()}`, 'sec-fetch-site': 'same-origin' };
    expect((await send('POST', `${API}/proxies/ss-1/disable`, page)).status).toBe(200);
    expect((await send('POST', `${API}/proxies/ss-1/enable`, page)).status).toBe(200);
    expect((await send('GET', '/inspect', page)).status).toBe(200);
  });

  it('JSON bodies, localhost, loopback addresses and names in api.allowed_hosts', async () => {
    const patch = (host: string) =>
      send('PATCH', `${API}/config`, { host, 'content-type': 'application/json; charset=utf-8' }, '{"check_interval":30}');
    for (const host of [
      own(),
      `localhost:${port}`,
      'LOCALHOST',
      `127.0.0.2:${port}`,
      `[::1]:${port}`,
      'monitor.internal',
      `Monitor.Internal.:${port}`,
      // An IPv6 address listed as it is: its last digits are not a port.
      `[fd00::1]:${port}`,
      '[FD00::1]',
    ]) {
      expect((await patch(host)).status, host).toBe(200);
    }
  });
});
