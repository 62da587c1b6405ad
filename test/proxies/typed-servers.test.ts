// Typed trojan, v2ray and snell entries under a real daemon: the generated config (0600, in the state
// directory) starts the real server and its port answers. (A killed server coming back and a stopped
// daemon leaving none behind are the same for every type: test/e2e/npm-start.test.ts and the daemon
// model, test/daemon-model/, have them.)
// snell has no Debian package: a stand-in reads its INI and listens.
import { createHash } from 'node:crypto';
import { chmodSync, mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ProbeResult } from '../../src/health/result.ts';
import { probeTcp, probeUnix } from '../../src/health/tcp.ts';
import { probeShadowsocks } from '../../src/health/shadowsocks.ts';
import { probeTls } from '../../src/health/tls.ts';
import { describeWith } from '../support/binaries.ts';
import { freePorts, pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon, STARTUP_MS } from '../support/daemon.ts';
import { selfSignedCert } from './helpers.ts';

interface Supervised {
  daemon: TestDaemon;
  port: number;
  file: string;
}

/**
 * One typed proxy under its own daemon, with the tests every type shares. Returns a getter for
 * type-specific tests, registered by the caller.
 */
function superviseOne(
  id: string,
  ext: 'json' | 'conf',
  entry: (port: number, dir: string) => Record<string, unknown>,
  checkPort: (port: number) => Promise<ProbeResult>,
): () => Supervised {
  const s = {} as Supervised;
  const pids = () => pidsMatching(s.file);

  beforeAll(async () => {
    [s.port] = await freePorts(1);
    const dir = mkdtempSync(join(tmpdir(), `pm-${id}-`));
    const { configFile } = writeConfig(
      {
        proxy: {
          monitor: { enable: true, check_interval: 1, health_timeout: 2, restart_cooldown: 0 },
          proxies: [{ id, ...entry(s.port, dir) }],
        },
        api: { listen: '127.0.0.1:0' },
      },
      dir,
    );
    s.file = join(dir, 'state', 'generated', `${id}.${ext}`);
    s.daemon = startDaemon(configFile, dir);
    await s.daemon.waitFor((l) => l.message === 'proxy state changed' && l.proxy_id === id && l.state_to === 'running', STARTUP_MS);
  });

  afterAll(async () => {
    await s.daemon?.stop('SIGKILL');
    for (const pid of pids()) process.kill(pid, 'SIGKILL');
  });

  it('writes its config file with mode 0600 into the state directory', async () => {
    expect(statSync(s.file).mode & 0o777).toBe(0o600);
    // `running` is logged as the start begins: the process follows within moments. While the shell
    // that starts it execs the server, /proc shows an empty command line for an instant: one
    // reading may miss it, so one process is waited for, then still one a moment later.
    await waitUntil(() => pids().length === 1, 10_000, 20);
    await new Promise((done) => setTimeout(done, 300));
    expect(pids()).toHaveLength(1);
  });

  it('serves on its port soon after the daemon started it', async () => {
    await waitUntil(async () => (await checkPort(s.port)).ok, 10_000, 50);
  });

  return () => s;
}

const tls = (port: number) => probeTls({ kind: 'tls', host: '127.0.0.1', port }, { timeoutMs: 3_000 });
const tcp = (port: number) => probeTcp({ host: '127.0.0.1', port }, { timeoutMs: 3_000 });

describeWith(['/usr/bin/trojan', '/usr/bin/openssl'])('trojan', () => {
  let cert: { cert: string; key: string };
  const supervised = superviseOne(
    'tj-1',
    'json',
    (port, dir) => {
      cert = selfSignedCert(dir);
      return { type: 'trojan', local_port: port, password: ['one', 'two'], ...cert };
    },
    tls, // the default check of a typed trojan entry is this TLS handshake
  );

  it('generates the server JSON config from the typed settings', () => {
    const { file, port } = supervised();
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({
      run_type: 'server',
      local_addr: '127.0.0.1',
      local_port: port,
      remote_addr: '127.0.0.1',
      remote_port: 80,
      password: ['one', 'two'],
      ssl: { cert: resolve(cert.cert), key: resolve(cert.key) },
    });
  });
});

describeWith(['/usr/bin/v2ray'])('v2ray', () => {
  const uuid = '6f1c2d5e-8a43-4b7e-9d21-3c5b7a9e0f14';
  const supervised = superviseOne('v2-1', 'json', (port) => ({ type: 'v2ray', port, uuid }), tcp);

  it('generates a vmess inbound from the typed settings', () => {
    const conf = JSON.parse(readFileSync(supervised().file, 'utf8'));
    expect(conf.inbounds).toEqual([
      { listen: '127.0.0.1', port: supervised().port, protocol: 'vmess', settings: { clients: [{ id: uuid, alterId: 0 }] } },
    ]);
  });
});

