// The API of a real daemon process, supervising demo echo servers: status over a socket, a kill -9
// seen in history and in /metrics, mutations guarded by the token from PROXY_MONITOR_TOKEN.
import { execFileSync } from 'node:child_process';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { describeWith } from '../support/binaries.ts';
import { freePorts, pidsMatching, startDaemon, waitUntil, writeConfig, type TestDaemon, STARTUP_MS } from '../support/daemon.ts';
import { API, apiUrl, echoProxy, getJson, killEchoServers } from './real-daemon.ts';

const TOKEN = 'env-token-9c2e41';

describe('a real daemon serving the API', () => {
  let daemon: TestDaemon;
  let url: string;
  let ports: number[];

  const proxy = async (id: string) => (await getJson(`${url}${API}/proxies/${id}`)).json;
  const metric = async (series: string) => {
    const text = await (await fetch(`${url}/metrics`)).text();
    const line = text.split('\n').find((l) => l.startsWith(`${series} `));
    return line === undefined ? undefined : Number(line.slice(series.length + 1));
  };

  beforeAll(async () => {
    ports = await freePorts(2);
    const { dir, configFile } = writeConfig({
      proxy: {
        monitor: { enable: true, check_interval: 1, restart_cooldown: 0 },
        proxies: [echoProxy('demo-1', ports[0]), echoProxy('demo-2', ports[1])],
      },
      api: { listen: '127.0.0.1:0' },
    });
    // The daemon inherits this worker's environment: the token comes from the variable, not the file.
    process.env.PROXY_MONITOR_TOKEN = TOKEN;
    try {
      daemon = startDaemon(configFile, dir);
    } finally {
      delete process.env.PROXY_MONITOR_TOKEN;
    }
    url = await apiUrl(daemon);
    await waitUntil(
      async () => (await proxy('demo-1')).last_check?.ok === true && (await proxy('demo-2')).last_check?.ok === true,
      STARTUP_MS,
      100,
    );
  });

  afterAll(async () => {
    await daemon?.stop('SIGTERM');
    killEchoServers(ports ?? []);
  });

  it('answers GET /status with the seed shape and says mutations need the token', async () => {
    const { status, json } = await getJson(`${url}${API}/status`);
    expect(status).toBe(200);
    expect(json).toMatchObject({ running: true, total_proxies: 2, enabled_proxies: 2, status_count: { running: 2 } });
    expect(daemon.lines.find((l) => l.message === 'api listening')).toMatchObject({ mutations: 'bearer token' });
    expect(JSON.stringify(daemon.lines)).not.toContain(TOKEN);
  });

  it('kill -9 of a proxy: restarted, in the history, explained, and counted in /metrics', async () => {
    const checksBefore = (await metric('proxy_monitor_checks_total{proxy_id="demo-1",result="success"}')) ?? 0;
    const { pid } = await proxy('demo-1');
    process.kill(pid, 'SIGKILL');
    await waitUntil(
      async () => {
        const now = await proxy('demo-1');
        return now.state === 'running' && now.pid !== pid && now.last_restart !== null;
      },
      10_000,
      50,
    );

    expect(await metric('proxy_monitor_restarts_total{proxy_id="demo-1",result="success",reason="exited"}')).toBe(1);
    expect(await metric('proxy_monitor_restarts_in_window{proxy_id="demo-1"}')).toBe(1);
    expect(await metric('proxy_monitor_restart_duration_seconds_count')).toBe(1);
    await waitUntil(
      async () => ((await metric('proxy_monitor_checks_total{proxy_id="demo-1",result="success"}')) ?? 0) > checksBefore,
      5_000,
      100,
    );

    const history = (await getJson(`${url}${API}/proxies/demo-1/history`)).json;
    expect(history.records).toEqual([expect.objectContaining({ proxy_id: 'demo-1', reason: 'exited', success: true, error: null })]);
    expect(history.analysis).toMatchObject({ total: 1, success_rate: 1, by_reason: { exited: 1 } });
    const why = (await getJson(`${url}${API}/proxies/demo-1/why`)).json;
    expect(why.decision).toMatchObject({ verdict: 'allowed', guard: null });
  });

  it('refuses a stop without the token, obeys it with the token, and audits it in the log', async () => {
    const refused = await fetch(`${url}${API}/proxies/demo-2/stop`, { method: 'POST' });
    expect(refused.status).toBe(401);
    expect((await proxy('demo-2')).state).toBe('running');

    const done = await fetch(`${url}${API}/proxies/demo-2/stop`, { method: 'POST', headers: { authorization: `Bearer ${TOKEN}` } });
    expect(done.status).toBe(200);
    await waitUntil(async () => (await proxy('demo-2')).sub_state === 'stopped.down', 10_000, 50);
    const audit = await daemon.waitFor((l) => l.audit === true && l.action === 'proxy_stop');
    expect(audit).toMatchObject({ user: 'api:127.0.0.1', auth: 'token', proxy_id: 'demo-2' });
    expect(await metric('proxy_monitor_proxy_state{proxy_id="demo-2",state="stopped"}')).toBe(1);
  });

  it('keeps what the operator asked for across a daemon restart', async () => {
    const auth = { authorization: `Bearer ${TOKEN}` };
    expect((await fetch(`${url}${API}/proxies/demo-1/disable`, { method: 'POST', headers: auth })).status).toBe(200);
    expect((await proxy('demo-2')).wanted).toBe('down'); // stopped by the test above
    await daemon.stop('SIGTERM');
    daemon = startDaemon(daemon.configFile, daemon.dir);
    url = await apiUrl(daemon);
    await waitUntil(async () => (await proxy('demo-1')).state === 'running', 15_000, 100);
    expect(await proxy('demo-1')).toMatchObject({ enabled: false, monitoring_active: false });
    expect(await proxy('demo-2')).toMatchObject({ state: 'stopped', wanted: 'down', pid: null });
    // The daemon's own stop and start are in the trail: the gap between them went unsupervised.
    const trail = (await (await fetch(`${url}${API}/audit?limit=3`)).json()) as { records: Array<{ action: string; user: string }> };
    expect(trail.records.slice(0, 2).map((r) => [r.action, r.user])).toEqual([
      ['daemon_start', 'system'],
      ['daemon_stop', 'system'],
    ]);
  });

  describeWith(['/usr/bin/promtool'])('GET /metrics', () => {
    const promtool = (text: string) => {
      try {
        execFileSync('/usr/bin/promtool', ['check', 'metrics'], { input: text, encoding: 'utf8', stdio: 'pipe' });
        return { code: 0, output: '' };
      } catch (error) {
        const e = error as { status: number; stdout: string; stderr: string };
        return { code: e.status, output: `${e.stdout}${e.stderr}` };
      }
    };

    it('passes promtool check metrics, every family (ours and the process ones); no NaN, no placeholder values', async () => {
      const text = await (await fetch(`${url}/metrics`)).text();
      expect(promtool(text)).toEqual({ code: 0, output: '' });
      const values = text
        .split('\n')
        .filter((l) => l && !l.startsWith('#'))
        .map((l) => l.slice(l.lastIndexOf(' ') + 1));
      expect(values.filter((v) => !Number.isFinite(Number(v)) || Number(v) > 1e15)).toEqual([]);
      expect(text).toContain('# TYPE nodejs_eventloop_lag_seconds gauge');
      expect(text).toContain('# TYPE process_resident_memory_bytes gauge');
      // One label vocabulary (the counts themselves: ops.test.ts and the kill -9 case above).
      const results = new Set(text.match(/result="[^"]*"/g) ?? []);
      expect([...results].filter((r) => r !== 'result="success"' && r !== 'result="failure"')).toEqual([]);
      const ours = text
        .split(/(?=^# HELP )/m)
        .filter((family) => family.startsWith('# HELP proxy_monitor_'))
        .join('');
      for (const name of [
        'proxy_monitor_checks_total',
        'proxy_monitor_check_rounds_total',
        'proxy_monitor_restarts_total',
        'proxy_monitor_proxy_state',
        'proxy_monitor_restarts_in_window',
        'proxy_monitor_max_restarts',
        'proxy_monitor_restart_cap_reached',
        'proxy_monitor_check_duration_seconds',
        'proxy_monitor_restart_duration_seconds',
        'proxy_monitor_last_tick_timestamp_seconds',
        'proxy_monitor_seconds_since_last_tick',
        'proxy_monitor_running',
        'proxy_monitor_check_interval_seconds',
        'proxy_monitor_proxy_enabled',
        'proxy_monitor_proxy_wanted_up',
      ]) {
        expect(ours).toContain(`# TYPE ${name} `);
      }
    });
  });
});

describe('a daemon whose api.listen is taken', () => {
  let daemon: TestDaemon | undefined;
  let blocker: net.Server | undefined;
  let ports: number[] = [];
  afterAll(async () => {
    await daemon?.stop('SIGKILL');
    await new Promise((done) => (blocker ? blocker.close(done) : done(undefined)));
    killEchoServers(ports);
  });

  it('logs why and exits 1, having started nothing', async () => {
    ports = await freePorts(2);
    blocker = net.createServer();
    await new Promise<void>((done) => blocker!.listen(0, '127.0.0.1', done));
    const taken = (blocker.address() as net.AddressInfo).port;
    const { dir, configFile } = writeConfig({
      proxy: { monitor: { enable: true }, proxies: [echoProxy('demo', ports[0])] },
      api: { listen: `127.0.0.1:${taken}` },
    });
    daemon = startDaemon(configFile, dir);
    const line = await daemon.waitFor((l) => l.message === 'api cannot listen');
    expect(line).toMatchObject({ level: 'error', listen: `127.0.0.1:${taken}`, error: expect.stringMatching(/EADDRINUSE/) });
    expect(await daemon.exited).toBe(1);
    expect(daemon.stderr()).toMatch(new RegExp(`^proxy-monitor: api.listen 127.0.0.1:${taken}: .*EADDRINUSE`));
    expect(pidsMatching(`--port ${ports[0]}`)).toEqual([]);
    // No proxy was started, so none changed state.
    expect(daemon.lines.filter((l) => l.message === 'proxy state changed')).toEqual([]);
  });

  it("leaves a previous run's proxy running for the next daemon, instead of stopping it", async () => {
    const proxy = { proxy: { monitor: { enable: true }, proxies: [echoProxy('kept', ports[1])] } };
    const { dir, configFile } = writeConfig({ ...proxy, api: { listen: '127.0.0.1:0' } });
    const first = startDaemon(configFile, dir);
    await waitUntil(() => pidsMatching(`--port ${ports[1]}`).length === 1, STARTUP_MS);
    const [pid] = pidsMatching(`--port ${ports[1]}`);
    await first.stop('SIGKILL'); // as a crash or an OOM kill would, leaving the proxy running
    const taken = (blocker!.address() as net.AddressInfo).port;
    writeConfig({ ...proxy, api: { listen: `127.0.0.1:${taken}` } }, dir);
    daemon = startDaemon(configFile, dir);
    expect(await daemon.exited).toBe(1);
    expect(pidsMatching(`--port ${ports[1]}`)).toEqual([pid]);
    // And the next daemon that can listen adopts it.
    writeConfig({ ...proxy, api: { listen: '127.0.0.1:0' } }, dir);
    daemon = startDaemon(configFile, dir);
    await daemon.waitFor((l) => l.message === 'proxy process adopted from the previous run');
    expect(pidsMatching(`--port ${ports[1]}`)).toEqual([pid]);
  });
});
