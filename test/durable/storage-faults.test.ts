// Supervision never waits on persistence: with state_dir on a full file system, a kill -9 is still
// restarted and a manual restart still works; /healthz says the state is not being saved, a metric
// counts the failed writes, and once space is freed every held write lands. (A read-only remount
// cannot be staged under a running daemon: Linux refuses it while SQLite holds its files open for
// writing, so test/store/resilient.test.ts feeds SQLITE_READONLY to the store instead.)
import Database from 'better-sqlite3';
import { execFileSync } from 'node:child_process';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { API, getJson } from '../api/real-daemon.ts';
import { startDaemon, waitUntil, writeConfig, type TestDaemon } from '../support/daemon.ts';

const root = process.getuid?.() === 0;

describe.skipIf(!root)('state_dir on a 1 MiB tmpfs that fills up', () => {
  let daemon: TestDaemon;
  let url: string;
  let stateDir: string;
  let setup: { dir: string; configFile: string };
  const pids = new Set<number>();

  const proxy = async (id: string) => (await getJson(`${url}${API}/proxies/${id}`)).json;
  const health = async () => (await getJson(`${url}/healthz`)).json;
  const failedWrites = async () => {
    const text = await (await fetch(`${url}/metrics`)).text();
    return Number(/^proxy_monitor_state_write_failures_total (\S+)$/m.exec(text)?.[1] ?? NaN);
  };
  /** Waits until the proxy runs a process other than `oldPid`, and returns the new pid. */
  const restartedFrom = async (id: string, oldPid: number) => {
    let pid = oldPid;
    await waitUntil(
      async () => {
        const view = await proxy(id);
        pid = view.pid;
        return view.state === 'running' && pid !== null && pid !== oldPid;
      },
      15_000,
      50,
    );
    pids.add(pid);
    return pid;
  };
  /** Fills the tmpfs to its last byte; returns the file to remove to free it. */
  const fillUp = () => {
    const fill = join(stateDir, 'fill');
    try {
      writeFileSync(fill, Buffer.alloc(2 * 1024 * 1024));
    } catch (error) {
      expect((error as NodeJS.ErrnoException).code).toBe('ENOSPC');
    }
    return fill;
  };
  const noCrashOfOurs = () => expect(daemon.lines.filter((l) => /uncaught|unhandled|api request failed/.test(l.message))).toEqual([]);

  beforeAll(async () => {
    const sleeper = (id: string) => ({ id, type: 'exec', command: '/bin/sleep', args: ['300'] });
    setup = writeConfig({
      proxy: { monitor: { enable: true, check_interval: 1, restart_cooldown: 0, start_grace: 1 }, proxies: [sleeper('a'), sleeper('b')] },
      api: { listen: '127.0.0.1:0' },
    });
    stateDir = join(setup.dir, 'state');
    mkdirSync(stateDir);
    execFileSync('mount', ['-t', 'tmpfs', '-o', 'size=1m,mode=0700', 'tmpfs', stateDir]);
    daemon = startDaemon(setup.configFile, setup.dir);
    const line = await daemon.waitFor((l) => l.message === 'api listening', 30_000);
    url = line.url as string;
    await waitUntil(async () => (await proxy('a')).state === 'running' && (await proxy('b')).state === 'running', 15_000, 50);
  });

  afterAll(async () => {
    await daemon?.stop('SIGTERM');
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL');
      } catch {
        // gone already
      }
    }
    if (stateDir) execFileSync('umount', ['-l', stateDir]);
  });

  it('full: restarts go on, healthz is degraded, failures are counted, and the history is complete once space is freed', async () => {
    const fill = fillUp();

    const a = (await proxy('a')).pid;
    pids.add(a);
    process.kill(a, 'SIGKILL');
    await restartedFrom('a', a);

    const b = (await proxy('b')).pid;
    pids.add(b);
    const restart = await fetch(`${url}${API}/proxies/b/restart`, { method: 'POST' });
    expect(restart.status).toBe(200);
    await restartedFrom('b', b);

    await waitUntil(async () => (await health()).degraded?.length > 0, 10_000, 50);
    const degraded = await health();
    expect(degraded.ok).toBe(true); // supervision is fine: only the history is not being saved
    expect(degraded.degraded[0]).toMatch(/^state_dir not writable/);
    expect(await failedWrites()).toBeGreaterThan(0);
    expect(daemon.lines.some((l) => l.level === 'error' && /state.*not writable|cannot save/.test(l.message))).toBe(true);
    noCrashOfOurs();
    // The history read meanwhile shows what the disk has not taken yet.
    const held = async () => (await getJson(`${url}${API}/history`)).json.records as Array<{ proxy_id: string }>;
    await waitUntil(async () => (await held()).some((r) => r.proxy_id === 'a'), 10_000, 100);
    expect((await health()).degraded.length).toBeGreaterThan(0);

    rmSync(fill);
    await waitUntil(async () => (await health()).degraded.length === 0, 20_000, 100);
    // The operator's restart is recorded once verified (min_uptime after its new process started).
    await waitUntil(async () => (await getJson(`${url}${API}/history`)).json.records.length === 2, 10_000, 100);
    const history = (await getJson(`${url}${API}/history`)).json;
    // Both restarts are in the history: the crash's and the operator's (a manual restart is a restart).
    expect(history.records).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ proxy_id: 'a', reason: 'exited', success: true, manual: false }),
        expect.objectContaining({ proxy_id: 'b', reason: 'operator', success: true, manual: true }),
      ]),
    );
    expect(history.records).toHaveLength(2);
    // The operator's restart was audited while the disk was full: the audit row landed too.
    const db = new Database(join(stateDir, 'state.db'), { readonly: true });
    try {
      expect(db.prepare("SELECT proxy_id FROM audit WHERE action = 'proxy_restart'").pluck().all()).toEqual(['b']);
    } finally {
      db.close();
    }
  }, 60_000);

  it('full: a daemon killed meanwhile starts again on it, adopts the live proxies, restarts the dead one, and saves once space is freed', async () => {
    const fill = fillUp();
    const a = (await proxy('a')).pid;
    const b = (await proxy('b')).pid;
    await daemon.stop('SIGKILL');
    process.kill(a, 'SIGKILL'); // dies while no daemon watches it

    daemon = startDaemon(setup.configFile, setup.dir);
    const line = await daemon.waitFor((l) => l.message === 'api listening', 30_000);
    url = line.url as string;
    expect((await proxy('b')).pid).toBe(b); // adopted, not started again
    await restartedFrom('a', a);
    // Its writes may fit in the WAL's room (reused after each checkpoint) or be held: either way
    // nothing is lost, and the daemon neither stops nor fails.
    noCrashOfOurs();

    rmSync(fill);
    await waitUntil(async () => (await health()).degraded.length === 0, 20_000, 100);
    const history = (await getJson(`${url}${API}/proxies/a/history`)).json;
    expect(history.records[0]).toMatchObject({ proxy_id: 'a', reason: 'exited', success: true });
  }, 60_000);
});