describeWith(['/usr/bin/v2ray'])('v2ray with a shadowsocks inbound', () => {
  const ss = (port: number) =>
    probeShadowsocks(
      { kind: 'shadowsocks', host: '127.0.0.1', port, password: 'v2-ss-secret', method: 'aes-256-gcm' },
      { timeoutMs: 3_000 },
    );
  // Its default check is this round trip: it passes, which proves the probe speaks v2ray's shadowsocks.
  const supervised = superviseOne(
    'v2-ss',
    'json',
    (port) => ({ type: 'v2ray', port, protocol: 'shadowsocks', password: 'v2-ss-secret', method: 'aes-256-gcm' }),
    ss,
  );

  it('is found hung (SIGSTOP) by its round trip, which a TCP connect would not see, and restarted', async () => {
    const { daemon, file } = supervised();
    const [pid] = pidsMatching(file);
    process.kill(pid, 'SIGSTOP');
    try {
      const crash = await daemon.waitFor((l) => l.message === 'proxy crash detected' && l.proxy_id === 'v2-ss', 20_000);
      expect(String(crash.reason)).toMatch(/check/);
      await waitUntil(() => pidsMatching(file).length === 1 && pidsMatching(file)[0] !== pid, 20_000);
    } finally {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {}
    }
  }, 60_000);
});

describeWith(['/usr/bin/v2ray'])('v2ray on a unix socket', () => {
  let daemon: TestDaemon | undefined;
  afterAll(async () => {
    await daemon?.stop('SIGTERM');
  });

  it('is checked by a connect to its socket, and stays up', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-v2-unix-'));
    const socket = join(dir, 'v2.sock');
    const [port] = await freePorts(1);
    const uuid = '6f1c2d5e-8a43-4b7e-9d21-3c5b7a9e0f14';
    const { configFile } = writeConfig(
      {
        proxy: {
          monitor: { enable: true, check_interval: 1, health_timeout: 2, failure_threshold: 1, restart_cooldown: 0 },
          proxies: [{ id: 'v2-unix', type: 'v2ray', listen: socket, port, uuid }],
        },
        api: { listen: '127.0.0.1:0' },
      },
      dir,
    );
    daemon = startDaemon(configFile, dir);
    await waitUntil(async () => (await probeUnix(socket, { timeoutMs: 1_000 })).ok, STARTUP_MS, 50);
    const round = (l: { message: string; checked_proxies?: unknown }) =>
      l.message === 'health check round finished' && l.checked_proxies === 1;
    for (let i = 0; i < 3; i++) await daemon.waitFor((l) => round(l) && daemon!.lines.filter(round).length > i, 10_000);
    expect(daemon.lines.filter((l) => l.message === 'proxy crash detected')).toEqual([]);
    expect(daemon.lines.filter((l) => l.message === 'health check failed' || l.ok === false)).toEqual([]);
  }, 60_000);
});

describe('snell (stand-in binary)', () => {
  const psk = 'Aij+HCeos15IvqDZTb1cJMX5GcgZzIVE';
  const supervised = superviseOne(
    'sn-1',
    'conf',
    (port, dir) => {
      const binary = join(dir, 'snell-server');
      const standIn = resolve(import.meta.dirname, 'fixtures/snell-server.mjs');
      writeFileSync(binary, `#!/bin/sh\nexec ${process.execPath} ${standIn} "$@"\n`);
      chmodSync(binary, 0o755);
      return { type: 'snell', binary, listen: `127.0.0.1:${port}`, psk, obfs: 'tls', ipv6: false };
    },
    tcp,
  );

  it('generates the documented INI, which the server reads back key for key', async () => {
    const { daemon, file, port } = supervised();
    expect(readFileSync(file, 'utf8')).toBe(`[snell-server]\nlisten = 127.0.0.1:${port}\npsk = ${psk}\nobfs = tls\nipv6 = false\n`);
    const started = await daemon.waitFor((l) => l.message === 'proxy output' && l.proxy_id === 'sn-1');
    expect(JSON.parse(String(started.line))).toEqual({
      listening: `127.0.0.1:${port}`,
      obfs: 'tls',
      ipv6: 'false',
      psk_sha256: createHash('sha256').update(psk).digest('hex'),
    });
  });
});
