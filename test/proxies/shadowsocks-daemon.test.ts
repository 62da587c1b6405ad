// Typed shadowsocks proxies under a real daemon process: pages fetched through ss-local and curl, a
// hung (SIGSTOPped) server found by the protocol probe and restarted. (kill -9 and SIGTERM to the
// daemon: test/e2e/npm-start.test.ts, and the daemon model, test/daemon-model/, whose proxies include
// an ss-server.)
import { mkdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { API, apiUrl, getJson } from '../api/real-daemon.ts';
import { describeWith } from '../support/binaries.ts';
import {
  accepts,
  freePorts,
  pidsMatching,
  startDaemon,
  waitUntil,
  writeConfig,
  type LogLine,
  type TestDaemon,
  STARTUP_MS,
} from '../support/daemon.ts';
import { curlSocks, killAll, startSsLocal, startWebServer, type SsEndpoint } from './helpers.ts';

const monitor = { enable: true, check_interval: 1, failure_threshold: 2, health_timeout: 1, restart_cooldown: 0, max_restarts: 20 };
const PAGE = 'hello through the tunnel\n';

/** The next log line matching `predicate` that was written after this call. */
function next(daemon: TestDaemon, predicate: (line: LogLine) => boolean, timeoutMs?: number) {
  const from = daemon.lines.length;
  return daemon.waitFor((line) => daemon.lines.indexOf(line) >= from && predicate(line), timeoutMs);
}

describeWith(['/usr/bin/ss-server', '/usr/bin/ss-local', '/usr/bin/curl'])('shadowsocks tunnels through servers the daemon runs', () => {
  let daemon: TestDaemon;
  let web: Awaited<ReturnType<typeof startWebServer>>;
  let servers: Record<'ss-a' | 'ss-b', SsEndpoint & { socks: number }>;
  const configOf = (id: string) => join(daemon.dir, 'state', 'generated', `${id}.json`);
  const serverPid = (id: string) => pidsMatching(configOf(id));

  beforeAll(async () => {
    web = await startWebServer(PAGE);
    const [a, b, socksA, socksB] = await freePorts(4);
    servers = {
      'ss-a': { port: a, password: 'first secret', method: 'aes-256-gcm', socks: socksA },
      'ss-b': { port: b, password: 'second-secret', method: 'chacha20-ietf-poly1305', socks: socksB },
    };
    const { dir, configFile } = writeConfig({
      proxy: {
        monitor,
        proxies: [
          { id: 'ss-a', type: 'shadowsocks', server_port: a, password: servers['ss-a'].password, method: 'aes-256-gcm' },
          { id: 'ss-b', type: 'shadowsocks', server_port: b, password: servers['ss-b'].password }, // the default method
        ],
      },
      api: { listen: '127.0.0.1:0' },
    });
    daemon = startDaemon(configFile, dir);
    await waitUntil(async () => (await Promise.all([a, b].map((port) => accepts(port)))).every(Boolean), STARTUP_MS);
    await Promise.all(Object.values(servers).map((s) => startSsLocal(s, s.socks)));
    // Each has passed a check: its first start's grace is over, and a hang counts from its first failure.
    const url = await apiUrl(daemon);
    const passed = async (id: string) => (await getJson(`${url}${API}/proxies/${id}`)).json.last_check?.ok === true;
    await waitUntil(async () => (await passed('ss-a')) && (await passed('ss-b')), STARTUP_MS, 50);
  });

  afterAll(async () => {
    await killAll();
    await daemon?.stop('SIGTERM');
    await web?.close();
  });

  it('generates each instance its own ss-server config, mode 0600, in the state directory', () => {
    for (const [id, s] of Object.entries(servers)) {
      expect(statSync(configOf(id)).mode & 0o777).toBe(0o600);
      expect(JSON.parse(readFileSync(configOf(id), 'utf8'))).toEqual({
        server: '127.0.0.1',
        server_port: s.port,
        password: s.password,
        method: s.method,
      });
      expect(serverPid(id)).toHaveLength(1);
    }
  });

  it('fetches a page through each instance', async () => {
    for (const s of Object.values(servers)) expect(await curlSocks(s.socks, web.url)).toEqual({ ok: true, body: PAGE });
  });

  it('SIGSTOP: the hung server is found and restarted within interval x threshold + timeout + 2 s (a loaded machine)', async () => {
    const boundMs = (monitor.check_interval * monitor.failure_threshold + monitor.health_timeout + 2) * 1000;
    const [pid] = serverPid('ss-b');
    const detected = next(daemon, (l) => l.message === 'proxy crash detected' && l.proxy_id === 'ss-b', boundMs + 1000);
    const restarted = next(daemon, (l) => l.message === 'proxy restart succeeded' && l.proxy_id === 'ss-b', boundMs + 1000);
    const stoppedAt = Date.now();
    process.kill(pid, 'SIGSTOP');
    expect(String((await detected).reason)).toMatch(/check/);
    expect(await restarted).toMatchObject({ reason: 'health_check_failed' });
    expect(Date.now() - stoppedAt).toBeLessThanOrEqual(boundMs);
    // The stopped process was ended (CONT with the TERM), not left behind.
    expect(serverPid('ss-b')).toHaveLength(1);
    expect(serverPid('ss-b')).not.toContain(pid);
    expect(await curlSocks(servers['ss-b'].socks, web.url)).toEqual({ ok: true, body: PAGE });
  });

  it('a reload whose new generated config cannot be written (a full disk, here a directory in its way) keeps the running servers and their files', async () => {
    const pids = [serverPid('ss-a'), serverPid('ss-b')];
    const before = readFileSync(configOf('ss-a'), 'utf8');
    rmSync(configOf('ss-b'));
    mkdirSync(join(configOf('ss-b'), 'in-the-way'), { recursive: true });
    const file = readFileSync(daemon.configFile, 'utf8');
    writeFileSync(
      daemon.configFile,
      file.replace(servers['ss-a'].password, 'changed secret').replace(servers['ss-b'].password, 'changed secret too'),
    );
    const failed = next(daemon, (l) => l.message === 'config reload failed; keeping the running config');
    daemon.child.kill('SIGHUP');
    expect(String((await failed).error)).toMatch(/: cannot write the generated config of ss-b: EISDIR/);
    // Not stopped for a start that could not happen; ss-a's file is as its server read it, not half a reload.
    expect([serverPid('ss-a'), serverPid('ss-b')]).toEqual(pids);
    expect(readFileSync(configOf('ss-a'), 'utf8')).toBe(before);
    expect(await curlSocks(servers['ss-b'].socks, web.url)).toEqual({ ok: true, body: PAGE });
  });
});
