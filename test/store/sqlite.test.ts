import Database from 'better-sqlite3';
import {
  closeSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  openSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  truncateSync,
  writeFileSync,
  writeSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { HOUR_MS } from '../../machines/proxy/policy.ts';
import { StateDirError } from '../../src/store/lock.ts';
import { DATABASE_FILE, openStore } from '../../src/store/sqlite.ts';
import { MIGRATIONS } from '../../src/store/schema.ts';
import { INTERRUPTED, type RestartRow, type Retention, type Store } from '../../src/store/types.ts';

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const roomy: Retention = { maxAgeMs: 30 * 24 * HOUR_MS, maxRecords: 10_000 };

const opened: Store[] = [];
afterEach(() => {
  for (const store of opened.splice(0)) store.close();
});

function open(dir = mkdtempSync(join(tmpdir(), 'pm-store-')), retention = roomy): Store {
  const store = openStore(join(dir, 'state'), retention);
  opened.push(store);
  return store;
}

function restart(proxyId: string, at: number, extra: Partial<RestartRow> = {}): RestartRow {
  return { proxyId, at, reason: 'exited', manual: false, success: true, durationMs: 40, ...extra };
}

describe('opening', () => {
  it('creates the state dir 0700 and a WAL database 0600', () => {
    const store = open();
    const file = join(store.dir, DATABASE_FILE);
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
    expect(statSync(file).mode & 0o777).toBe(0o600);
    const reader = new Database(file, { readonly: true });
    expect(reader.pragma('journal_mode', { simple: true })).toBe('wal');
    reader.close();
  });

  it('refuses a second store on the same directory, naming it and the holder, until the first closes', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-store-'));
    const first = open(dir);
    expect(() => openStore(join(dir, 'state'), roomy)).toThrow(StateDirError);
    expect(() => openStore(join(dir, 'state'), roomy)).toThrow(
      `state directory ${first.dir} is in use by another proxy-monitor (pid ${process.pid})`,
    );
    first.close();
    const second = open(dir);
    second.addRestart(restart('ss-1', T0));
    expect(second.restarts({})).toHaveLength(1);
  });

  it('refuses a database written by a newer schema, and an unusable directory, with one line', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-store-'));
    open(dir).close();
    const db = new Database(join(dir, 'state', DATABASE_FILE));
    db.pragma('user_version = 99');
    db.close();
    expect(() => openStore(join(dir, 'state'), roomy)).toThrow(
      new StateDirError(
        `state database ${join(dir, 'state', DATABASE_FILE)} was written by a newer proxy-monitor (schema 99, this one knows ${MIGRATIONS.length})`,
      ),
    );
    const file = join(dir, 'a-file');
    writeFileSync(file, '');
    expect(() => openStore(join(file, 'state'), roomy)).toThrow(`cannot create state directory ${file}/state: ENOTDIR`);
    // Node's recursive mkdir never returns for this one (it loops on the main thread).
    expect(() => openStore('/proc/no-such-dir/state', roomy)).toThrow(
      "cannot create state directory /proc/no-such-dir/state: ENOENT: no such file or directory, mkdir '/proc/no-such-dir'",
    );
  });

  it('refuses a database damaged inside (a page overwritten) at open, not in the middle of a restart', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-store-'));
    const first = open(dir);
    for (let i = 0; i < 500; i++) first.addRestart(restart(`proxy-with-a-longish-name-${i}`, T0 + i, { error: 'x'.repeat(40) }));
    first.close();
    const file = join(dir, 'state', DATABASE_FILE);
    const fd = openSync(file, 'r+');
    writeSync(fd, Buffer.alloc(4096, 0x5a), 0, 4096, 4096 * 3);
    closeSync(fd);
    expect(() => openStore(join(dir, 'state'), roomy)).toThrow(/^state database .* is damaged \(/);
  });

  it('refuses an empty state.db (truncated, zeroed) as damaged, rather than take it for no history; a new one is never empty', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-store-'));
    open(dir).close();
    const file = join(dir, 'state', DATABASE_FILE);
    expect(statSync(file).size).toBeGreaterThan(0);
    expect(readdirSync(join(dir, 'state')).filter((name) => name.includes('.new-'))).toEqual([]);
    truncateSync(file, 0);
    expect(() => openStore(join(dir, 'state'), roomy)).toThrow(/^state database .* is damaged \(the file is empty \(0 bytes\)/);
  });

  it('a new state.db does not take in the WAL of one deleted beside it (rm state.db after a kill): the history stays gone', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-store-'));
    const file = join(dir, 'state', DATABASE_FILE);
    const first = open(dir);
    first.addAudit({ at: T0, user: 'api:127.0.0.1', action: 'proxy_stop', proxyId: 'ss-1', detail: {} });
    const wal = readFileSync(`${file}-wal`); // as a SIGKILLed daemon leaves it, before a checkpoint
    first.close();
    rmSync(file);
    writeFileSync(`${file}-wal`, wal);
    expect(open(dir).audits({})).toEqual([]);
  });

  it('leaves no half-made database behind when it cannot make one', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-store-'));
    // Where SQLite would write the new database's journal: making the schema fails (as on a full disk).
    mkdirSync(join(dir, 'state', `${DATABASE_FILE}.new-${process.pid}-journal`, 'in-the-way'), { recursive: true });
    expect(() => openStore(join(dir, 'state'), roomy)).toThrow(/^cannot open state database /);
    expect(existsSync(join(dir, 'state', `${DATABASE_FILE}.new-${process.pid}`))).toBe(false);
  });

  it('says what else keeps it from opening the database, without calling it damaged', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-store-'));
    mkdirSync(join(dir, 'state', DATABASE_FILE), { recursive: true });
    expect(() => openStore(join(dir, 'state'), roomy)).toThrow(
      new RegExp(`^cannot open state database ${join(dir, 'state', DATABASE_FILE)}: EISDIR`),
    );
    // The lock was released on the way out: the directory is free again.
    rmSync(join(dir, 'state', DATABASE_FILE), { recursive: true });
    open(dir);
  });

  it('removes its pid file when it closes', () => {
    const store = open();
    expect(existsSync(join(store.dir, 'daemon.pid'))).toBe(true);
    store.close();
    expect(existsSync(join(store.dir, 'daemon.pid'))).toBe(false);
  });

  it('keeps every committed row across a reopen', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-store-'));
    const first = open(dir);
    first.addRestart(restart('ss-1', T0));
    first.addAudit({ at: T0, user: 'api:127.0.0.1', action: 'proxy_disable', proxyId: 'ss-1', detail: { why: 'maintenance' } });
    first.setOverride('ss-1', false);
    first.close();
    const second = open(dir);
    expect(second.restarts({})).toEqual([restart('ss-1', T0)]);
    expect(second.audits({})).toEqual([
      { at: T0, user: 'api:127.0.0.1', action: 'proxy_disable', proxyId: 'ss-1', detail: { why: 'maintenance' } },
    ]);
    expect(second.memory('ss-1', T0).override).toBe(false);
  });
});

