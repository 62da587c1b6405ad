// The /inspect page behind a reverse proxy that serves the daemon under a path prefix (/pm/): every
// request the page makes (its assets, the charts, the event stream, the API) stays under the prefix.
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Browser } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../support/binaries.ts';
import { startApi } from '../api/api-harness.ts';
import { fakeSpec } from '../support/fake-world.ts';
import { launchChromium } from './fleet.ts';

const PREFIX = '/pm';

/** A reverse proxy as an operator would put one in front: /pm/... -> the daemon's /..., streamed. */
function prefixProxy(target: string): Promise<{ url: string; server: Server }> {
  const server = createServer((req, res) => {
    if (!req.url?.startsWith(`${PREFIX}/`)) {
      res.writeHead(404).end('outside the prefix');
      return;
    }
    const upstream = request(new URL(req.url.slice(PREFIX.length), target), { method: req.method, headers: req.headers }, (reply) => {
      res.writeHead(reply.statusCode ?? 502, reply.headers);
      reply.pipe(res);
    });
    upstream.on('error', () => res.destroy());
    req.pipe(upstream);
  });
  return new Promise((resolve) =>
    server.listen(0, '127.0.0.1', () => resolve({ url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, server })),
  );
}

describeWith(['/usr/bin/chromium'])('the /inspect page under a path prefix', () => {
  let api: Awaited<ReturnType<typeof startApi>>;
  let proxy: Awaited<ReturnType<typeof prefixProxy>>;
  let browser: Browser;

  beforeAll(async () => {
    api = await startApi({ specs: [fakeSpec('a'), fakeSpec('b')] });
    proxy = await prefixProxy(api.url);
    browser = await launchChromium();
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    proxy?.server.closeAllConnections();
    proxy?.server.close();
    await api?.close();
  });

  it('loads its assets, feed, charts and API answers through the prefix', async () => {
    const page = await browser.newPage();
    const requests: string[] = [];
    const problems: string[] = [];
    page.on('request', (r) => requests.push(r.url()));
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    await page.goto(`${proxy.url}${PREFIX}/inspect`);
    await page.locator('#connection.live').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('#shown').textContent(), { timeout: 10_000 }).toBe('2 of 2 shown');
    const asked = (path: string) => requests.some((url) => url.startsWith(`${proxy.url}${PREFIX}${path}`));
    await page.locator('.row[data-id="a"]').click();
    await expect.poll(() => asked('/api/v1/proxy/monitor/proxies/a'), { timeout: 10_000 }).toBe(true);
    await page.locator('[data-tab="timeline"]').click();
    await expect.poll(() => asked('/api/v1/proxy/monitor/timeline'), { timeout: 10_000 }).toBe(true);
    await page.locator('[data-tab="charts"]').click();
    await expect.poll(() => page.locator('#tab-charts svg').count(), { timeout: 20_000 }).toBeGreaterThan(0);
    expect(problems).toEqual([]);
    expect(requests.filter((url) => !url.startsWith(`${proxy.url}${PREFIX}/`))).toEqual([]);
    expect(requests.some((url) => url.endsWith('/inspect/events'))).toBe(true);
  }, 60_000);
});
