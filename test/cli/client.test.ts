// The client commands against the API over a real socket (the simulated supervisor behind it), and
// the installed binary for what only a process shows: its output streams and exit codes.
import { execFile } from 'node:child_process';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { promisify } from 'node:util';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { assignments } from '../../src/cli/commands/config.ts';
import { runClientCommand } from '../../src/cli/remote.ts';
import { API, startApi, type ApiHarness } from '../api/api-harness.ts';
import { CLI, freePorts } from '../support/daemon.ts';

const TOKEN = 'cli-token-77';
let api: ApiHarness;

async function cli(args: string[], env: Record<string, string | undefined> = {}) {
  let out = '';
  let err = '';
  const code = await runClientCommand(args[0], args.slice(1), {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      err += t;
    },
    env: { PROXY_MONITOR_URL: api.url, PROXY_MONITOR_TOKEN: TOKEN, ...env },
    configs: [],
  });
  return { code, out, err };
}

describe('against a running API', () => {
  beforeEach(async () => {
    api = await startApi({ token: TOKEN });
  });
  afterEach(() => api.close());

  it('status: a summary line and a table row per proxy; --json gives status and proxies', async () => {
    await api.advance(30_000);
    const { code, out } = await cli(['status']);
    expect(code).toBe(0);
    const lines = out.trimEnd().split('\n');
    expect(lines[0]).toMatch(/^monitor: watching, checks every 30s; 1 proxy, 1 monitored; 1 check, /);
    expect(lines[1].split(/\s{2,}/)).toEqual(['ID', 'STATE', 'PID', 'UPTIME', 'MONITOR', 'RESTARTS/H', 'LAST CHECK', 'NEXT ATTEMPT']);
    expect(lines[2].split(/\s{2,}/).slice(0, 6)).toEqual(['ss-1', 'running.up', String(api.proxy().context.pid), '30s', 'on', '0/10']);

    const json = JSON.parse((await cli(['status', '--json'])).out);
    expect(json).toMatchObject({ running: true, total_proxies: 1, proxies: [{ id: 'ss-1', state: 'running' }] });
  });

  it('show and why: one proxy in words, and the guard holding its restart back', async () => {
    api.recent.onOutput('ss-1', 'stderr', 'ERROR: bind: Address already in use');
    api.world.crash('ss-1');
    await api.advance(200);
    api.world.crash('ss-1');
    await api.settle();
    const shown = await cli(['show', 'ss-1']);
    expect(shown.out).toMatch(/^ss-1 \(exec\): crashed\.waiting/);
    expect(shown.out).toMatch(
      /settings\s+stop_timeout=10, health_timeout=5, failure_threshold=3, start_grace=5, min_uptime=0, restart=always, restart_cooldown=60, max_restarts=10, stable_uptime=60\n/,
    );
    expect(shown.out).toMatch(/restarts\s+1\/10 in the last 1h00m/);
    const why = await cli(['why', 'ss-1']);
    expect(why.code).toBe(0);
    expect(why.out).toMatch(/restart deferred by cooldown/);
    expect(why.out).toMatch(/guard\s+cooldown/);
    expect(why.out).toMatch(/next attempt\s+in 1m00s/);
    expect(why.out).toMatch(/^last output:\n {2}.* stderr: ERROR: bind: Address already in use\n/m); // what the server said of it
    expect(JSON.parse((await cli(['why', 'ss-1', '--json'])).out).decision.guard).toBe('cooldown');
  });

  it('a word that cannot be a proxy id is a usage mistake, never a path: `stop ..` does not stop the monitor', async () => {
    for (const args of [
      ['stop', '..'],
      ['start', '..'],
      ['why', '..'],
      ['show', '.'],
      ['history', '..'],
      ['restart', 'a/../..'],
    ]) {
      const { code, err } = await cli(args);
      expect(code, args.join(' ')).toBe(2);
      expect(err).toMatch(/is not a proxy id: expected 1-64 letters/);
    }
    expect(api.supervisor.monitorState()).toBe('watching');
    expect(api.audits()).toEqual([]);
  });

  it('audit: the trail newest first, filtered by proxy and action; bad filters are refused', async () => {
    await cli(['stop', 'ss-1']);
    await api.settle();
    await cli(['start', 'ss-1']);
    await api.settle();
    api.world.crash('ss-1');
    await api.advance(200);
    const { code, out } = await cli(['audit']);
    expect(code).toBe(0);
    const rows = out
      .trimEnd()
      .split('\n')
      .map((line) => line.split(/\s{2,}/));
    expect(rows[0]).toEqual(['TIME', 'USER', 'ACTION', 'PROXY', 'REASON']);
    expect(rows.slice(1).map((r) => [r[1], r[2], r[3], r[4]])).toEqual([
      ['system', 'proxy_auto_restart', 'ss-1', 'exited'],
      ['api:127.0.0.1', 'proxy_start', 'ss-1', 'started by the operator'],
      ['api:127.0.0.1', 'proxy_stop', 'ss-1', 'stopped by the operator'],
    ]);
    const stops = JSON.parse((await cli(['audit', '--action', 'proxy_stop', '--proxy', 'ss-1', '--json'])).out);
    expect(stops).toMatchObject({ proxy_id: 'ss-1', action: 'proxy_stop', since: null });
    expect(stops.records).toEqual([
      {
        time: expect.any(String),
        user: 'api:127.0.0.1',
        action: 'proxy_stop',
        proxy_id: 'ss-1',
        proxy_type: 'exec',
        reason: 'stopped by the operator',
        detail: { auth: 'token' },
      },
    ]);
    const restarts = JSON.parse((await cli(['audit', '--since', '1h', '--action', 'proxy_auto_restart', '--json'])).out).records;
    expect(restarts).toMatchObject([
      { user: 'system', proxy_type: 'exec', reason: 'exited', detail: { success: true, duration_ms: expect.any(Number) } },
    ]);
    expect((await cli(['audit', '--limit', '1', '--json'])).out).toContain('proxy_auto_restart');
    // Checked before anything is sent: a usage mistake (exit 2) that names the options, as typed.
    const bad = await cli(['audit', '--limit', '0', '--action', 'DROP TABLE', '--proxy', '../x']);
    expect(bad.code).toBe(2);
    expect(bad.err).toMatch(/--limit: expected a number >= 1, got 0/);
    expect(bad.err).toMatch(/action: expected one of "proxy_enable", .*, got "DROP TABLE"/);
    expect(bad.err).toMatch(/proxy: expected a proxy id/);
  });

  it('history: records and analysis, for all proxies or one, with --since and --limit', async () => {
    api.world.crash('ss-1');
    await api.advance(61_000);
    api.world.crash('ss-1');
    await api.advance(1_000);
    const all = await cli(['history']);
    expect(all.out).toMatch(/^TIME\s+PROXY\s+REASON\s+RESULT\s+DURATION\s+ERROR$/m);
    expect(all.out).toMatch(/2 restarts, 100% succeeded \(0 failed\)/);
    expect(all.out).toMatch(/by reason: exited 2/);
    expect((await cli(['history', '--limit', '1'])).out).toMatch(
      /^1 restart, 100% succeeded \(0 failed\) \(the newest 1 only: more matched, raise --limit for all\)$/m,
    );
    const one = JSON.parse((await cli(['history', 'ss-1', '--since', '30s', '--limit', '5', '--json'])).out);
    expect(one).toMatchObject({ proxy_id: 'ss-1', analysis: { total: 1 } });
    expect((await cli(['history', '--since', 'soon'])).err).toMatch(/since: expected an ISO time/);
  });

  it('enable, disable, stop, start, restart: act, and say what they did', async () => {
    expect((await cli(['disable', 'ss-1'])).out).toBe(
      'ss-1: monitoring disabled (it keeps running, unchecked and never restarted); now running.up\n',
    );
    expect(api.proxy().context.override).toBe(false);
    expect((await cli(['enable', 'ss-1'])).code).toBe(0);
    expect((await cli(['stop', 'ss-1'])).out).toBe('ss-1: stop requested (it stays down until started); now stopped.stopping\n');
    await api.settle();
    expect(api.phase()).toBe('stopped');
    // Down, it is not said to keep running.
    expect((await cli(['disable', 'ss-1'])).out).toBe('ss-1: monitoring disabled (it is not restarted until enabled); now stopped.down\n');
    expect((await cli(['enable', 'ss-1'])).code).toBe(0);
    expect((await cli(['start', 'ss-1'])).code).toBe(0);
    await api.advance(100);
    const pid = api.proxy().context.pid;
    expect((await cli(['restart', 'ss-1'])).out).toMatch(/^ss-1: restart requested/);
    await api.advance(100);
    expect(api.proxy().context.pid).not.toBe(pid);
    // The restart of a running proxy is a restart: the API's audit line, then the restart's own record.
    expect(
      api.store
        .audits({})
        .map((a) => a.action)
        .reverse(),
    ).toEqual([
      'proxy_disable',
      'proxy_enable',
      'proxy_stop',
      'proxy_disable',
      'proxy_enable',
      'proxy_start',
      'proxy_restart',
      'proxy_manual_restart',
    ]);
  });

  it('monitor stop|start, config set with nested keys, reload', async () => {
    expect((await cli(['monitor', 'stop'])).out).toMatch(/^monitor paused/);
    expect(api.supervisor.status().running).toBe(false);
    expect((await cli(['monitor', 'start'])).out).toMatch(/^monitor watching/);

    const set = await cli(['config', 'set', 'check_interval=10', 'backoff.max=600']);
    expect(set.code).toBe(0);
    expect(set.out).toBe(
      'changed check_interval=10, backoff={"initial":1,"factor":2,"max":600} (from the next check round; a reload or restart goes back to the file)\n',
    );
    const level = await cli(['config', 'set', 'logger.level=warn']);
    expect(level.out).toBe('changed logger.level="warn" (at once; a reload or restart goes back to the file)\n');
    expect(api.supervisor.settings()).toMatchObject({ check_interval: 10, backoff: { max: 600 } });

    const bad = await cli(['config', 'set', 'check_interval=-1']);
    expect(bad).toMatchObject({ code: 1, out: '' });
    // The keys as the config file and the Ranges table write them, not as fields of the API's body.
    expect(bad.err).toBe('proxy-monitor: proxy.monitor.check_interval: expected seconds from 1 to 86400 (1 s to 1 day), got -1\n');
    expect((await cli(['config', 'set', 'proxy.monitor.chek_interval=5'])).err).toBe(
      'proxy-monitor: proxy.monitor.chek_interval: unknown key, did you mean check_interval?\n',
    );
    expect((await cli(['config', 'set', 'logger.level=loud'])).err).toMatch(/^proxy-monitor: logger\.level: expected one of "trace"/);

    const reload = await cli(['reload']);
    expect(reload.code).toBe(1);
    expect(reload.err).toMatch(/^proxy-monitor: config not reloaded, the running config is kept/);
  });

  it('exits 1 with the server message for an unknown proxy or a missing token', async () => {
    const unknown = await cli(['show', 'ghost']);
    expect(unknown).toEqual({ code: 1, out: '', err: 'proxy-monitor: no proxy "ghost"\n' });
    const noToken = await cli(['stop', 'ss-1'], { PROXY_MONITOR_TOKEN: undefined });
    expect(noToken.code).toBe(1);
    expect(noToken.err).toMatch(/Bearer.*\(pass --token or set PROXY_MONITOR_TOKEN\)\n$/);
    expect(api.phase()).toBe('running');
    const wrong = await cli(['stop', 'ss-1', '--token', 'wrong'], { PROXY_MONITOR_TOKEN: undefined });
    expect(wrong).toMatchObject({
      code: 1,
      err: 'proxy-monitor: the token sent is not the api.token: this request changes state and is refused\n',
    });
    expect((await cli(['stop', 'ss-1', '--token', TOKEN], { PROXY_MONITOR_TOKEN: undefined })).code).toBe(0);
  });

  it('exits 2 on a usage mistake, before any request', async () => {
    expect((await cli(['why'])).code).toBe(2);
    expect((await cli(['status', '--url', 'ftp://x'])).err).toMatch(/--url: expected an http:\/\/ URL/);
    expect((await cli(['monitor', 'pause'])).code).toBe(2);
    expect((await cli(['config', 'set', 'nokey'])).code).toBe(2);
    expect((await cli(['history', '--since', 'yesterday'])).err).toMatch(
      /^proxy-monitor history: --since: expected an ISO time .*, got "yesterday"\n/,
    );
    expect(api.store.audits({})).toEqual([]);
  });
});