describe('history', () => {
  it('answers newest first, by proxy, since a time, up to a limit, without restarts in flight', () => {
    const store = open();
    store.addRestart(restart('ss-1', T0));
    store.addRestart(restart('ss-2', T0 + MIN, { success: false, error: 'spawn /x ENOENT' }));
    store.addRestart(restart('ss-1', T0 + 2 * MIN, { manual: true, reason: 'operator' }));
    store.beginRestart({ proxyId: 'ss-1', at: T0 + 3 * MIN, reason: 'exited', manual: false });
    expect(store.restarts({}).map((r) => r.at)).toEqual([T0 + 2 * MIN, T0 + MIN, T0]);
    expect(store.restarts({ proxyId: 'ss-1' }).map((r) => r.at)).toEqual([T0 + 2 * MIN, T0]);
    expect(store.restarts({ since: T0 + MIN })).toHaveLength(2);
    expect(store.restarts({ limit: 1 })[0]).toEqual(restart('ss-1', T0 + 2 * MIN, { manual: true, reason: 'operator' }));
    expect(store.restarts({ proxyId: 'ss-2' })[0].error).toBe('spawn /x ENOENT');
  });

  it('completes a begun restart in place rather than adding a second row', () => {
    const store = open();
    store.beginRestart({ proxyId: 'ss-1', at: T0, reason: 'health_check_failed', manual: false });
    store.addRestart(restart('ss-1', T0, { reason: 'health_check_failed', durationMs: 120 }));
    expect(store.restarts({})).toEqual([restart('ss-1', T0, { reason: 'health_check_failed', durationMs: 120 })]);
    expect(store.memory('ss-1', T0).attempts).toEqual([T0]);
  });
});

