// A hung proxy (SIGSTOP) still accepts TCP from the kernel's backlog: only a check that needs a reply
// notices it. The README's bound: killed within check_interval x failure_threshold + health_timeout,
// give or take a second, then back after its own start-up (the restart's duration).
import { afterAll, expect, it, describe } from 'vitest';
import net from 'node:net';
import { API, apiUrl, getJson } from '../api/real-daemon.ts';
import { freePorts, pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

function ping(port: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = net.connect({ port, host: '127.0.0.1' });
    const timer = setTimeout(() => finish(false), 500);
    const finish = (ok: boolean) => {
      clearTimeout(timer);
      socket.destroy();
      done(ok);
    };
    socket.once('connect', () => socket.write('PING\n'));
    socket.on('data', (data) => finish(data.toString().includes('PONG')));
    socket.once('error', () => finish(false));
  });
}

describe('a hung demo proxy', () => {
  let daemon: TestDaemon;
  let port: number;
  afterAll(async () => {
    await daemon?.stop('SIGTERM');
    for (const pid of pidsMatching(`--port ${port}`)) process.kill(pid, 'SIGKILL');
  });

  it('is detected by its send/expect check and restarted within the bound', async () => {
    [port] = await freePorts(1);
    const settings = { check_interval: 1, failure_threshold: 2, health_timeout: 1 };
    const { dir, configFile } = writeConfig({
      proxy: {
        monitor: { enable: true, restart_cooldown: 0, ...settings },
        proxies: [
          {
            id: 'demo',
            type: 'exec',
            command: process.execPath,
            args: ['--import', 'tsx', 'demo/echo-server.ts', '--host', '127.0.0.1', '--port', String(port)],
            health: { tcp: `127.0.0.1:${port}`, send: 'PING\n', expect: 'PONG' },
          },
        ],
      },
      api: { listen: '127.0.0.1:0' },
    });
    daemon = startDaemon(configFile, dir);
    const url = await apiUrl(daemon);
    await waitUntil(() => ping(port), 60_000, 50);
    // Hung once a check has passed: before that, its failures within start_grace do not count
    // (a first start's grace), and the bound below would not hold.
    await waitUntil(async () => (await getJson(`${url}${API}/proxies/demo`)).json.last_check?.ok === true, 30_000, 50);
    const [pid] = pidsMatching(`--port ${port}`);
    process.kill(pid, 'SIGSTOP');
    const stoppedAt = Date.now();
    const bound = (settings.check_interval * settings.failure_threshold + settings.health_timeout + 1) * 1000;

    const crash = await daemon.waitFor((l) => l.message === 'proxy crash detected' && l.proxy_id === 'demo', bound);
    expect(String(crash.reason)).toMatch(/health check failed 2 times/);
    expect(Date.now() - stoppedAt).toBeLessThan(bound);
    const restart = await daemon.waitFor((l) => l.message === 'proxy restart succeeded' && l.proxy_id === 'demo', 30_000);
    expect(restart.reason).toBe('health_check_failed');
    expect(Date.now() - stoppedAt).toBeLessThan(bound + Number(restart.duration_ms));
    expect(await ping(port)).toBe(true);
    expect(pidsMatching(`--port ${port}`)).not.toContain(pid);
  });
});
