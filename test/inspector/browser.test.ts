// The /inspect page in Debian's Chromium against one real daemon with 200 exec proxies: the summary,
// a killed proxy among the first rows within 2 s and back to running, filter and search, details
// with `why`, the buttons once given the API token, the timeline, then a storm of 200 kills during
// which clicks must answer (200 ms asked; the median is held to it) and the feed must stay at a few
// messages a second (both printed, with the page's script time). Screenshots go to test-artifacts/.
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import type { Browser, CDPSession, Page } from 'playwright-core';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../support/binaries.ts';
import { ROOT, waitUntil } from '../support/daemon.ts';
import { startApi } from '../api/api-harness.ts';
import { fakeSpec } from '../support/fake-world.ts';
import { launchChromium, SEPARATE_CPUS, startFleet, type Fleet } from './fleet.ts';

const COUNT = 200;
const TOKEN = 'inspector-test-token-3b9e';
const ARTIFACTS = join(ROOT, 'test-artifacts');

describeWith(['/usr/bin/chromium'])('the /inspect page with 200 proxies', () => {
  let fleet: Fleet;
  let browser: Browser;
  let page: Page;
  let cdp: CDPSession;
  const requests: string[] = [];
  /** Script errors and console errors (a CSP violation is one). */
  const problems: string[] = [];
  /** When each feed message arrived (CDP monotonic seconds). */
  const messages: number[] = [];

  beforeAll(async () => {
    const started = Date.now();
    // An operator's browser runs on their own machine, not on the proxies' host: here they get a
    // core each (and the daemon a lower priority, for a machine with one core), lest a click
    // measure the scheduler rather than the page.
    fleet = await startFleet({ count: COUNT, token: TOKEN, niceness: 10, cpu: SEPARATE_CPUS?.daemon });
    browser = await launchChromium({ cpu: SEPARATE_CPUS?.browser });
    page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    page.on('request', (request) => requests.push(request.url()));
    page.on('pageerror', (error) => problems.push(error.message));
    page.on('console', (message) => message.type() === 'error' && problems.push(message.text()));
    cdp = await page.context().newCDPSession(page);
    await cdp.send('Network.enable');
    await cdp.send('Performance.enable');
    cdp.on('Network.eventSourceMessageReceived', (event) => messages.push(event.timestamp));
    mkdirSync(ARTIFACTS, { recursive: true });
    console.log(`200 proxies running and a browser ready in ${Date.now() - started} ms`);
  }, 300_000);

  afterAll(async () => {
    await browser?.close();
    await fleet?.stop();
  }, 60_000);

  /** Row ids in the order shown, as drawn (rows are absolutely placed: order by their row index). */
  const shownIds = () =>
    page.$$eval('.row', (rows) =>
      rows
        .filter((row) => getComputedStyle(row).display !== 'none')
        .map((row) => [Number(row.getAttribute('aria-rowindex')), (row as HTMLElement).dataset.id!] as const)
        .sort((a, b) => a[0] - b[0])
        .map(([, id]) => id),
    );
  const count = (filter: string) => page.locator(`#counts [data-filter="${filter}"] b`).textContent();
  const row = (id: string) => page.locator(`.row[data-id="${id}"]`);

  it('sums up 200 running proxies and lists them by id in natural order, rendering only what is in view', async () => {
    await page.goto(`${fleet.url}/inspect`);
    await page.locator('#connection.live').waitFor({ timeout: 10_000 });
    await expect.poll(() => count('running'), { timeout: 10_000 }).toBe('200');
    expect(await count('all')).toBe('200');
    expect(await count('crashed')).toBe('0');
    expect(await page.locator('#monitor-state').textContent()).toBe('watching');
    expect(await page.locator('#health').textContent()).toBe('ok (ticking)');
    await expect.poll(() => page.locator('#round').textContent(), { timeout: 10_000 }).toMatch(/^200 checks in /);
    expect((await shownIds()).slice(0, 12)).toEqual(['p0', 'p1', 'p2', 'p3', 'p4', 'p5', 'p6', 'p7', 'p8', 'p9', 'p10', 'p11']);
    expect(await page.locator('.row').count()).toBeLessThan(60);
    expect(await page.locator('#grid svg').count()).toBe(0);
  });

  it('shows a killed proxy among the first rows within 2 s, with its crash, then running again', async () => {
    const before = await fleet.get('/proxies/p150');
    const killed = Date.now();
    process.kill(before.pid, 'SIGKILL');
    await expect
      .poll(async () => (await shownIds()).slice(0, 3).includes('p150') && (await row('p150').locator('.col-crash').textContent()), {
        timeout: 2_000,
        interval: 50,
      })
      .toMatch(/^SIGKILL /);
    console.log(`killed proxy among the first rows after ${Date.now() - killed} ms`);
    await expect.poll(() => row('p150').locator('.col-state').textContent(), { timeout: 10_000 }).toBe('● running · up');
    expect(Number(await row('p150').locator('.col-pid').textContent())).not.toBe(before.pid);
    expect(await row('p150').locator('.col-restarts').textContent()).toBe('1 / 10');
    await page.screenshot({ path: join(ARTIFACTS, 'inspector-table.png') });
  });

  it('narrows the table by state and by search', async () => {
    await page.click('#counts [data-filter="problems"]');
    await expect.poll(shownIds).toEqual(['p150']);
    expect(await page.locator('#shown').textContent()).toBe('1 of 200 shown');
    await page.click('#counts [data-filter="crashed"]');
    await expect.poll(shownIds).toEqual([]);
    await page.click('#counts [data-filter="crashed"]');
    await expect.poll(() => page.locator('#shown').textContent()).toBe('200 of 200 shown');

    await page.fill('#search', 'P19');
    await expect.poll(shownIds).toEqual(['p19', 'p190', 'p191', 'p192', 'p193', 'p194', 'p195', 'p196', 'p197', 'p198', 'p199']);
    await page.click('#counts [data-filter="problems"]');
    await expect.poll(shownIds).toEqual([]);
    await page.click('#counts [data-filter="all"]');
    await page.fill('#search', 'exec');
    await expect.poll(() => page.locator('#shown').textContent()).toBe('200 of 200 shown');
    await page.fill('#search', '');
  });

  it("opens a proxy's details with why, from a click or from the keyboard", async () => {
    await row('p150').click();
    await expect.poll(() => page.locator('#details-title').textContent()).toBe('p150');
    await expect.poll(() => page.locator('#details-why').textContent(), { timeout: 5_000 }).toMatch(/^last decision: restart allowed/);
    await expect.poll(() => page.locator('#details-output').textContent(), { timeout: 5_000 }).toMatch(/p150 started, pid \d+/);
    await expect.poll(() => page.locator('#details-history .tick.ok').count(), { timeout: 5_000 }).toBe(1);
    expect(await page.locator('#details-chart [data-state="running.up"].current').count()).toBe(1);
    await page.screenshot({ path: join(ARTIFACTS, 'inspector-details.png') });

    await page.keyboard.press('Escape');
    expect(await page.locator('#details').isHidden()).toBe(true);
    await page.focus('#grid');
    await page.keyboard.press('Home');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await expect.poll(() => page.locator('#details-title').textContent()).toBe((await shownIds())[1]);
    // The column headers sort from the keyboard too.
    await page.focus('[data-sort="id"]');
    await page.keyboard.press('Enter');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await shownIds())[0]).toBe('p199');
    await page.focus('[data-sort="state"]');
    await page.keyboard.press('Enter');
    await expect.poll(async () => (await shownIds())[0]).toBe('p150');
  });

  it('changes a proxy with its buttons once given the API token', async () => {
    await row('p7').click();
    const disable = page.locator('#details [data-action="disable"]');
    await disable.click();
    await expect.poll(() => page.locator('#details-error').textContent(), { timeout: 5_000 }).toMatch(/^disable: .*Bearer/);
    expect((await fleet.get('/proxies/p7')).enabled).toBe(true);
    await page.fill('#token', TOKEN);
    await disable.click();
    await expect.poll(() => row('p7').locator('.col-monitoring').textContent(), { timeout: 5_000 }).toBe('off');
    await page.click('#details [data-action="enable"]');
    await expect.poll(() => row('p7').locator('.col-monitoring').textContent(), { timeout: 5_000 }).toBe('on');
    expect(problems).toEqual([expect.stringMatching(/status of 401/)]);
  });

  it('draws the fleet timeline from the stored history', async () => {
    await page.click('[role="tab"][data-tab="timeline"]');
    await expect.poll(() => page.locator('#timeline-status').textContent(), { timeout: 5_000 }).toMatch(/^last hour to /);
    expect(await page.locator('#timeline').evaluate((canvas: HTMLCanvasElement) => canvas.height)).toBeGreaterThan(COUNT * 14);
    const timeline = await fleet.get('/timeline');
    const states = timeline.proxies.find((p: { id: string }) => p.id === 'p150').segments.map((s: { state: string }) => s.state);
    // Before the daemon started nothing is known; then running, restarted once.
    expect(states).toEqual(['none', 'running', 'restarting', 'running']);
    await page.screenshot({ path: join(ARTIFACTS, 'inspector-timeline.png') });
  });

  it('answers clicks during a storm of 200 kills (median under 200 ms, none over 1 s, each printed), on a few feed messages a second', async () => {
    await page.click('[role="tab"][data-tab="proxies"]');
    await page.evaluate(() => {
      const clicks: number[] = [];
      (window as unknown as { clicks: number[] }).clicks = clicks;
      // From the input event to the frame after its handlers ran (the details panel filled).
      document.addEventListener(
        'click',
        (event) => {
          if (!(event.target as Element).closest('.row')) return;
          requestAnimationFrame(() => clicks.push(performance.now() - event.timeStamp));
        },
        true,
      );
    });
    const metric = async (name: string) => (await cdp.send('Performance.getMetrics')).metrics.find((m) => m.name === name)!.value;
    const [scriptBefore, taskBefore] = [await metric('ScriptDuration'), await metric('TaskDuration')];
    const from = messages.length;
    const started = Date.now();
    const { proxies } = await fleet.get('/proxies');
    for (const proxy of proxies) process.kill(proxy.pid, 'SIGKILL');
    const box = (await page.locator('#grid .viewport').boundingBox())!;
    for (let i = 0; i < 8; i++) {
      await new Promise((resolve) => setTimeout(resolve, 250));
      await page.mouse.click(box.x + 60, box.y + 14 + 28 * (i % 5));
    }
    await waitUntil(async () => (await fleet.get('/status')).status_count.running === COUNT, 120_000, 100);
    await expect.poll(() => count('running'), { timeout: 10_000 }).toBe('200');
    const seconds = (Date.now() - started) / 1000;
    const script = (await metric('ScriptDuration')) - scriptBefore;
    const task = (await metric('TaskDuration')) - taskBefore;

    const clicks = await page.evaluate(() => (window as unknown as { clicks: number[] }).clicks);
    const arrivals = messages.slice(from);
    const perSecond = new Map<number, number>();
    for (const at of arrivals) perSecond.set(Math.floor(at), (perSecond.get(Math.floor(at)) ?? 0) + 1);
    const busiest = Math.max(...perSecond.values());
    console.log(
      `storm of ${COUNT} kills, all running again after ${seconds.toFixed(1)} s: ` +
        `page script ${(script * 1000).toFixed(0)} ms, main-thread tasks ${(task * 1000).toFixed(0)} ms; ` +
        `clicks answered in ${clicks.map((ms) => ms.toFixed(0)).join(', ')} ms (max ${Math.max(...clicks).toFixed(0)}); ` +
        `feed ${arrivals.length} messages, at most ${busiest} in one second`,
    );
    expect(clicks).toHaveLength(8);
    // Each click costs the page 10-40 ms of CPU. With a core each (see SEPARATE_CPUS) every click
    // answered within 200 ms: 15-70 ms on a quiet machine (4 runs), up to 348 ms with a mutation run
    // sharing both cores; before the event log stopped building a date formatter per row and writing
    // rows to its hidden tab, the page's script took 1.5 s of a 6 s storm and the slowest click
    // 0.5-1.6 s. The bounds leave room for a busy machine.
    const median = [...clicks].sort((a, b) => a - b)[clicks.length / 2];
    expect(median).toBeLessThan(200);
    expect(Math.max(...clicks)).toBeLessThan(1_000);
    // One batch per FLUSH_MS (250 ms), 4 a second; a batch the browser took late arrives in the same
    // second as the next ones (6 seen once), so the bound is twice the rate, not the rate.
    expect(busiest).toBeLessThanOrEqual(8);
    expect(await count('crashed')).toBe('0');
    await page.screenshot({ path: join(ARTIFACTS, 'inspector-after-storm.png') });
  }, 180_000);

  it('writes the event log when its tab is opened: the newest change first, at most 500 rows', async () => {
    await page.click('[role="tab"][data-tab="events"]');
    const rows = page.locator('#log tbody tr');
    await expect.poll(() => rows.count()).toBeGreaterThan(0);
    expect(await rows.count()).toBeLessThanOrEqual(500);
    // The storm's last changes lead: a proxy back to running, or the count of changes left out.
    const first = (await rows.first().textContent()) ?? '';
    expect(first).toMatch(/→ running|more state changes not shown/);
    const times = await page.$$eval('#log tbody tr:not(.dropped) td:first-child', (cells) => cells.map((c) => c.textContent));
    expect(times.every((t) => /^\d\d:\d\d:\d\d\.\d{3}$/.test(t ?? ''))).toBe(true);
    await page.click('[role="tab"][data-tab="proxies"]');
  });

  it('stays responsive with 1,000 proxies (simulated supervisor): only the rows in view exist', async () => {
    const api = await startApi({ specs: Array.from({ length: 1000 }, (_, i) => fakeSpec(`f${i}`)) });
    const big = await browser.newPage({ viewport: { width: 1400, height: 900 } });
    try {
      const started = Date.now();
      await big.goto(`${api.url}/inspect`);
      await expect.poll(() => big.locator('#shown').textContent(), { timeout: 10_000 }).toBe('1000 of 1000 shown');
      const loaded = Date.now() - started;
      const timed = async (act: () => Promise<unknown>, done: () => Promise<boolean>) => {
        const t0 = Date.now();
        await act();
        await waitUntil(done, 5_000, 5);
        return Date.now() - t0;
      };
      const search = await timed(
        () => big.fill('#search', 'f99'),
        async () => (await big.locator('#shown').textContent()) === '11 of 1000 shown',
      );
      await big.fill('#search', '');
      const sort = await timed(
        () => big.click('[data-sort="id"]'),
        async () => (await big.locator('.row[aria-rowindex="2"]').getAttribute('data-id')) === 'f0',
      );
      await big.focus('#grid');
      const end = await timed(
        () => big.keyboard.press('End'),
        async () =>
          (await big.locator('#grid').getAttribute('aria-activedescendant')) !== null &&
          (await big.locator('.row.active').getAttribute('data-id')) === 'f999',
      );
      console.log(
        `1,000 proxies: page live in ${loaded} ms; search ${search} ms, sort ${sort} ms, jump to the end ${end} ms (each as Playwright sees it)`,
      );
      expect(await big.locator('.row').count()).toBeLessThan(60);
    } finally {
      await big.close();
      await api.close();
    }
  }, 120_000);

  it('made every request to the daemon itself, and does not keep it from stopping', async () => {
    const origin = new URL(fleet.url).origin;
    expect(requests.filter((request) => new URL(request).origin !== origin)).toEqual([]);
    const started = Date.now();
    expect(await fleet.daemon.stop('SIGTERM')).toBe(0);
    expect(Date.now() - started).toBeLessThan(30_000);
    await expect.poll(() => page.locator('#connection').textContent(), { timeout: 5_000 }).toBe('reconnecting');
  });
});
