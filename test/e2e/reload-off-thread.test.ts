// A reload reads the config file on a thread of its own: an exit that happens while a large file is
// parsed reaches its machine at once, not after the parse.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, expect, it } from 'vitest';
import { pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

let daemon: TestDaemon | undefined;
let marker = '';
afterAll(async () => {
  await daemon?.stop();
  for (const pid of marker ? pidsMatching(marker) : []) process.kill(pid, 'SIGKILL');
});

it('an exit during a reload of a large file is seen before the reload ends', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'pm-reload-'));
  marker = join(dir, 'victim'); // on the proxy's command line only (the daemon's has the config's path)
  // Anchors for 5,000 proxies that would share them (x- keys are the file's own): 550 KB, which
  // takes the daemon's Node (--lite-mode) about a second to parse, past the kill 300 ms into it.
  const bulk = Array.from({ length: 5_000 }, (_, i) => ({
    id: `p${i}`,
    settings: { stop_timeout: 5, restart: 'always' },
    tags: [1, 2, 3],
  }));
  const { configFile } = writeConfig(
    {
      proxy: {
        monitor: { enable: true, restart_cooldown: 0 },
        proxies: [{ id: 'victim', type: 'exec', command: '/bin/sh', args: ['-c', 'sleep 300', marker] }],
      },
      api: { listen: '127.0.0.1:0' },
      'x-bulk': bulk,
    },
    dir,
  );
  daemon = startDaemon(configFile, dir);
  await daemon.waitFor((l) => l.message === 'proxy monitor started', 60_000);
  await waitUntil(() => pidsMatching(marker).length > 0, 10_000);

  daemon.child.kill('SIGHUP');
  await new Promise((resolve) => setTimeout(resolve, 300)); // the reload is under way

  // Looked up now, not before the SIGHUP: a CI run once found the proxy gone in between (its pid
  // seen, then none), so the kill goes to whichever instance runs at this moment.
  let victim = 0;
  await waitUntil(() => {
    [victim = 0] = pidsMatching(marker);
    return victim > 0;
  }, 10_000);
  const killedAt = daemon.lines.length;
  process.kill(victim, 'SIGKILL');
  const reloaded = await daemon.waitFor((l) => l.message === 'config reloaded', 60_000);
  const crash = await daemon.waitFor((l) => l.message === 'proxy crash detected' && daemon!.lines.indexOf(l) >= killedAt, 30_000);
  expect(daemon.lines.indexOf(crash)).toBeLessThan(daemon.lines.indexOf(reloaded));
}, 120_000);
