// No secret leaves the daemon: a full run with a known password (a typed shadowsocks proxy killed,
// hung and restarted, a proxy that prints its password and crashes, failing checks, every GET route
// of the API, /metrics, operator commands) and then a search of everything the daemon wrote or said.
// The one place the password must be is the generated ss-server config, mode 0600.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import type { AddressInfo } from 'node:net';
import { join, relative } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { API_BASE } from '../../src/api/base.ts';
import { routesOf, startApi } from '../api/api-harness.ts';
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

const SECRET = 'Canary-Passw0rd-4f1d9c';

/** Every file under dir, recursively. */
function filesUnder(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? filesUnder(join(dir, e.name)) : e.isFile() ? [join(dir, e.name)] : [],
  );
}

/** What an event stream (it never ends by itself) sends in its first moments. */
async function firstMoments(response: Response, ms = 500): Promise<string> {
  const reader = response.body!.getReader();
  const timer = setTimeout(() => void reader.cancel(), ms);
  let text = '';
  for (let chunk = await reader.read(); !chunk.done; chunk = await reader.read()) text += new TextDecoder().decode(chunk.value);
  clearTimeout(timer);
  return text;
}

/** Values for the routes' parameters; a route with a parameter not named here fails the test. */
const EXAMPLES: Record<string, string[]> = {
  id: ['ss-1', 'blabber'],
  file: ['inspector.js', 'inspector.css', 'favicon.svg', 'proxy.svg', 'monitor.svg', 'proxy-overview.svg'],
};

/** The GET routes of the daemon's API as fastify lists them (the same server, built in this process). */
async function getRoutes(): Promise<string[]> {
  const api = await startApi();
  try {
    // Requests under /inspect/ are handed to the page's own fastify instance (built on first use).
    const page = await api.inspectorApp();
    try {
      const all = [...(await routesOf(api.app)), ...(await routesOf(page))];
      return [...new Set(all.filter((r) => r.startsWith('GET ') && !r.endsWith('*')).map((r) => r.slice('GET '.length)))];
    } finally {
      await page.close();
    }
  } finally {
    await api.close();
  }
}

/** The route with every parameter replaced by each of its examples. */
function expand(route: string): string[] {
  const param = /:(\w+)/.exec(route);
  if (!param) return [route];
  const values = EXAMPLES[param[1]];
  if (!values) throw new Error(`no example value for :${param[1]} in ${route}: add one to EXAMPLES`);
  return values.flatMap((value) => expand(route.replace(param[0], value)));
}

