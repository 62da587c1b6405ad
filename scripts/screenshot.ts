// `npm run screenshot`: the README's picture of the inspector with 200 proxies. Starts a daemon with
// 200 tiny exec proxies, makes a few of them interesting (crashed twice inside the cooldown, stopped,
// monitoring off), opens /inspect in headless Chromium at 1400x900 with one proxy's details, and
// writes docs/inspector.png.
import { join } from 'node:path';
import { ROOT, waitUntil } from '../test/support/daemon.ts';
import { launchChromium, startFleet } from '../test/inspector/fleet.ts';

const OUT = join(ROOT, 'docs/inspector.png');

const fleet = await startFleet({ count: 200, monitor: { restart_cooldown: 120 } });
const browser = await launchChromium();
try {
  const kill = async (id: string) => process.kill((await fleet.get(`/proxies/${id}`)).pid, 'SIGKILL');
  // p17: restarted once, then crashed again inside the cooldown, so it waits with a countdown.
  await kill('p17');
  await waitUntil(async () => (await fleet.get('/proxies/p17')).sub_state === 'running.up', 10_000, 100);
  await kill('p17');
  await kill('p42');
  await fleet.post('/proxies/p9/stop');
  await fleet.post('/proxies/p5/disable');
  await waitUntil(async () => (await fleet.get('/proxies/p17')).sub_state === 'crashed.waiting', 10_000, 100);

  const page = await browser.newPage({ viewport: { width: 1400, height: 900 } });
  await page.goto(`${fleet.url}/inspect`);
  await page.locator('#connection.live').waitFor();
  await page.locator('.row[data-id="p17"]').click();
  await page.locator('#details-why:not(:empty)').waitFor();
  await page.locator('#details-output:not(:empty)').waitFor();
  await page.screenshot({ path: OUT });
  console.log(`wrote ${OUT}`);
} finally {
  await browser.close();
  await fleet.stop();
}
