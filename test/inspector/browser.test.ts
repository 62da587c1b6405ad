// The inspector page in a real browser against a real daemon with three echo proxies: live cards,
// a crash seen passing through crashed and restarting, a button that changes the proxy once the
// API token is given, and not one request leaving the daemon's origin.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { chromium, type Browser, type Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../support/binaries.ts';
import { accepts, freePorts, ROOT, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';
import { API, apiUrl, echoProxy, getJson, killEchoServers } from '../api/real-daemon.ts';

const IDS = ['echo-a', 'echo-b', 'echo-c'];
const TOKEN = 'inspector-test-token-3b9e';

describeWith(['/usr/bin/chromium'])('the /inspect page', () => {
  let daemon: TestDaemon;
  let url: string;
  let ports: number[];
  let browser: Browser;
  let page: Page;
  const requests: string[] = [];
  /** Script errors and console errors (a CSP violation is one). */
  const problems: string[] = [];

  beforeAll(async () => {
    ports = await freePorts(IDS.length);
    const monitor = { enable: true, check_interval: 1, restart_cooldown: 0 };
    const written = writeConfig({ proxy: { monitor, proxies: IDS.map((id, i) => echoProxy(id, ports[i])) }, api: { listen: '127.0.0.1:0', token: TOKEN } });
    daemon = startDaemon(written.configFile, written.dir);
    url = await apiUrl(daemon);
    await waitUntil(async () => (await Promise.all(ports.map((port) => accepts(port)))).every(Boolean), 15_000, 100);
    browser = await chromium.launch({
      executablePath: '/usr/bin/chromium',
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--no-first-run'],
    });
    page = await browser.newPage({ viewport: { width: 1400, height: 1800 } });
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
  }, 60_000);

  afterAll(async () => {
    await browser?.close();
    await daemon?.stop('SIGTERM');
    killEchoServers(ports ?? []);
  });

  const cardState = (id: string) => page.locator(`.card[data-id="${id}"]`).getAttribute('data-state');

  it('shows a card per proxy, running, with the state highlighted on its chart', async () => {
    await page.goto(`${url}/inspect`);
    await page.locator('#connection.live').waitFor({ timeout: 10_000 });
    await expect.poll(() => page.locator('.card').count(), { timeout: 10_000 }).toBe(3);
    for (const id of IDS) {
      await expect.poll(() => cardState(id), { timeout: 10_000 }).toBe('running.up');
      const card = page.locator(`.card[data-id="${id}"]`);
      await expect.poll(() => card.locator('.mini-chart [data-state="running"].current').count(), { timeout: 5_000 }).toBe(1);
      expect(Number(await card.locator('.pid').textContent())).toBeGreaterThan(0);
    }
    expect(await page.locator('#chart-proxy .occupied').evaluateAll((nodes) => nodes.map((n) => n.getAttribute('data-state')))).toEqual(['running', 'running.up']);
    expect(await page.locator('#monitor-state').textContent()).toBe('watching');
    expect(await page.locator('#chart-monitor [data-state="watching"].current').count()).toBe(1);
  });

  it('follows a killed proxy through crashed and restarting back to running', async () => {
    // Every state the card takes, recorded in the page: the restart takes a few hundred ms.
    await page.evaluate((id) => {
      const seen: string[] = [];
      (window as unknown as { seen: string[] }).seen = seen;
      const card = document.querySelector(`.card[data-id="${id}"]`)!;
      new MutationObserver(() => seen.push(card.getAttribute('data-state')!)).observe(card, { attributeFilter: ['data-state'] });
    }, 'echo-b');
    const before = (await getJson(`${url}${API}/proxies/echo-b`)).json;
    process.kill(before.pid, 'SIGKILL');

    await expect.poll(() => page.evaluate(() => (window as unknown as { seen: string[] }).seen.at(-1)), { timeout: 15_000 }).toBe('running.up');
    const seen = await page.evaluate(() => (window as unknown as { seen: string[] }).seen);
    const phases = seen.map((state) => state.split('.')[0]);
    expect(phases).toContain('crashed');
    expect(phases.indexOf('restarting')).toBeGreaterThan(phases.indexOf('crashed'));
    expect(Number(await page.locator('.card[data-id="echo-b"] .pid').textContent())).not.toBe(before.pid);
    expect(await page.locator('.card[data-id="echo-b"] .restarts').textContent()).toBe('1 / 10');
    // The log names the actor, the event and the edge.
    const log = await page.locator('#log tbody tr[data-actor="echo-b"]').allTextContents();
    expect(log.some((row) => row.includes('EXITED') && row.includes('running.up → crashed.deciding'))).toBe(true);
    expect(log.some((row) => row.includes('always (EXITED)') && row.includes('crashed.deciding → restarting.spawning'))).toBe(true);
    await expect.poll(() => page.locator('.card[data-id="echo-b"] .history rect.ok').count(), { timeout: 5_000 }).toBe(1);
  });

  it('disables monitoring of a proxy with its button, once given the API token', async () => {
    const card = page.locator('.card[data-id="echo-c"]');
    const disable = card.locator('button[data-action="disable"]');
    expect(await card.locator('.enabled').textContent()).toBe('on');
    await disable.click();
    await expect.poll(() => card.locator('.error').textContent(), { timeout: 5_000 }).toMatch(/^disable: .*Bearer/);
    expect((await getJson(`${url}${API}/proxies/echo-c`)).json.enabled).toBe(true);

    await page.fill('#token', TOKEN);
    await disable.click();
    await expect.poll(() => card.locator('.enabled').textContent(), { timeout: 5_000 }).toBe('off');
    expect((await getJson(`${url}${API}/proxies/echo-c`)).json.enabled).toBe(false);
    expect(await card.locator('.error').textContent()).toBe('');
    mkdirSync(join(ROOT, 'test-artifacts'), { recursive: true });
    await page.screenshot({ path: join(ROOT, 'test-artifacts/inspector.png'), fullPage: true });

    // The tab keeps the token (sessionStorage) across a reload.
    await page.reload();
    expect(await page.inputValue('#token')).toBe(TOKEN);
    await expect.poll(() => page.locator('.card[data-id="echo-c"] .enabled').textContent(), { timeout: 5_000 }).toBe('off');

    // The refused request is the one error the browser reports.
    expect(problems).toEqual([expect.stringMatching(/status of 401/)]);
  });

  it('does not keep the daemon from stopping while the page is open', async () => {
    const started = Date.now();
    expect(await daemon.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(10_000);
    await expect.poll(() => page.locator('#connection').textContent(), { timeout: 5_000 }).toBe('reconnecting');
  });

  it('made every request to the daemon itself', () => {
    const origin = new URL(url).origin;
    expect(requests.length).toBeGreaterThan(3);
    expect(requests.filter((request) => new URL(request).origin !== origin)).toEqual([]);
  });
});