describeWith(['/usr/bin/ss-server'])('a known secret through a full scenario', () => {
  let daemon: TestDaemon;
  let api: string;
  let ssPort: number;
  const replies: { what: string; body: string }[] = [];
  // What the inspectors are told through the whole scenario: `--inspect` and the page's feed.
  let inspectorRelay: WebSocketServer;
  const inspected: string[] = [];
  let streamed = '';
  const generated = () => join(daemon.dir, 'state', 'generated', 'ss-1.json');
  const ssPid = () => pidsMatching(generated())[0];

  /** The GET routes fastify lists, and those of them that answered 200 for some example. */
  let routes: string[] = [];
  const answered = new Set<string>();

  async function call(method: string, path: string, body?: unknown, route?: string) {
    const response = await fetch(`http://${api}${path}`, {
      method,
      ...(body !== undefined && { body: JSON.stringify(body), headers: { 'content-type': 'application/json' } }),
    });
    // An event stream never ends: what it sends in its first half second is its reply.
    const text = response.headers.get('content-type')?.startsWith('text/event-stream')
      ? await firstMoments(response)
      : await response.text();
    replies.push({ what: `${method} ${path} -> ${response.status}`, body: text });
    if (route !== undefined && response.status === 200) answered.add(route);
    return { status: response.status, text };
  }

  const next = (predicate: (l: LogLine) => boolean) => {
    const from = daemon.lines.length;
    return daemon.waitFor((l) => daemon.lines.indexOf(l) >= from && predicate(l), 20_000);
  };

  beforeAll(async () => {
    let apiPort: number;
    [ssPort, apiPort] = await freePorts(2);
    api = `127.0.0.1:${apiPort}`;
    const { dir, configFile } = writeConfig({
      log: { level: 'debug' }, // check results too
      proxy: {
        monitor: {
          enable: true,
          check_interval: 1,
          failure_threshold: 2,
          health_timeout: 1,
          restart_cooldown: 0,
          max_restarts: 50,
          min_uptime: 0,
        },
        proxies: [
          { id: 'ss-1', type: 'shadowsocks', server_port: ssPort, password: SECRET, method: 'aes-256-gcm' },
          // Prints its password and dies, again and again.
          {
            id: 'blabber',
            type: 'exec',
            command: '/bin/sh',
            args: ['-c', 'echo "starting with password $SS_PASSWORD" >&2; sleep 0.5; exit 3'],
            env: { SS_PASSWORD: SECRET },
          },
        ],
      },
      api: { listen: api },
    });
    inspectorRelay = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await new Promise((listening) => inspectorRelay.once('listening', listening));
    inspectorRelay.on('connection', (socket) => socket.on('message', (data) => inspected.push(String(data))));
    daemon = startDaemon(configFile, dir, ['--inspect', `ws://127.0.0.1:${(inspectorRelay.address() as AddressInfo).port}`]);
    await waitUntil(() => accepts(apiPort), STARTUP_MS);
    const feed = await fetch(`http://${api}/inspect/events`);
    void (async () => {
      for await (const chunk of feed.body!) streamed += Buffer.from(chunk).toString();
    })().catch(() => {});
    await waitUntil(() => accepts(ssPort), STARTUP_MS);

    // A crash.
    let restarted = next((l) => l.message === 'proxy restart succeeded' && l.proxy_id === 'ss-1');
    process.kill(ssPid(), 'SIGKILL');
    await restarted;
    // A hang: failing checks, then a restart.
    restarted = next((l) => l.message === 'proxy restart succeeded' && l.proxy_id === 'ss-1');
    process.kill(ssPid(), 'SIGSTOP');
    await restarted;
    await daemon.waitFor((l) => l.message === 'proxy output' && l.proxy_id === 'blabber');
    await daemon.waitFor((l) => l.message === 'proxy restart succeeded' && l.proxy_id === 'blabber');

    // The API: operator commands, then every GET route, for every proxy.
    await call('POST', `${API_BASE}/proxies/ss-1/restart`);
    await call('POST', `${API_BASE}/proxies/blabber/disable`);
    await call('PATCH', `${API_BASE}/config`, { check_interval: 2 });
    await call('POST', `${API_BASE}/reload`);
    await new Promise((r) => setTimeout(r, 1_500));
    routes = await getRoutes();
    for (const route of routes) for (const path of expand(route)) await call('GET', path, undefined, route);
  });

  afterAll(async () => {
    await daemon?.stop('SIGKILL');
    await new Promise((closed) => inspectorRelay?.close(closed));
    for (const pid of pidsMatching(generated())) process.kill(pid, 'SIGKILL');
  });

  it('went through the scenario: crashes, failed checks, restarts, every GET route', () => {
    expect(daemon.lines.some((l) => l.message === 'proxy crash detected' && l.proxy_id === 'ss-1' && /check/.test(String(l.reason)))).toBe(
      true,
    );
    expect(daemon.lines.some((l) => l.message === 'proxy health check failed' && l.ok === false)).toBe(true);
    // Every GET route fastify has answered 200 at least once (the inspector's assets and charts included).
    expect(routes).toEqual(
      expect.arrayContaining([
        `${API_BASE}/status`,
        '/metrics',
        `${API_BASE}/proxies/:id`,
        '/inspect/assets/:file',
        '/inspect/charts/:file',
      ]),
    );
    expect([...answered].sort()).toEqual([...routes].sort());
    expect(replies.find((r) => r.what.startsWith('GET /metrics'))!.body).toContain('proxy_monitor_checks_total');
  });

  it('the password is in the generated ss-server config only, mode 0600, not on its command line', () => {
    expect(readFileSync(generated(), 'utf8')).toContain(SECRET);
    expect(statSync(generated()).mode & 0o777).toBe(0o600);
    expect(readFileSync(`/proc/${ssPid()}/cmdline`, 'utf8')).not.toContain(SECRET);
  });

  it('the API refuses an oversized body with 413 and changes nothing', async () => {
    const before = await call('GET', `${API_BASE}/status`);
    const huge = await call('PATCH', `${API_BASE}/config`, { check_interval: 3, padding: 'x'.repeat(100 * 1024) });
    expect(huge.status).toBe(413);
    const after = await call('GET', `${API_BASE}/status`);
    expect(JSON.parse(after.text).config).toEqual(JSON.parse(before.text).config);
  });

  it('stops cleanly, so that everything it would write is written', async () => {
    expect(await daemon.stop('SIGTERM')).toBe(0);
  });

  it('is in no log line, stderr, API reply or metric', () => {
    const leaks = [
      ...daemon.lines.filter((l) => JSON.stringify(l).includes(SECRET)).map((l) => `log: ${JSON.stringify(l)}`),
      ...(daemon.stderr().includes(SECRET) ? ['stderr'] : []),
      ...replies.filter((r) => r.body.includes(SECRET)).map((r) => `reply to ${r.what}`),
      ...inspected.filter((m) => m.includes(SECRET)).map((m) => `--inspect: ${m.slice(0, 200)}`),
      ...(streamed.includes(SECRET) ? ['/inspect/events'] : []),
    ];
    expect(leaks).toEqual([]);
    // The inspectors heard the scenario: the restarts of ss-1 included.
    expect(inspected.some((m) => m.includes('"type":"@xstate.actor"') && m.includes('"name":"ss-1"'))).toBe(true);
    expect(streamed).toMatch(/"actor":"ss-1","event":"always \(EXITED\)"/);
    // The redacted output line proves the blabber's lines were seen, not lost.
    expect(daemon.lines.some((l) => l.proxy_id === 'blabber' && l.line === 'starting with password [REDACTED]')).toBe(true);
  });

  it('is in no file of the state directory but the generated config', () => {
    const stateDir = join(daemon.dir, 'state');
    const files = filesUnder(stateDir).filter((f) => f !== generated());
    expect(files.length).toBeGreaterThan(0);
    const secret = Buffer.from(SECRET);
    expect(files.filter((f) => readFileSync(f).includes(secret)).map((f) => relative(stateDir, f))).toEqual([]);
  });
});
