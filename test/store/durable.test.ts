// The durable state as the daemon wires it (src/store/durable.ts), in this process: a state_dir
// open to others is tightened and said so; a deleted state_dir is recreated with its lock and the
// history held open; one that another daemon locked first stops this one; a refused write shows in
// /healthz's `degraded`; a reload applies the new retention and says a new state_dir waits for a
// restart. The child-process tests (state-dir-deleted, storage-faults) cover the same end to end,
// but run dist/, where a mutant of these sources cannot be seen.
import { chmodSync, existsSync, mkdirSync, mkdtempSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { parseConfigText } from '../../src/config/load.ts';
import { createLogger } from '../../src/logging/logger.ts';
import { openDurableState, type DurableState } from '../../src/store/durable.ts';
import { LOCK_FILE } from '../../src/store/lock.ts';
import { openStore } from '../../src/store/sqlite.ts';
import { watchStateDir } from '../../src/store/watch.ts';
import { waitUntil } from '../support/daemon.ts';

const T0 = Date.UTC(2026, 0, 1);
const opened: Array<{ close(): void }> = [];
afterEach(() => {
  for (const it of opened.splice(0).reverse()) it.close();
});

function config(stateDir: string, history = 'max_age: 2592000\n  max_records: 1000') {
  return parseConfigText(`state_dir: ${stateDir}\nhistory:\n  ${history}\n`, '/etc/pm.yaml').config;
}

function open(stateDir: string) {
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  const lost = vi.fn();
  const failures = vi.fn();
  const state: DurableState = openDurableState({
    config: config(stateDir),
    now: () => T0,
    logger,
    redact: () => (text) => text.replaceAll('hunter2', '[REDACTED]'),
    onWriteFailure: failures,
    onLost: lost,
  });
  opened.push(state);
  const said = (message: string) => lines.filter((l) => l.message === message);
  return { state, lines, said, lost, failures };
}

const stateDirOf = () => join(mkdtempSync(join(tmpdir(), 'pm-durable-')), 'state');

/** Gone from its path at once, as `rm -rf` leaves it (a recursive rm would race with the recreation). */
function deleteDir(dir: string) {
  renameSync(dir, `${dir}.deleted`);
  rmSync(`${dir}.deleted`, { recursive: true, force: true });
}

describe('openDurableState', () => {
  it('tightens a state_dir and generated/ open to others to 0700, with one warn line each naming the old mode', () => {
    const dir = stateDirOf();
    mkdirSync(join(dir, 'generated'), { recursive: true });
    chmodSync(dir, 0o777);
    chmodSync(join(dir, 'generated'), 0o755);
    const { said } = open(dir);
    expect(statSync(dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(dir, 'generated')).mode & 0o777).toBe(0o700);
    expect(said('directory was open to group or others: changed to 0700')).toEqual([
      expect.objectContaining({ level: 'warn', dir, mode: '0777', hardening: true }),
      expect.objectContaining({ level: 'warn', dir: join(dir, 'generated'), mode: '0755', hardening: true }),
    ]);
  });

  it('says nothing of a state_dir already private, and remembers what it records', async () => {
    const dir = stateDirOf();
    const { state, said, lost } = open(dir);
    expect(said('directory was open to group or others: changed to 0700')).toEqual([]);
    expect(state.open()).toBe(true);
    expect(state.degraded()).toEqual([]);
    state.store.beginRestart({ proxyId: 'ss-1', at: T0 - 1_000, reason: 'exited', manual: false });
    expect(state.memory('ss-1')).toMatchObject({ attempts: [T0 - 1_000], lastAttemptAt: T0 - 1_000 });
    // `now` is the clock given: an attempt an hour before it is out of the window.
    state.store.beginRestart({ proxyId: 'ss-2', at: T0 - 3_600_001, reason: 'exited', manual: false });
    expect(state.memory('ss-2').attempts).toEqual([]);
    // Past a poll of the watch, with writes in the directory: a state_dir in place is not taken for deleted.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(said('state_dir was deleted while running: recreating it')).toEqual([]);
    expect(lost).not.toHaveBeenCalled();
    expect(state.open()).toBe(true);
  });

  it('a write the disk refuses shows in degraded() until it lands; it is counted', () => {
    const { state, failures } = open(stateDirOf());
    let refuse = true;
    // Refused as the disk refuses it: while the write runs (its detail is serialized inside it).
    const detail = {
      toJSON: () => {
        if (refuse) throw Object.assign(new Error('database or disk is full'), { code: 'SQLITE_FULL' });
        return {};
      },
    };
    state.store.addAudit({ at: T0, user: 'system', action: 'a', proxyId: null, detail });
    expect(failures).toHaveBeenCalledTimes(1);
    expect(state.degraded()).toEqual([
      'state_dir not writable: SQLITE_FULL: database or disk is full (1 writes held in memory and retried)',
    ]);
    refuse = false;
  });

  it('a reload applies the new retention at once, and a new state_dir only at the next start', () => {
    const dir = stateDirOf();
    const { state } = open(dir);
    for (let i = 0; i < 5; i++) state.store.addAudit({ at: T0 + i, user: 'system', action: 'a', proxyId: null, detail: { i } });
    state.reload(config(`${dir}-other`, 'max_age: 3600\n  max_records: 3'));
    // max_age is in seconds: half an hour later, an hour's worth of history is all kept, up to max_records.
    state.store.addAudit({ at: T0 + 1_800_000, user: 'system', action: 'a', proxyId: null, detail: { i: 5 } });
    expect(state.store.audits({}).map((a) => a.detail.i)).toEqual([5, 4, 3]);
    expect(existsSync(`${dir}-other`)).toBe(false);
  });

  it('recreates a deleted state_dir with its lock and the history it held open; later writes land there', async () => {
    const dir = stateDirOf();
    const { state, said } = open(dir);
    state.store.addRestart({ proxyId: 'ss-1', at: T0, reason: 'exited', manual: false, success: true, durationMs: 40 });
    // A restart in flight while the directory goes: it is still this daemon's, not interrupted.
    state.store.beginRestart({ proxyId: 'ss-2', at: T0, reason: 'exited', manual: false });
    deleteDir(dir);
    await waitUntil(() => said('state_dir recreated: lock taken again, history copied from the database held open').length === 1);
    expect(said('state_dir was deleted while running: recreating it')).toEqual([
      expect.objectContaining({ level: 'error', state_dir: dir }),
    ]);
    expect(said('state_dir recreated: lock taken again, history copied from the database held open')).toEqual([
      expect.objectContaining({ level: 'warn', state_dir: dir }),
    ]);
    expect(state.open()).toBe(true);
    expect(readFileSync(join(dir, 'daemon.pid'), 'utf8')).toBe(`${process.pid}\n`);
    // The copy is the database now, as private as the first one (VACUUM INTO creates it 0644).
    expect(statSync(join(dir, 'state.db')).mode & 0o777).toBe(0o600);
    state.store.addRestart({ proxyId: 'ss-2', at: T0, reason: 'exited', manual: false, success: true, durationMs: 5_000 });
    expect(state.store.restarts({ proxyId: 'ss-2' })).toEqual([expect.objectContaining({ success: true, durationMs: 5_000 })]);
    expect(() => openStore(dir, { maxAgeMs: 1, maxRecords: 1 })).toThrow(/in use by another proxy-monitor/);
    state.store.addRestart({ proxyId: 'ss-1', at: T0 + 1, reason: 'exited', manual: false, success: false, durationMs: 5 });
    expect(state.store.restarts({ proxyId: 'ss-1' }).map((r) => r.at)).toEqual([T0 + 1, T0]);
    // Deleted again: the watch was re-armed on the new directory.
    deleteDir(dir);
    await waitUntil(() => said('state_dir recreated: lock taken again, history copied from the database held open').length === 2);
    expect(state.store.restarts({ proxyId: 'ss-1' })).toHaveLength(2);
    expect(existsSync(join(dir, LOCK_FILE))).toBe(true);
    // Closed: the lock is free for the next daemon, which finds the whole history.
    state.close();
    expect(state.open()).toBe(false);
    const next = openStore(dir, { maxAgeMs: 86_400_000 * 30, maxRecords: 10 });
    opened.push(next);
    expect(next.restarts({ proxyId: 'ss-1' })).toHaveLength(2);
  });

  it('puts state.db back when it alone is deleted (rm state.db*), with the history it held open; later writes land there', async () => {
    const dir = stateDirOf();
    const { state, said, lost } = open(dir);
    state.store.addRestart({ proxyId: 'ss-1', at: T0, reason: 'exited', manual: false, success: true, durationMs: 40 });
    for (const suffix of ['', '-wal', '-shm']) rmSync(join(dir, `state.db${suffix}`), { force: true });
    await waitUntil(() => said('state.db restored from the database held open').length === 1);
    expect(said('state.db was deleted while running: putting back the database held open')).toEqual([
      expect.objectContaining({ level: 'error', state_dir: dir }),
    ]);
    expect(statSync(join(dir, 'state.db')).mode & 0o777).toBe(0o600);
    state.store.addRestart({ proxyId: 'ss-1', at: T0 + 1, reason: 'exited', manual: false, success: false, durationMs: 5 });
    expect(state.open()).toBe(true);
    expect(lost).not.toHaveBeenCalled();
    // Past a poll: in place now, not restored again.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(said('state.db restored from the database held open')).toHaveLength(1);
    state.close();
    const next = openStore(dir, { maxAgeMs: 86_400_000 * 30, maxRecords: 10 });
    opened.push(next);
    expect(next.restarts({ proxyId: 'ss-1' }).map((r) => r.at)).toEqual([T0 + 1, T0]);
  });

  it('puts state.db back when its WAL alone is deleted: the commits it held survive a kill -9 after', async () => {
    const dir = stateDirOf();
    const { state, said } = open(dir);
    state.store.addRestart({ proxyId: 'ss-1', at: T0, reason: 'exited', manual: false, success: true, durationMs: 40 });
    rmSync(join(dir, 'state.db-wal'));
    await waitUntil(() => said('state.db restored from the database held open').length === 1);
    state.store.addRestart({ proxyId: 'ss-1', at: T0 + 1, reason: 'exited', manual: false, success: false, durationMs: 5 });
    // What a kill -9 would leave now: the files as they are, the connection never closed.
    const after = stateDirOf();
    mkdirSync(after, { recursive: true });
    for (const name of ['state.db', 'state.db-wal'])
      if (existsSync(join(dir, name))) writeFileSync(join(after, name), readFileSync(join(dir, name)));
    const next = openStore(after, { maxAgeMs: 86_400_000 * 30, maxRecords: 10 });
    opened.push(next);
    expect(next.restarts({ proxyId: 'ss-1' }).map((r) => r.at)).toEqual([T0 + 1, T0]);
    state.close();
  });

  it('a state_dir it cannot recreate yet (a file in its place) is tried again, not given up', async () => {
    const dir = stateDirOf();
    const { state, said, lost } = open(dir);
    deleteDir(dir);
    writeFileSync(dir, 'in the way');
    await waitUntil(() => said('cannot recreate state_dir; trying again').length > 0);
    expect(said('cannot recreate state_dir; trying again')[0]).toMatchObject({
      level: 'error',
      state_dir: dir,
      error: expect.stringContaining(`cannot create state directory ${dir}`),
    });
    expect(lost).not.toHaveBeenCalled();
    expect(state.degraded()).toEqual([expect.stringMatching(/^state_dir deleted and not recreated yet \(cannot create state directory/)]);
    // Tried at every poll (and file event), said once: not two lines a second for as long as it lasts.
    await new Promise((resolve) => setTimeout(resolve, 2_500));
    expect(said('cannot recreate state_dir; trying again')).toHaveLength(1);
    expect(said('state_dir was deleted while running: recreating it')).toHaveLength(1);
    rmSync(dir);
    await waitUntil(() => said('state_dir recreated: lock taken again, history copied from the database held open').length === 1);
    expect(state.open()).toBe(true);
    expect(state.degraded()).toEqual([]);
  });

  it('stores errors through the redactor of the moment', () => {
    const { state } = open(stateDirOf());
    const counters = { stats: { checks: 0, restarts: 1, successes: 0, failures: 1 }, consecutiveFailures: 1, lastFailureAt: T0 };
    const record = { at: T0, reason: 'exited', manual: false, success: false, durationMs: 5, error: 'bad password hunter2' } as const;
    state.record({ type: 'restart_finished', proxyId: 'ss-1', proxyType: 'exec', counters, record });
    expect(state.store.restarts({})[0].error).toBe('bad password [REDACTED]');
    state.record({
      type: 'check_finished',
      proxyId: 'ss-1',
      proxyType: 'exec',
      at: T0 + 1,
      ok: true,
      durationMs: 1,
      counters: { ...counters, stats: { ...counters.stats, checks: 1 } },
    });
    state.onCheckRound();
    expect(state.memory('ss-1').stats?.checks).toBe(1);
  });

  it('stops (onLost) when another daemon locked the recreated state_dir first, and does not try again', async () => {
    const dir = stateDirOf();
    const { state, said, lost } = open(dir);
    deleteDir(dir);
    // In the same tick, before the watch can run: another daemon takes the path.
    const other = openStore(dir, { maxAgeMs: 86_400_000, maxRecords: 10 });
    opened.push(other);
    await waitUntil(() => lost.mock.calls.length > 0);
    expect(lost).toHaveBeenCalledWith(expect.stringMatching(`state directory ${dir} is in use by another proxy-monitor`));
    expect(state.open()).toBe(false);
    expect(said('another proxy-monitor took the recreated state_dir: stopping this one, so that no proxy runs twice')).toEqual([
      expect.objectContaining({ level: 'error', state_dir: dir }),
    ]);
    // The other daemon's pid file and lock are left alone, and nothing more is tried.
    await new Promise((resolve) => setTimeout(resolve, 1_200));
    expect(lost).toHaveBeenCalledTimes(1);
    expect(said('state_dir was deleted while running: recreating it')).toHaveLength(1);
    expect(readFileSync(join(dir, 'daemon.pid'), 'utf8')).toBe(`${process.pid}\n`);
  });
});

describe('watchStateDir', () => {
  it('notices a change no file event announces by polling, and nothing once closed', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-watch-'));
    let inPlace = true;
    const gone = vi.fn();
    const watch = watchStateDir(dir, () => inPlace, gone, 20);
    await new Promise((resolve) => setTimeout(resolve, 60));
    expect(gone).not.toHaveBeenCalled();
    inPlace = false;
    await waitUntil(() => gone.mock.calls.length > 0, 2_000);
    watch.close();
    const calls = gone.mock.calls.length;
    await new Promise((resolve) => setTimeout(resolve, 100));
    expect(gone).toHaveBeenCalledTimes(calls);
  });

  it('watches a directory already gone by polling alone, and closes cleanly', async () => {
    const gone = vi.fn();
    const watch = watchStateDir(join(tmpdir(), 'pm-watch-no-such-dir'), () => false, gone, 20);
    await waitUntil(() => gone.mock.calls.length > 0, 2_000);
    expect(() => watch.close()).not.toThrow();
  });

  it('notices a file event at once, long before its poll', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'pm-watch-'));
    let inPlace = true;
    const gone = vi.fn();
    const watch = watchStateDir(dir, () => inPlace, gone, 60_000);
    opened.push(watch);
    inPlace = false;
    rmSync(dir, { recursive: true });
    await waitUntil(() => gone.mock.calls.length > 0, 5_000);
  });
});
