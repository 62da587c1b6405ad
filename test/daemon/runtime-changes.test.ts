// The daemon in this process (src/daemon/daemon.ts, the real world, real child processes) through a
// run of operator changes, one daemon shared by the cases in order: a reload restarts only the proxy
// whose command changed and applies the new proxy.monitor values; a PATCH lasts until the next reload;
// api.token is read again at every reload; at shutdown a proxy that ignores SIGTERM gets stop_timeout
// seconds, then SIGKILL.
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { stringify } from 'yaml';
import type { Caller } from '../../src/api/auth.ts';
import { startDaemon, type Daemon } from '../../src/daemon/daemon.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { waitUntil } from '../support/daemon.ts';

const API = '/api/v1/proxy/monitor';
const dir = mkdtempSync(join(tmpdir(), 'pm-runtime-'));
const configFile = join(dir, 'config.yaml');
const lines: Array<Record<string, unknown>> = [];
let daemon: Daemon;
let url: string;
const ownPids = new Set<number>();

// `dir` on every command line makes the processes this test's own.
const sleeper = (id: string, seconds: number) => ({
  id,
  type: 'exec',
  command: '/bin/sh',
  args: ['-c', `exec sleep ${seconds}`, dir],
  health: { process: true },
});
const stubborn = (id: string) => ({
  id,
  type: 'exec',
  command: '/bin/sh',
  args: ['-c', 'trap "" TERM; exec sleep 300', dir],
  health: { process: true },
});
const baseMonitor = { enable: true, check_interval: 1, restart_cooldown: 0, stop_timeout: 2 };

function writeFile(monitor: Record<string, unknown>, proxies: unknown[], api: Record<string, unknown> = {}) {
  writeFileSync(
    configFile,
    stringify({
      state_dir: join(dir, 'state'),
      proxy: { monitor: { ...baseMonitor, ...monitor }, proxies },
      api: { listen: '127.0.0.1:0', ...api },
    }),
  );
}
const pidOf = (id: string) => {
  const pid = daemon.supervisor.proxy(id)?.context.pid ?? null;
  if (pid !== null) ownPids.add(pid);
  return pid;
};
/** Exists and is not a zombie. */
function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return false;
  }
}
async function call(method: string, path: string, init: { token?: string; body?: unknown } = {}) {
  const headers: Record<string, string> = {};
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  if (init.body !== undefined) headers['content-type'] = 'application/json';
  const response = await fetch(`${url}${API}${path}`, {
    method,
    headers,
    body: init.body === undefined ? undefined : JSON.stringify(init.body),
  });
  return { status: response.status, json: await response.json() };
}

const OPERATOR: Caller = { user: 'signal:SIGHUP', auth: 'signal' };