describe('the proxy-monitor binary', () => {
  const run = promisify(execFile);
  const binary = async (args: string[], env: Record<string, string> = {}) => {
    try {
      const { stdout, stderr } = await run(process.execPath, [CLI, ...args], { env: { ...process.env, ...env } });
      return { code: 0, stdout, stderr };
    } catch (error) {
      const e = error as { code: number; stdout: string; stderr: string };
      return { code: e.code, stdout: e.stdout, stderr: e.stderr };
    }
  };

  it('prints one line and exits 1 when the daemon is not reachable', async () => {
    const [port] = await freePorts(1);
    const result = await binary(['status', '--url', `http://127.0.0.1:${port}`]);
    expect(result.code).toBe(1);
    expect(result.stdout).toBe('');
    expect(result.stderr).toBe(
      `proxy-monitor: cannot reach the proxy-monitor daemon at http://127.0.0.1:${port}: connection refused (is the daemon running, and is this its api.listen?)\n`,
    );
  });

  it('a change sent and not answered in --timeout exits 3, saying it may have been made; an unanswered read exits 1', async () => {
    // Takes every request and never answers (a daemon stopped with SIGSTOP, say).
    const silent = http.createServer(() => {});
    await new Promise<void>((resolve) => silent.listen(0, '127.0.0.1', resolve));
    const url = `http://127.0.0.1:${(silent.address() as AddressInfo).port}`;
    try {
      const restart = await binary(['--timeout', '1', 'restart', 'ss-1', '--url', url]);
      expect(restart.code).toBe(3);
      expect(restart.stderr).toBe(
        `proxy-monitor: POST /api/v1/proxy/monitor/proxies/ss-1/restart was sent to the proxy-monitor daemon at ${url}, not answered within 1 s: it may still be carried out; check with \`proxy-monitor status\` before sending it again\n`,
      );
      const status = await binary(['status', '--url', url], { PROXY_MONITOR_TIMEOUT: '1' });
      expect(status.code).toBe(1);
      expect(status.stderr).toMatch(/^proxy-monitor: cannot reach the proxy-monitor daemon at .*: no answer in time\n$/);
      for (const bad of ['0', '3601', 'soon', '']) {
        const refused = await binary(['status', '--url', url, '--timeout', bad]);
        expect(refused.code, bad).toBe(2);
        expect(refused.stderr).toContain(`--timeout: expected seconds from 1 to 3600, got "${bad}"`);
      }
    } finally {
      silent.closeAllConnections();
      silent.close();
    }
  });

  it('never shows a password or query values of --url in its errors (stderr ends up in cron mails and CI logs)', async () => {
    const [port] = await freePorts(1);
    const result = await binary(['status', '--url', `http://user:hunter2@127.0.0.1:${port}/?key=hunter3`]);
    expect(result.code).toBe(1);
    expect(result.stderr).toMatch(
      new RegExp(`daemon at http://user:\\*\\*\\*@127\\.0\\.0\\.1:${port}/\\?key=\\*\\*\\*: connection refused`),
    );
    expect(result.stderr).not.toMatch(/hunter/);
  });

  it('reads PROXY_MONITOR_URL and talks to the API', async () => {
    api = await startApi();
    try {
      const result = await binary(['status'], { PROXY_MONITOR_URL: api.url });
      expect(result.code).toBe(0);
      expect(result.stdout).toMatch(/^monitor: watching/);
      expect(result.stdout).toMatch(/^ss-1\s+running\.up/m);
    } finally {
      await api.close();
    }
  });
});