describe('retention', () => {
  it('prunes past max_records as rows come in, but never a restart inside the hourly window', () => {
    const store = open(undefined, { maxAgeMs: 30 * 24 * HOUR_MS, maxRecords: 3 });
    const old = T0 - 20 * HOUR_MS;
    for (let i = 0; i < 10; i++) store.addRestart(restart('ss-1', old + i * HOUR_MS));
    expect(store.restarts({}).map((r) => r.at)).toEqual([9, 8, 7].map((i) => old + i * HOUR_MS));
    // Five restarts inside the window: all kept (the cap counts them); the old ones go.
    for (let i = 0; i < 5; i++) store.addRestart(restart('ss-1', T0 + i * MIN));
    expect(store.restarts({}).map((r) => r.at)).toEqual([4, 3, 2, 1, 0].map((i) => T0 + i * MIN));
    expect(store.memory('ss-1', T0 + 5 * MIN).attempts).toHaveLength(5);
  });

  it('prunes past max_age, which never reaches into the hourly window', () => {
    const store = open(undefined, { maxAgeMs: 10 * MIN, maxRecords: 1000 });
    store.addRestart(restart('ss-1', T0 - 2 * HOUR_MS));
    store.addRestart(restart('ss-1', T0 - 30 * MIN));
    store.addRestart(restart('ss-1', T0));
    expect(store.restarts({}).map((r) => r.at)).toEqual([T0, T0 - 30 * MIN]);
  });

  it('bounds the audit log by max_records and max_age, with retention changes applied to the next row', () => {
    const store = open(undefined, { maxAgeMs: HOUR_MS, maxRecords: 5 });
    for (let i = 0; i < 20; i++) store.addAudit({ at: T0 + i, user: 'system', action: 'a', proxyId: null, detail: { i } });
    expect(store.audits({}).map((a) => a.detail.i)).toEqual([19, 18, 17, 16, 15]);
    store.setRetention({ maxAgeMs: HOUR_MS, maxRecords: 2 });
    store.addAudit({ at: T0 + 2 * HOUR_MS, user: 'system', action: 'a', proxyId: null, detail: { i: 20 } });
    expect(store.audits({}).map((a) => a.detail.i)).toEqual([20]);
  });
});

describe('memory', () => {
  it('is empty for a proxy never seen', () => {
    expect(open().memory('new', T0)).toEqual({ attempts: [], lastAttemptAt: null, lastRestart: null });
  });

  it('counts automatic attempts inside the window, the latest attempt of any kind, the last outcome', () => {
    const store = open();
    store.addRestart(restart('ss-1', T0 - 2 * HOUR_MS));
    store.addRestart(restart('ss-1', T0 - 30 * MIN, { success: false, error: 'not ready' }));
    store.addRestart(restart('ss-1', T0 - 20 * MIN));
    store.addRestart(restart('ss-1', T0 - 10 * MIN, { manual: true, reason: 'operator' }));
    store.addRestart(restart('ss-2', T0 - 5 * MIN));
    const memory = store.memory('ss-1', T0);
    expect(memory.attempts).toEqual([T0 - 30 * MIN, T0 - 20 * MIN]);
    expect(memory.lastAttemptAt).toBe(T0 - 10 * MIN);
    expect(memory.lastRestart).toEqual({ at: T0 - 10 * MIN, reason: 'operator', manual: true, success: true, durationMs: 40 });
    // The window slides: the attempts leave it an hour after they were made.
    expect(store.memory('ss-1', T0 + 31 * MIN).attempts).toEqual([T0 - 20 * MIN]);
    expect(store.memory('ss-1', T0 + 40 * MIN).attempts).toEqual([]);
  });

  it('restores counters, the override and operator intent', () => {
    const store = open();
    const stats = { checks: 120, restarts: 4, successes: 3, failures: 1 };
    store.saveCounters('ss-1', { stats, consecutiveFailures: 1, lastFailureAt: T0 - MIN });
    store.setOverride('ss-1', false);
    store.setWanted('ss-1', 'down');
    expect(store.memory('ss-1', T0)).toMatchObject({
      stats,
      consecutiveFailures: 1,
      lastFailureAt: T0 - MIN,
      override: false,
      wanted: 'down',
    });
    store.setOverride('ss-1', null);
    store.setWanted('ss-1', 'up');
    expect(store.memory('ss-1', T0)).toMatchObject({ stats, override: null, wanted: 'up' });
    // Every proxy's counters at once (a proxy removed from the config keeps its row): the monitor's totals.
    store.setWanted('gone', 'down');
    expect(store.stats()).toEqual({ 'ss-1': stats, gone: { checks: 0, restarts: 0, successes: 0, failures: 0 } });
  });

  it('keeps the crash a proxy is down after, through its restart in flight, for the next start', () => {
    const store = open();
    const crash = { kind: 'health_check_failed' as const, reason: 'health check failed 3 times in a row' };
    store.setPhase('ss-1', 'running');
    expect(store.memory('ss-1', T0).carriedCrash).toBeNull();
    store.setPhase('ss-1', 'crashed', crash);
    expect(store.memory('ss-1', T0).carriedCrash).toEqual(crash);
    store.setPhase('ss-1', 'restarting'); // the restart of that crash: still down after it
    expect(store.memory('ss-1', T0).carriedCrash).toEqual({ ...crash, restarting: true });
    store.setPhase('ss-1', 'running');
    expect(store.memory('ss-1', T0).carriedCrash).toBeNull();
    // A restart of a crashed proxy begun marks it restarting (the state change is not written).
    store.setPhase('ss-1', 'crashed', crash);
    store.beginRestart({ proxyId: 'ss-1', at: T0, reason: 'health_check_failed', manual: false });
    expect(store.memory('ss-1', T0).carriedCrash).toEqual({ ...crash, restarting: true });
    // A proxy no longer configured has no state to carry over, should it be put back later.
    store.setPhase('ss-1', 'crashed', crash);
    store.setPhase('gone', 'crashed', crash);
    store.keepPhases(['ss-1']);
    expect(store.memory('ss-1', T0).carriedCrash).toEqual(crash);
    expect(store.memory('gone', T0).carriedCrash).toBeNull();
  });

  it('counts a restart in flight against the cap, and one a dead daemon left unfinished as failed', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-store-'));
    const first = open(dir);
    first.saveCounters('ss-1', {
      stats: { checks: 5, restarts: 1, successes: 1, failures: 0 },
      consecutiveFailures: 0,
      lastFailureAt: null,
    });
    first.beginRestart({ proxyId: 'ss-1', at: T0, reason: 'exited', manual: false });
    expect(first.memory('ss-1', T0).attempts).toEqual([T0]);
    first.close();

    const second = open(dir);
    // As a daemon starting on it does; it logs what it returns.
    expect(second.finishInterruptedRestarts()).toEqual([{ proxyId: 'ss-1', at: T0, reason: 'exited' }]);
    expect(second.finishInterruptedRestarts()).toEqual([]);
    expect(second.restarts({})).toEqual([restart('ss-1', T0, { success: false, durationMs: 0, error: INTERRUPTED })]);
    expect(second.memory('ss-1', T0 + MIN)).toMatchObject({
      attempts: [T0],
      lastAttemptAt: T0,
      stats: { checks: 5, restarts: 2, successes: 1, failures: 1 },
    });
  });
});