beforeAll(async () => {
  writeFile({}, [sleeper('changed', 300), sleeper('same', 300), stubborn('stubborn')]);
  const logger = createLogger({ level: 'info', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  daemon = await startDaemon({ configFile, logger });
  url = daemon.url;
  await waitUntil(
    () => ['changed', 'same', 'stubborn'].every((id) => daemon.supervisor.proxy(id)?.phase === 'running' && pidOf(id) !== null),
    20_000,
    20,
  );
});

afterAll(async () => {
  await daemon?.stop();
  for (const pid of ownPids) if (alive(pid)) process.kill(pid, 'SIGKILL');
});

it('a reload restarts the proxy whose command changed, leaves the others, and applies the new proxy.monitor values', async () => {
  const before = { changed: pidOf('changed')!, same: pidOf('same')! };
  writeFile({ check_interval: 2, max_restarts: 7 }, [sleeper('changed', 301), sleeper('same', 300), stubborn('stubborn')]);
  const outcome = await daemon.reload(OPERATOR);
  expect(outcome).toEqual({
    ok: true,
    changes: {
      added: [],
      removed: [],
      changed: ['changed'],
      reconfigured: [],
      settings: ['proxy.monitor.check_interval', 'proxy.monitor.max_restarts'],
      at_next_start: [],
    },
  });
  await waitUntil(() => pidOf('changed') !== before.changed && daemon.supervisor.proxy('changed')?.phase === 'running', 20_000, 20);
  await waitUntil(() => !alive(before.changed), 10_000, 20);
  expect(pidOf('same')).toBe(before.same);
  expect(daemon.supervisor.settings()).toMatchObject({ check_interval: 2, max_restarts: 7 });
  const status = await call('GET', '/status');
  expect(status.json.config).toMatchObject({ check_interval: 2, max_restarts: 7 });
  expect((await call('GET', '/proxies/same')).json).toMatchObject({ max_restarts: 7, pid: before.same });
});

it('a PATCH of the config lasts until the next reload: the file wins then', async () => {
  const patched = await call('PATCH', '/config', { body: { check_interval: 5, max_restarts: 3 } });
  expect(patched.status).toBe(200);
  expect(daemon.supervisor.settings()).toMatchObject({ check_interval: 5, max_restarts: 3 });
  expect((await call('GET', '/proxies/same')).json.max_restarts).toBe(3);

  expect(await daemon.reload(OPERATOR)).toMatchObject({ ok: true, changes: { changed: [] } });
  expect(daemon.supervisor.settings()).toMatchObject({ check_interval: 2, max_restarts: 7 });
  expect((await call('GET', '/proxies/same')).json.max_restarts).toBe(7);
});

it('a reload names the proxies changed in place (monitor:, health:), which keep their process', async () => {
  const same = pidOf('same');
  writeFile({ check_interval: 2, max_restarts: 7 }, [
    sleeper('changed', 301),
    { ...sleeper('same', 300), monitor: false },
    stubborn('stubborn'),
  ]);
  expect(await daemon.reload(OPERATOR)).toMatchObject({ ok: true, changes: { changed: [], reconfigured: ['same'], settings: [] } });
  writeFile({ check_interval: 2, max_restarts: 7 }, [sleeper('changed', 301), sleeper('same', 300), stubborn('stubborn')]);
  expect(await daemon.reload(OPERATOR)).toMatchObject({ ok: true, changes: { changed: [], reconfigured: ['same'] } });
  expect(pidOf('same')).toBe(same);
});

it('api.token is read again at a reload: set, then changed', async () => {
  const proxies = [sleeper('changed', 301), sleeper('same', 300), stubborn('stubborn')];
  expect((await call('POST', '/proxies/same/disable')).status).toBe(200); // no token, loopback
  expect((await call('POST', '/proxies/same/enable')).status).toBe(200);

  writeFile({ check_interval: 2, max_restarts: 7 }, proxies, { token: 'first-token-3b9d' });
  expect(await daemon.reload(OPERATOR)).toMatchObject({ ok: true });
  expect((await call('POST', '/proxies/same/disable')).status).toBe(401);
  expect((await call('POST', '/proxies/same/disable', { token: 'first-token-3b9d' })).status).toBe(200);

  writeFile({ check_interval: 2, max_restarts: 7 }, proxies, { token: 'second-token-77ea' });
  expect(await daemon.reload(OPERATOR)).toMatchObject({ ok: true, changes: { changed: [] } });
  expect((await call('POST', '/proxies/same/enable', { token: 'first-token-3b9d' })).status).toBe(401);
  expect((await call('POST', '/proxies/same/enable', { token: 'second-token-77ea' })).status).toBe(200);
  expect(JSON.stringify(lines)).not.toMatch(/first-token|second-token/);
});

it('at shutdown, a proxy that ignores SIGTERM is killed after stop_timeout (2 s), not before, and nothing is left', async () => {
  const pids = ['changed', 'same', 'stubborn'].map((id) => pidOf(id)!);
  const began = performance.now();
  const stopped = daemon.stop();
  // A reload while stopping (a SIGHUP in those 2 s) is not applied, nor audited as if it were.
  expect(await daemon.reload(OPERATOR)).toEqual({ ok: false, error: 'the daemon is stopping' });
  await stopped;
  const took = performance.now() - began;
  expect(took).toBeGreaterThanOrEqual(1_900);
  expect(took).toBeLessThan(2_000 + 5_000); // the grace, plus generous room for a loaded machine
  for (const pid of pids) expect(alive(pid), `pid ${pid}`).toBe(false);
  expect(lines.at(-1)).toMatchObject({ message: 'proxy monitor stopped' });
  expect(lines.filter((l) => /^config reload/.test(String(l.message))).at(-1)).toMatchObject({
    message: 'config reload ignored: the daemon is stopping',
  });
});