it('config set: KEY=VALUE pairs to a nested patch, values as YAML scalars', () => {
  expect(assignments(['check_interval=10', 'enable=false', 'backoff.max=600', 'backoff.factor=1.5'])).toEqual({
    check_interval: 10,
    enable: false,
    backoff: { max: 600, factor: 1.5 },
  });
  // As the config file and the Ranges table spell the keys.
  expect(assignments(['proxy.monitor.check_interval=10', 'proxy.monitor.backoff.max=600'])).toEqual({
    check_interval: 10,
    backoff: { max: 600 },
  });
  expect(() => assignments(['=5'])).toThrow(/expected KEY=VALUE/);
  expect(() => assignments(['a..b=1'])).toThrow(/expected KEY=VALUE/);
  expect(() => assignments(['backoff=1', 'backoff.max=2'])).toThrow(/backoff.max/);
  expect(() => assignments(['check_interval=1e400'])).toThrow('check_interval: expected a finite number, got 1e400');
  expect(() => assignments(['check_interval=.inf'])).toThrow('check_interval: expected a finite number, got .inf');
  expect(() => assignments(['check_interval=5', 'proxy.monitor.check_interval=6'])).toThrow('check_interval: given twice');
  // An empty value (an unset shell variable) is refused, not read as null, which removes a limit.
  expect(() => assignments(['max_memory='])).toThrow(
    'max_memory: expected a value after "=", got none (to remove a limit, write max_memory=null)',
  );
  expect(assignments(['max_memory=null'])).toEqual({ max_memory: null });
  // What YAML cannot read is one line naming the key (an unquoted alias or flow collection).
  expect(() => assignments(['check_interval=*a'])).toThrow(/^check_interval: expected a YAML value .*, got "\*a": /);
  expect(() => assignments(['backoff.max=[1'])).toThrow(/^backoff\.max: expected a YAML value/);
  // Keys an object inherits are keys like any other: sent as given, for the daemon to refuse by name.
  expect(JSON.stringify(assignments(['constructor=1', '__proto__.max_restarts=1', 'toString=2']))).toBe(
    '{"constructor":1,"__proto__":{"max_restarts":1},"toString":2}',
  );
});

