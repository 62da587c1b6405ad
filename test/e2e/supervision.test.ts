// The daemon as an operator runs it: real ss-server processes, killed and hung, then a shutdown.
import { afterAll, beforeAll, expect, it } from 'vitest';
import { describeWith } from '../support/binaries.ts';
import { accepts, freePorts, pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon, STARTUP_MS } from '../support/daemon.ts';

describeWith(['/usr/bin/ss-server'])('supervising three real ss-server processes', () => {
  let daemon: TestDaemon;
  let ports: number[];
  const marker = (port: number) => `-p ${port} `;
  const ssPids = () => ports.flatMap((port) => pidsMatching(marker(port)));

  beforeAll(async () => {
    ports = await freePorts(3);
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
          ...ports.map((port, i) => ({
            id: `ss-00${i + 1}`,
            type: 'shadowsocks',
            command: '/usr/bin/ss-server',
            args: ['-s', '127.0.0.1', '-p', String(port), '-k', 'secret', '-m', 'aes-256-gcm'],
            health: { tcp: `127.0.0.1:${port}` },
          })),
          { id: 'ghost', type: 'exec', command: '/nonexistent/ss-server', args: [] },
        ],
      },
      api: { listen: '127.0.0.1:0' },
    });
    daemon = startDaemon(configFile, dir);
    await waitUntil(async () => (await Promise.all(ports.map((p) => accepts(p)))).every(Boolean), STARTUP_MS);
  });

  afterAll(async () => {
    await daemon?.stop('SIGKILL');
    for (const pid of ssPids()) process.kill(pid, 'SIGKILL');
  });

  it('kill -9 of one: it accepts TCP again within 1 s, and the restart is logged with reason and duration', async () => {
    const [pid] = pidsMatching(marker(ports[0]));
    expect(pid).toBeGreaterThan(0);
    const killedAt = Date.now();
    process.kill(pid, 'SIGKILL');
    await waitUntil(async () => !(await accepts(ports[0])) || pidsMatching(marker(ports[0]))[0] !== pid, 1_000, 1);
    const backAfter = await waitUntil(() => accepts(ports[0]), 1_000, 5);
    expect(Date.now() - killedAt).toBeLessThan(1_000);
    const restart = await daemon.waitFor((l) => l.message === 'proxy restart succeeded' && l.proxy_id === 'ss-001');
    expect(restart).toMatchObject({ reason: 'exited' });
    expect(restart.duration_ms).toBeGreaterThanOrEqual(0);
    // The restart counts as done once the new process has stayed up min_uptime (1 s by default).
    expect(restart.duration_ms).toBeLessThan(1_000 + 1_000);
    expect(pidsMatching(marker(ports[0]))).toHaveLength(1);
    expect(backAfter).toBeLessThan(1_000);
  });

  it('a proxy whose binary does not exist is crashed, counts failed restarts, has its next attempt scheduled', async () => {
    const failed = await daemon.waitFor((l) => l.message === 'proxy restart failed' && l.proxy_id === 'ghost');
    expect(String(failed.error)).toMatch(/ENOENT/);
    const withheld = await daemon.waitFor((l) => l.message === 'proxy restart withheld' && l.proxy_id === 'ghost');
    expect(Date.parse(String(withheld.next_attempt_at))).toBeGreaterThan(Date.now() - 1_000);
    expect(withheld.guard).toMatch(/cooldown|backoff/);
    // The daemon and the other proxies are unaffected.
    expect(daemon.child.exitCode).toBeNull();
    expect((await Promise.all(ports.map((p) => accepts(p)))).every(Boolean)).toBe(true);
  });

  it('SIGTERM to the daemon leaves no ss-server behind', async () => {
    expect(ssPids()).toHaveLength(3);
    const code = await daemon.stop('SIGTERM');
    expect(code).toBe(0);
    expect(ssPids()).toEqual([]);
  });
});
