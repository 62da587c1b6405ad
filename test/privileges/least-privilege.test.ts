// Per-proxy user, capabilities, limits and the memory watchdog, on one real daemon running as root
// (it needs root to start proxies as nobody), with real processes read back from /proc.
import { spawnSync } from 'node:child_process';
import { chmodSync, existsSync, readFileSync, statSync } from 'node:fs';
import net from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, apiUrl, getJson } from '../api/real-daemon.ts';
import { CLI, freePorts, ROOT, startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

const root = process.getuid?.() === 0;
const NOBODY = 65534;

/** A proxy that only listens (on host:port) and stays up. */
const listener = (port: number, host = '127.0.0.1') => [
  process.execPath,
  '-e',
  `require('net').createServer().listen(${port}, '${host}'); setInterval(() => {}, 1e6)`,
];

/** Port 80 on loopback is ours to test with only when nothing listens there. */
function port80Free(): Promise<boolean> {
  return new Promise((done) => {
    const server = net.createServer();
    server.once('error', () => done(false));
    server.listen(80, '127.0.0.1', () => server.close(() => done(true)));
  });
}

/** Uid, Gid (real, effective, saved, fs) and the capability masks of a live process. */
function status(pid: number) {
  const text = readFileSync(`/proc/${pid}/status`, 'utf8');
  const field = (name: string) => new RegExp(`^${name}:\\s*(.*)$`, 'm').exec(text)![1].trim();
  return {
    uid: field('Uid').split(/\s+/).map(Number),
    gid: field('Gid').split(/\s+/).map(Number),
    capEff: field('CapEff'),
    capAmb: field('CapAmb'),
  };
}

(root ? describe : describe.skip)('least privilege, limits and the memory watchdog (daemon as root)', () => {
  let daemon: TestDaemon;
  let url: string;
  let lowPort: boolean;
  let dir: string;
  const ss = existsSync('/usr/bin/ss-server');

  beforeAll(async () => {
    lowPort = await port80Free();
    const [plain, ssPort] = await freePorts(2);
    const proxies: Record<string, unknown>[] = [
      {
        id: 'as-nobody',
        type: 'exec',
        command: listener(plain)[0],
        args: listener(plain).slice(1),
        user: 'nobody',
        limits: { nofile: 1234, nproc: 4096, core: 0, memlock: '64KiB' },
        health: { tcp: `127.0.0.1:${plain}` },
      },
      // Grows to about 200 MiB within a second, then holds it.
      {
        id: 'bloat',
        type: 'exec',
        command: process.execPath,
        max_memory: '96MiB',
        health: { process: true },
        args: [
          '-e',
          'const a = []; const t = setInterval(() => { a.push(Buffer.alloc(16 << 20, 1)); if (a.length > 12) clearInterval(t); }, 50); setInterval(() => {}, 1e6)',
        ],
      },
    ];
    if (lowPort) {
      const [command, ...args] = listener(80);
      proxies.push({
        id: 'port-80',
        type: 'exec',
        command,
        args,
        user: 'nobody',
        capabilities: ['net_bind_service'],
        health: { tcp: '127.0.0.1:80' },
      });
    }
    if (ss) proxies.push({ id: 'ss-nobody', type: 'shadowsocks', server_port: ssPort, password: 'pw-least-privilege', user: 'nobody' });
    const written = writeConfig({
      proxy: { monitor: { enable: true, check_interval: 1, failure_threshold: 2, restart_cooldown: 0, max_restarts: 5 }, proxies },
      api: { listen: '127.0.0.1:0' },
    });
    dir = written.dir;
    chmodSync(dir, 0o711); // nobody must get through to the generated shadowsocks config in state_dir
    daemon = startDaemon(written.configFile, dir);
    await daemon.waitFor((l) => l.message === 'api listening', 60_000); // generous: 2 cores shared with other suites
    url = await apiUrl(daemon);
  }, 90_000);

  afterAll(async () => {
    await daemon?.stop();
  });

  const proxy = async (id: string) => (await getJson(`${url}${API}/proxies/${id}`)).json;
  const runningPid = async (id: string) => {
    let pid = 0;
    await waitUntil(
      async () => {
        const p = await proxy(id);
        pid = p.state === 'running' && p.sub_state === 'running.up' ? p.pid : 0;
        return pid > 0;
      },
      20_000,
      100,
    );
    return pid;
  };

  it('a proxy with user: nobody runs as nobody, with no capabilities, and the limits it was given', async () => {
    const pid = await runningPid('as-nobody');
    const s = status(pid);
    expect(s.uid).toEqual([NOBODY, NOBODY, NOBODY, NOBODY]);
    expect(s.gid).toEqual([NOBODY, NOBODY, NOBODY, NOBODY]); // nobody's primary group (nogroup)
    expect(s.capEff).toBe('0000000000000000');
    const limits = readFileSync(`/proc/${pid}/limits`, 'utf8');
    expect(limits).toMatch(/^Max open files\s+1234\s+1234\s+files/m);
    expect(limits).toMatch(/^Max core file size\s+0\s+0\s+bytes/m);
    expect(limits).toMatch(/^Max locked memory\s+65536\s+65536\s+bytes/m);
    expect(limits).toMatch(/^Max processes\s+4096\s+4096/m);
    const p = await proxy('as-nobody');
    expect(p.privileges).toEqual({
      user: 'nobody',
      uid: NOBODY,
      group: 'nogroup',
      gid: NOBODY,
      capabilities: [],
      limits: { nofile: 1234, nproc: 4096, core: 0, memlock: 65536 },
    });
  }, 30_000);

  it('capabilities: [net_bind_service] gives only that capability, enough to listen on port 80', async (ctx) => {
    if (!lowPort) return ctx.skip('port 80 on 127.0.0.1 is in use on this machine');
    const pid = await runningPid('port-80');
    const s = status(pid);
    expect(s.uid[1]).toBe(NOBODY);
    expect(s.capEff).toBe('0000000000000400'); // 1 << CAP_NET_BIND_SERVICE (10), nothing else
    expect(s.capAmb).toBe('0000000000000400');
    // 127.0.0.1:80 LISTEN. Running is not listening yet at a first start (no readiness wait then):
    // on a loaded machine the interpreter takes a moment to get there.
    const listening = () => /^\s*\d+: 0100007F:0050 00000000:0000 0A /m.test(readFileSync('/proc/net/tcp', 'utf8'));
    await waitUntil(listening, 20_000, 100);
  }, 30_000);

  it('a typed proxy run as nobody reads its generated config, which only nobody can read', async (ctx) => {
    if (!ss) return ctx.skip('apt-get install -y shadowsocks-libev');
    const pid = await runningPid('ss-nobody');
    expect(status(pid).uid[1]).toBe(NOBODY);
    const file = statSync(join(dir, 'state', 'generated', 'ss-nobody.json'));
    expect([file.uid, file.gid, file.mode & 0o777]).toEqual([NOBODY, NOBODY, 0o400]);
    expect(statSync(join(dir, 'state', 'generated')).mode & 0o777).toBe(0o711);
  }, 30_000);

  it('a proxy that grows past max_memory is restarted with reason memory, in history and metrics', async () => {
    await waitUntil(
      async () => (await getJson(`${url}${API}/proxies/bloat/history`)).json.records.some((r: { reason: string }) => r.reason === 'memory'),
      30_000,
      200,
    );
    const history = (await getJson(`${url}${API}/proxies/bloat/history`)).json;
    expect(history.records.find((r: { reason: string }) => r.reason === 'memory')).toMatchObject({
      proxy_id: 'bloat',
      manual: false,
      success: true,
    });
    const crash = daemon.lines.find((l) => l.message === 'proxy crash detected' && l.proxy_id === 'bloat')!;
    expect(crash.reason).toMatch(/^memory \d+\.\d MiB above the limit of 96\.0 MiB for 2 checks in a row$/);
    const metrics = await (await fetch(`${url}/metrics`)).text();
    expect(metrics).toMatch(/^proxy_monitor_restarts_total\{proxy_id="bloat",result="success",reason="memory"\} [1-9]/m);
    expect(metrics).toMatch(/^proxy_monitor_proxy_memory_limit_bytes\{proxy_id="bloat"\} 100663296$/m);
    const memory = Number(/^proxy_monitor_proxy_memory_bytes\{proxy_id="as-nobody"\} (\d+)$/m.exec(metrics)?.[1]);
    expect(memory).toBeGreaterThan(1 << 20);
    const why = (await getJson(`${url}${API}/proxies/bloat/why`)).json;
    expect(why.memory).toMatchObject({ limit_bytes: 96 << 20 });
  }, 40_000);
});

(root ? describe : describe.skip)('a daemon that is not root', () => {
  it('refuses a proxy with another user: exit 2, naming the file, the key and what was expected', () => {
    const { dir, configFile } = writeConfig({ proxy: { proxies: [{ id: 'p', type: 'exec', command: '/bin/true', user: 'root' }] } });
    chmodSync(dir, 0o755);
    chmodSync(configFile, 0o644);
    const r = spawnSync(
      '/usr/bin/setpriv',
      ['--reuid=nobody', '--regid=nogroup', '--clear-groups', process.execPath, CLI, 'run', '--config', configFile],
      {
        cwd: ROOT,
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(r.stderr.trim()).toBe(
      `${configFile}: proxy.proxies[0].user: expected the daemon's own user (uid ${NOBODY}): only a daemon running as root can start a proxy as another user ("root" is uid 0)` +
        ` (and 1 more: \`proxy-monitor validate ${configFile}\` lists every one)`, // its group, the same way
    );
    expect(r.status).toBe(2);
  }, 40_000);
});