describe('space', () => {
  it('keeps its WAL small: check rounds do not grow it past ~1 MiB (the default: ~4 MiB), and checkpoint() empties it', () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-store-'));
    const store = open(dir);
    const wal = () => statSync(join(dir, 'state', `${DATABASE_FILE}-wal`)).size;
    for (let round = 0; round < 6_000; round++) {
      store.saveCounters(`ss-${round % 20}`, {
        stats: { checks: round, restarts: 0, successes: 0, failures: 0 },
        consecutiveFailures: 0,
        lastFailureAt: null,
      });
      // The default settings grew it to ~4 MiB (1000 pages) before the first checkpoint.
      expect(wal()).toBeLessThan(1.5 * 2 ** 20);
    }
    store.checkpoint();
    expect(wal()).toBe(0);
  });
});

describe('processes', () => {
  const intent = (token: string, proxyId = 'ss-1') => ({ token, proxyId, command: '["/usr/bin/ss-server"]', fingerprint: 'f', at: T0 });

  it('records a spawn before its pid, then the pid, and forgets the process on exit', () => {
    const store = open();
    store.recordSpawn(intent('t1'));
    expect(store.pendingSpawns()).toEqual([intent('t1')]);
    expect(store.processes()).toEqual([]);
    store.recordProcess({ ...intent('t1'), pid: 4242, startTime: 777 });
    expect(store.pendingSpawns()).toEqual([]);
    expect(store.processes()).toEqual([{ ...intent('t1'), pid: 4242, startTime: 777 }]);
    store.forgetProcess('ss-1', 4242);
    expect(store.processes()).toEqual([]);
  });

  it('keeps one unconfirmed spawn per proxy: an older one failed before it had a pid', () => {
    const store = open();
    store.recordSpawn(intent('t1'));
    store.recordSpawn(intent('t2', 'ss-2'));
    store.recordSpawn(intent('t3'));
    expect(
      store
        .pendingSpawns()
        .map((s) => s.token)
        .sort(),
    ).toEqual(['t2', 't3']);
    store.forgetSpawn('t2');
    expect(store.pendingSpawns().map((s) => s.token)).toEqual(['t3']);
  });
});
