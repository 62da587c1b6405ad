// A daemon whose open files limit is too low for its proxies: it warns at start, the starts that fail
// with EMFILE are logged as the daemon's fault, back off, and never use up a proxy's restart cap.
// Only this test's processes are touched (their command lines carry its marker).
import { randomUUID } from 'node:crypto';
import { afterAll, expect, it } from 'vitest';
import { API, getJson } from '../api/real-daemon.ts';
import { pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

const marker = `pm-fd-${randomUUID()}`;
const COUNT = 40;
let daemon: TestDaemon | undefined;
afterAll(async () => {
  await daemon?.stop('SIGTERM');
  for (const pid of pidsMatching(marker)) process.kill(pid, 'SIGKILL');
});

it('with too few file descriptors: warns, and starts failing with EMFILE back off without reaching the cap', async () => {
  const proxies = Array.from({ length: COUNT }, (_, i) => ({
    id: `p${i}`,
    type: 'exec',
    command: '/bin/sh',
    args: ['-c', 'exec sleep 300', marker],
  }));
  const { dir, configFile } = writeConfig({
    proxy: { monitor: { enable: true, check_interval: 1, restart_cooldown: 0, max_restarts: 2 }, proxies },
    api: { listen: '127.0.0.1:0' },
  });
  // Two pipes per proxy in the spawn helper (or the daemon): 64 cannot hold 40 proxies.
  daemon = startDaemon(configFile, dir, [], ['prlimit', '--nofile=64']);
  const warning = await daemon.waitFor((l) => l.open_files_limit !== undefined, 30_000);
  expect(warning).toMatchObject({ level: 'warn', open_files_limit: 64, needed: 4 * COUNT + 128 });
  const url = (await daemon.waitFor((l) => l.message === 'api listening', 30_000)).url as string;

  // Some proxies cannot start; each has failed at least three times (more than its cap of 2)...
  const failures = (id: string) => daemon!.lines.filter((l) => l.proxy_id === id && l.message === 'proxy restart failed').length;
  let starved = '';
  await waitUntil(
    () => {
      starved = Array.from({ length: COUNT }, (_, i) => `p${i}`).find((id) => failures(id) >= 3) ?? '';
      return starved !== '';
    },
    60_000,
    100,
  );
  const failed = daemon.lines.find((l) => l.proxy_id === starved && l.message === 'proxy restart failed')!;
  expect(failed).toMatchObject({ level: 'error', error: expect.stringMatching(/EMFILE \(the daemon is short of its own resources/) });
  // ...yet none of those counted: it backs off, and is never held by the cap.
  const why = (await getJson(`${url}${API}/proxies/${starved}/why`)).json;
  expect(why.decision).toMatchObject({ guard: 'backoff', inputs: { restarts_in_window: 0, max_restarts: 2 } });
  expect(daemon.lines.some((l) => l.guard === 'restart_cap')).toBe(false);
  expect((await getJson(`${url}${API}/status`)).json.running).toBe(true);
}, 120_000);
