// A proxy whose binary is missing, under a real daemon: each start fails with ENOENT and counts as a
// failed restart, the next attempt is scheduled, and the daemon and its other proxy carry on.
// (kill -9 of a proxy and SIGTERM to the daemon: test/e2e/npm-start.test.ts with the README's demo
// proxies, and the daemon model, test/daemon-model/ (its proxies include an ss-server; it checks that
// no process is left).)
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../support/binaries.ts';
import { accepts, freePorts, pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon, STARTUP_MS } from '../support/daemon.ts';

describeWith(['/usr/bin/ss-server'])('a proxy whose binary does not exist, beside a real ss-server', () => {
  let daemon: TestDaemon;
  let port: number;
  const ssPids = () => pidsMatching(`-p ${port} `);

  beforeAll(async () => {
    [port] = await freePorts(1);
    const { dir, configFile } = writeConfig({
      proxy: {
        monitor: {
          enable: true,
          check_interval: 30,
          restart_cooldown: 60,
          max_restarts: 10,
          health_timeout: 5,
          backoff: { initial: 1, factor: 2, max: 4 },
        },
        proxies: [
          {
            id: 'ss-001',
            type: 'shadowsocks',
            command: '/usr/bin/ss-server',
            args: ['-s', '127.0.0.1', '-p', String(port), '-k', 'secret', '-m', 'aes-256-gcm'],
            health: { tcp: `127.0.0.1:${port}` },
          },
          { id: 'ghost', type: 'exec', command: '/nonexistent/ss-server', args: [] },
        ],
      },
      api: { listen: '127.0.0.1:0' },
    });
    daemon = startDaemon(configFile, dir);
    await waitUntil(() => accepts(port), STARTUP_MS);
  });

  afterAll(async () => {
    await daemon?.stop('SIGKILL');
    for (const pid of ssPids()) process.kill(pid, 'SIGKILL');
  });

  it('is crashed, counts failed restarts, has its next attempt scheduled; the daemon and the other proxy carry on', async () => {
    const failed = await daemon.waitFor((l) => l.message === 'proxy restart failed' && l.proxy_id === 'ghost');
    expect(String(failed.error)).toMatch(/ENOENT/);
    const withheld = await daemon.waitFor((l) => l.message === 'proxy restart withheld' && l.proxy_id === 'ghost');
    expect(Date.parse(String(withheld.next_attempt_at))).toBeGreaterThan(Date.now() - 1_000);
    expect(withheld.guard).toMatch(/cooldown|backoff/);
    expect(daemon.child.exitCode).toBeNull();
    expect(await accepts(port)).toBe(true);
    expect(ssPids()).toHaveLength(1);
  });
});