it('a --url with a path (the daemon behind a reverse proxy) keeps that path in front of every request, and its query with it', async () => {
  const seen: string[] = [];
  const server = http.createServer((request, response) => {
    seen.push(`${request.method} ${request.url}`);
    // A proxy in front that answers in its own words: the error names the whole URL asked.
    if (request.url?.startsWith('/html/')) response.writeHead(502, { 'content-type': 'text/html' }).end('<h1>Bad Gateway</h1>');
    else response.writeHead(404, { 'content-type': 'application/json' }).end('{"error":"not_found","message":"recorded"}');
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  try {
    const io = { out: () => {}, err: () => {}, env: {}, configs: [] };
    await runClientCommand('why', ['ss-1', '--url', `${base}/prefix`], io);
    await runClientCommand('history', ['--since', '24h', '--url', `${base}/prefix/`], io);
    await runClientCommand('stop', ['ss-1', '--url', `${base}/a/b`], io);
    await runClientCommand('why', ['ss-1', '--url', base], io);
    await runClientCommand('history', ['--since', '24h', '--url', `${base}/q?key=k1&since=never`], io);
    let err = '';
    const code = await runClientCommand('why', ['ss-1', '--url', `${base}/html`], {
      ...io,
      err: (text) => {
        err += text;
      },
    });
    expect(code).toBe(1);
    expect(err).toContain(`GET ${base}/html${API}/proxies/ss-1/why: HTTP 502, not a proxy-monitor API answer`);
  } finally {
    await new Promise((resolve) => server.close(resolve));
  }
  expect(seen).toEqual([
    `GET /prefix${API}/proxies/ss-1/why`,
    `GET /prefix${API}/history?since=24h`,
    `POST /a/b${API}/proxies/ss-1/stop`,
    `GET ${API}/proxies/ss-1/why`,
    // A query in --url goes with every request; the command's own keys win.
    `GET /q${API}/history?since=24h&key=k1`,
    `GET /html${API}/proxies/ss-1/why`,
  ]);
});
