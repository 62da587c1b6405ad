// The daemon's real output against the design document's log contract (test/support/log-contract.ts):
// a shadowsocks-typed proxy is started, hangs for a check, recovers, is killed and restarted; every
// event the document shows must then be in the log with its fields, types and component. Then the
// log level is changed by a reload and by the API without a restart, and the status counters
// survive a restart of the daemon.
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { stringify } from 'yaml';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, echoProxy, getJson, killEchoServers } from '../api/real-daemon.ts';
import { CLI, freePorts, ROOT, startDaemon, waitUntil, writeConfig, type LogLine, type TestDaemon } from '../support/daemon.ts';
import { documentedEvents, ENVELOPE, fieldProblems, topLevelKeys } from '../support/log-contract.ts';

const ID = 'ss-001';
// A raw entry of type shadowsocks: the document's example type, without needing ss-server here.
const config = (port: number, level: string) => ({
  logger: { level },
  proxy: {
    monitor: { enable: true, check_interval: 1, health_timeout: 1, failure_threshold: 3, restart_cooldown: 0, start_grace: 20 },
    proxies: [{ ...echoProxy(ID, port), type: 'shadowsocks' }],
  },
  api: { listen: '127.0.0.1:0' },
});

/** Generous: on a loaded 2-core machine the daemon may take many seconds to start. */
const apiUrl = async (daemon: TestDaemon) => String((await daemon.waitFor((l) => l.message === 'api listening', 60_000)).url);

describe('the log contract of the design document, on a real daemon', () => {
  let daemon: TestDaemon;
  let dir: string;
  let configFile: string;
  let port: number;
  let url: string;
  const proxyLine =
    (message: string, from = 0) =>
    (l: LogLine) =>
      daemon.lines.indexOf(l) >= from && l.message === message && l.proxy_id === ID;
  const pid = async () => (await getJson(`${url}${API}/proxies/${ID}`)).json.pid as number;

  beforeAll(async () => {
    [port] = await freePorts(1);
    ({ dir, configFile } = writeConfig(config(port, 'info')));
    daemon = startDaemon(configFile, dir);
    url = await apiUrl(daemon);
    // Up and answering (a slow start may fail checks, and be restarted, before it listens).
    await waitUntil(
      async () => {
        const p = (await getJson(`${url}${API}/proxies/${ID}`)).json;
        return p.sub_state === 'running.up' && p.last_check?.ok === true;
      },
      60_000,
      200,
    );

    // A hang long enough for one failed check (a stopped process still completes TCP handshakes:
    // only the PING/PONG reply proves it alive), then recovery.
    const hung = await pid();
    let from = daemon.lines.length;
    process.kill(hung, 'SIGSTOP');
    await daemon.waitFor(proxyLine('proxy health check failed', from), 20_000);
    process.kill(hung, 'SIGCONT');
    await daemon.waitFor(proxyLine('proxy health check recovered', from), 20_000);

    from = daemon.lines.length;
    process.kill(await pid(), 'SIGKILL');
    await daemon.waitFor(proxyLine('proxy restart succeeded', from), 30_000);
    await daemon.waitFor((l) => l.audit === true && l.action === 'proxy_auto_restart', 10_000);
    // Written after the restart's own lines: on a loaded machine it may reach the pipe a moment later.
    await daemon.waitFor(
      (l) => proxyLine('proxy state changed', from)(l) && l.state_from === 'restarting' && l.state_to === 'running',
      10_000,
    );
  }, 120_000);

  afterAll(async () => {
    await daemon?.stop('SIGKILL');
    killEchoServers([port]);
  });

  describe.each(documentedEvents('shadowsocks'))('$section', ({ message, fields }) => {
    it(`is logged as "${message}" with the document's fields`, () => {
      const line = daemon.lines.find((l) => l.message === message && (!('proxy_id' in fields) || l.proxy_id === ID));
      expect(line, `no "${message}" line`).toBeDefined();
      expect(fieldProblems(line!, fields)).toEqual([]);
    });
  });

  it('every line has the envelope: ISO timestamp, level word, message, component; each key once; no pino names', () => {
    expect(daemon.raw.length).toBeGreaterThan(10);
    for (const raw of daemon.raw) {
      const line = JSON.parse(raw) as Record<string, unknown>;
      expect(fieldProblems(line, ENVELOPE), raw).toEqual([]);
      expect(['trace', 'debug', 'info', 'warn', 'error', 'fatal'], raw).toContain(line.level);
      const keys = topLevelKeys(raw);
      expect(new Set(keys).size, raw).toBe(keys.length);
      expect(keys, raw).not.toContain('msg');
      expect(keys, raw).not.toContain('time');
      if ('proxy_id' in line) expect(line.proxy_type, raw).toBe('shadowsocks');
    }
  });

  it('a state change names the proxy type as component and the states the document names', () => {
    const changes = daemon.lines.filter((l) => l.state_change === true).map((l) => `${l.component}: ${l.state_from}->${l.state_to}`);
    expect(changes).toEqual(
      expect.arrayContaining([
        'shadowsocks: unknown->running',
        'shadowsocks: running->crashed',
        'shadowsocks: crashed->restarting',
        'shadowsocks: restarting->running',
      ]),
    );
  });

  it('a failed check is a warn line with its error and duration; the first pass after it an info line', () => {
    const failed = daemon.lines.filter(proxyLine('proxy health check failed')).at(-1)!;
    expect(
      fieldProblems(failed, {
        level: 'warn',
        proxy_type: 'shadowsocks',
        ok: false,
        error: { type: 'string' },
        duration_ms: { type: 'number' },
        consecutive_failures: { type: 'number' },
      }),
    ).toEqual([]);
    const recovered = daemon.lines.filter(proxyLine('proxy health check recovered')).at(-1)!;
    expect(
      fieldProblems(recovered, {
        level: 'info',
        proxy_type: 'shadowsocks',
        ok: true,
        duration_ms: { type: 'number' },
        failed_checks: { type: 'number' },
      }),
    ).toEqual([]);
    // Routine passes stay at debug, below the configured info.
    expect(daemon.lines.some((l) => l.message === 'proxy health check')).toBe(false);
  });

  it('logger.level changes on SIGHUP and on PATCH, with no proxy restarted', async () => {
    const before = await pid();
    writeFileSync(configFile, stringify({ state_dir: join(dir, 'state'), ...config(port, 'debug') }));
    const from = daemon.lines.length;
    daemon.child.kill('SIGHUP');
    expect(await daemon.waitFor((l) => daemon.lines.indexOf(l) >= from && l.message === 'log level changed')).toMatchObject({
      from: 'info',
      to: 'debug',
      cause: 'config reload',
    });
    expect(await daemon.waitFor((l) => daemon.lines.indexOf(l) >= from && l.message === 'proxy health check', 15_000)).toMatchObject({
      level: 'debug',
      proxy_id: ID,
      ok: true,
    });

    const patched = await fetch(`${url}${API}/config`, {
      method: 'PATCH',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ logger: { level: 'warn' } }),
    });
    expect(await patched.json()).toMatchObject({ logger: { level: 'warn' }, changed: ['logger.level'] });
    // Said at info, the last line below warn; lines written before it may still be in the pipe.
    const said = await daemon.waitFor((l) => l.message === 'log level changed' && l.to === 'warn');
    expect(said).toMatchObject({ from: 'debug', cause: 'api' });
    const quiet = daemon.lines.indexOf(said) + 1;
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(daemon.lines.slice(quiet).filter((l) => l.level === 'debug' || l.level === 'info')).toEqual([]);
    expect(await pid()).toBe(before);
  });

  it('total_checks counts one per proxy checked and, like the restart counts, survives a daemon restart', async () => {
    const before = (await getJson(`${url}${API}/status`)).json.stats;
    expect(before.total_checks).toBeGreaterThan(3);
    expect(await daemon.stop('SIGTERM')).toBe(0);
    daemon = startDaemon(configFile, dir);
    url = await apiUrl(daemon);
    const { stats } = (await getJson(`${url}${API}/status`)).json;
    const proxies = (await getJson(`${url}${API}/proxies`)).json.proxies as { stats: { checks: number } }[];
    // Checks may run between the first reading and the stop, never fewer.
    expect(stats.total_checks).toBeGreaterThanOrEqual(before.total_checks);
    expect(stats.total_checks).toBe(proxies.reduce((sum, p) => sum + p.stats.checks, 0));
    expect(stats.total_restarts).toBeGreaterThanOrEqual(1);
    expect(stats).toMatchObject({ total_restarts: before.total_restarts, success_restarts: before.success_restarts });
  }, 60_000);
});

it("the design document's troubleshooting file (logger: level: debug) validates", () => {
  const { dir } = writeConfig({});
  const file = join(dir, 'troubleshooting.yaml');
  writeFileSync(file, 'logger:\n  level: "debug"  # 启用详细日志\n');
  expect(execFileSync(process.execPath, [CLI, 'validate', file], { cwd: ROOT, encoding: 'utf8' })).toMatch(/: ok \(0 proxies/);
});
