// A write the disk refuses (full, read-only) is held in memory, in order, and retried; it never
// throws into the caller (supervision, the API), is counted, and reported until it lands.
import { existsSync, mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logging/logger.ts';
import { createResilientStore, isStorageFault, type ResilientStore } from '../../src/store/resilient.ts';
import { openStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/types.ts';

const sqliteError = (code: string) =>
  Object.assign(new Error(code === 'SQLITE_FULL' ? 'database or disk is full' : 'attempt to write a readonly database'), { code });

function setup() {
  const inner = openStore(join(mkdtempSync(join(tmpdir(), 'pm-res-')), 'state'), { maxAgeMs: 86_400_000, maxRecords: 100 });
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  let fault: string | undefined;
  /** With a fault set, only this write is refused (all of them when unset). */
  let only: string | undefined;
  // The disk refuses every write while `fault` is set.
  const faulty: Store = new Proxy(inner, {
    get(target, key: keyof Store) {
      const value = target[key];
      if (
        typeof value !== 'function' ||
        ['restarts', 'audits', 'memory', 'processes', 'pendingSpawns', 'close', 'setRetention'].includes(key)
      ) {
        return typeof value === 'function' ? value.bind(target) : value;
      }
      return (...args: unknown[]) => {
        if (fault && (only === undefined || only === key)) throw sqliteError(fault);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const failures = vi.fn();
  const store = createResilientStore(faulty, { logger, onWriteFailure: failures, retryMs: 1_000 });
  const setFault = (code?: string, write?: string) => {
    fault = code;
    only = write;
  };
  return { store, inner, lines, failures, setFault };
}

afterEach(() => vi.useRealTimers());

describe('createResilientStore', () => {
  for (const code of ['SQLITE_FULL', 'SQLITE_READONLY']) {
    it(`${code}: holds writes in order without throwing, reports it, and saves them once the disk takes writes again`, () => {
      vi.useFakeTimers();
      const { store, inner, lines, failures, setFault } = setup();
      setFault(code);
      expect(() => {
        store.beginRestart({ proxyId: 'p', at: 1_000, reason: 'exited', manual: false });
        store.addRestart({ proxyId: 'p', at: 1_000, reason: 'exited', manual: false, success: true, durationMs: 5 });
        store.addAudit({ at: 2_000, user: 'api:127.0.0.1', action: 'proxy_restart', proxyId: 'p', detail: {} });
        store.setWanted('p', 'down');
        store.transaction(() => store.setOverride('p', false));
      }).not.toThrow();
      expect(failures).toHaveBeenCalled();
      expect(store.health()).toMatchObject({ writable: false, pending: 5 });
      expect(store.health().error).toContain(code);
      expect(
        lines.filter((l) => l.level === 'error' && l.message === 'state_dir not writable: holding writes in memory and retrying'),
      ).toHaveLength(1);

      vi.advanceTimersByTime(5_000); // still refused: kept, nothing lost
      expect(store.health().pending).toBe(5);
      setFault(undefined);
      vi.advanceTimersByTime(10_000);
      expect(store.health()).toMatchObject({ writable: true, pending: 0, error: null });
      expect(inner.restarts({})).toEqual([expect.objectContaining({ proxyId: 'p', success: true, durationMs: 5 })]);
      expect(inner.audits({})).toHaveLength(1);
      expect(inner.memory('p', 2_000)).toMatchObject({ wanted: 'down', override: false });
      expect(lines.some((l) => l.message === 'state_dir writable again: held writes saved' && l.saved === 5)).toBe(true);
      store.close();
    });
  }

  it('SQLITE_READONLY that outlasts its cause (a connection opened read-only): retried on a new connection', () => {
    vi.useFakeTimers();
    const inner = openStore(join(mkdtempSync(join(tmpdir(), 'pm-res-')), 'state'), { maxAgeMs: 86_400_000, maxRecords: 100 });
    const logger = createLogger({ level: 'silent' });
    // The connection opened read-only refuses every write, whatever the file's mode is now.
    const readOnly = new Proxy(inner, {
      get: (target, key: keyof Store) =>
        key === 'setWanted'
          ? () => {
              throw sqliteError('SQLITE_READONLY');
            }
          : typeof target[key] === 'function'
            ? (target[key] as (...a: unknown[]) => unknown).bind(target)
            : target[key],
    });
    const reopen = vi.fn(() => store.replace(inner));
    const store = createResilientStore(readOnly, { logger, reopen, retryMs: 1_000 });
    store.setWanted('p', 'down');
    expect(store.health()).toMatchObject({ writable: false, pending: 1 });
    vi.advanceTimersByTime(1_500);
    expect(reopen).toHaveBeenCalledTimes(1);
    expect(store.health()).toMatchObject({ writable: true, pending: 0 });
    expect(inner.memory('p', 0)).toMatchObject({ wanted: 'down' });
    store.close();
  });

  it('a write that fails for itself (not the disk) in a transaction does not take the others with it', () => {
    const { store, inner, lines, setFault } = setup();
    setFault('SQLITE_CONSTRAINT', 'setWanted');
    store.transaction(() => {
      store.setWanted('p', 'down');
      store.setOverride('p', false);
      store.addAudit({ at: 2_000, user: 'system', action: 'proxy_restart', proxyId: 'q', detail: {} });
    });
    expect(inner.memory('p', 2_000)).toMatchObject({ override: false });
    expect(inner.memory('p', 2_000).wanted).not.toBe('down');
    expect(inner.audits({})).toHaveLength(1);
    expect(store.health()).toMatchObject({ writable: true, pending: 0 });
    expect(lines.filter((l) => l.message === 'state write failed; not retried')).toHaveLength(1);
    store.close();
  });

  it('reminds once a minute while the disk stays full, not at every retry', () => {
    vi.useFakeTimers();
    const { store, lines, setFault } = setup();
    setFault('SQLITE_FULL');
    store.setWanted('p', 'down');
    const reminders = () => lines.filter((l) => l.message === 'state_dir still not writable');
    vi.advanceTimersByTime(59_000);
    expect(reminders()).toEqual([]);
    vi.advanceTimersByTime(2_000);
    expect(reminders()).toEqual([expect.objectContaining({ level: 'error', pending: 1, error: 'SQLITE_FULL: database or disk is full' })]);
    vi.advanceTimersByTime(60_000);
    expect(reminders()).toHaveLength(2);
    setFault(undefined);
    store.close();
  });

  it('holds at most 50 000 writes: the oldest are given up, said once; those left at close are said lost', () => {
    vi.useFakeTimers();
    const { store, lines, setFault } = setup();
    setFault('SQLITE_FULL');
    for (let i = 0; i < 50_003; i++) store.forgetSpawn(`t${i}`);
    expect(store.health()).toMatchObject({ writable: false, pending: 50_000, dropped: 3 });
    expect(lines.filter((l) => l.message === 'state_dir not writable for too long: the oldest held writes are being dropped')).toEqual([
      expect.objectContaining({ level: 'error', max_pending: 50_000 }),
    ]);
    store.close();
    expect(lines.filter((l) => l.message === 'stopping with writes the state_dir never took: they are lost')).toEqual([
      expect.objectContaining({ level: 'error', lost: 50_000, error: 'SQLITE_FULL: database or disk is full' }),
    ]);
  });

  it('saves the held writes at close when the disk takes them again, without waiting for the next retry', () => {
    vi.useFakeTimers();
    const { store, inner, lines, setFault } = setup();
    setFault('SQLITE_READONLY');
    store.setOverride('p', true);
    setFault(undefined);
    store.close();
    expect(lines.some((l) => l.message === 'state_dir writable again: held writes saved' && l.saved === 1)).toBe(true);
    expect(lines.some((l) => l.message === 'stopping with writes the state_dir never took: they are lost')).toBe(false);
    const reopened = openStore(inner.dir, { maxAgeMs: 86_400_000, maxRecords: 100 });
    expect(reopened.memory('p', 0).override).toBe(true);
    reopened.close();
  });

  it('takes the errors of a full, read-only or failing disk for storage faults, and nothing else', () => {
    const code = (c?: string) => Object.assign(new Error('x'), c === undefined ? {} : { code: c });
    for (const c of [
      'SQLITE_FULL',
      'SQLITE_IOERR_WRITE',
      'SQLITE_READONLY_DBMOVED',
      'SQLITE_BUSY',
      'SQLITE_CORRUPT',
      'ENOSPC',
      'EROFS',
      'EIO',
      'EDQUOT',
    ])
      expect(isStorageFault(code(c)), c).toBe(true);
    for (const c of [undefined, 'SQLITE_CONSTRAINT_UNIQUE', 'SQLITE_ERROR', 'ENOENT', 'EACCES', 'X_SQLITE_FULL', 'XENOSPC'])
      expect(isStorageFault(code(c)), String(c)).toBe(false);
  });

  it('passes every write and read through to the store underneath', () => {
    const { store, inner } = setup();
    const intent = { token: 't1', proxyId: 'p', command: '["/bin/true"]', fingerprint: 'f', at: 1 };
    store.recordSpawn(intent);
    expect(store.pendingSpawns()).toEqual([intent]);
    store.recordProcess({ ...intent, pid: 42, startTime: 7 });
    expect(store.processes()).toEqual([{ ...intent, pid: 42, startTime: 7 }]);
    store.forgetProcess('p', 42);
    expect(inner.processes()).toEqual([]);
    const stats = { checks: 3, restarts: 0, successes: 0, failures: 0 };
    store.saveCounters('p', { stats, consecutiveFailures: 0, lastFailureAt: null });
    expect(inner.memory('p', 1).stats).toEqual(stats);
    expect(store.dir).toBe(inner.dir);
    expect(store.inPlace()).toBe(true);
    const copy = join(inner.dir, 'copy.db');
    store.copyTo(copy);
    expect(existsSync(copy)).toBe(true);
    store.close();
  });

  it('names the refused write in its log line, with the state_dir and the error', () => {
    const writes: Array<[string, (store: ResilientStore) => void]> = [
      ['restart', (s) => s.addRestart({ proxyId: 'p', at: 1, reason: 'exited', manual: false, success: true, durationMs: 5 })],
      ['restart begun', (s) => s.beginRestart({ proxyId: 'p', at: 1, reason: 'exited', manual: false })],
      ['audit', (s) => s.addAudit({ at: 1, user: 'system', action: 'a', proxyId: null, detail: {} })],
      ['override', (s) => s.setOverride('p', true)],
      ['wanted', (s) => s.setWanted('p', 'down')],
      [
        'counters',
        (s) =>
          s.saveCounters('p', {
            stats: { checks: 1, restarts: 0, successes: 0, failures: 0 },
            consecutiveFailures: 0,
            lastFailureAt: null,
          }),
      ],
      ['spawn', (s) => s.recordSpawn({ token: 't', proxyId: 'p', command: '[]', fingerprint: 'f', at: 1 })],
      ['spawn forgotten', (s) => s.forgetSpawn('t')],
      ['process', (s) => s.recordProcess({ token: 't', proxyId: 'p', command: '[]', fingerprint: 'f', at: 1, pid: 1, startTime: 1 })],
      ['process forgotten', (s) => s.forgetProcess('p', 1)],
      ['transaction', (s) => s.transaction(() => s.setWanted('p', 'up'))],
    ];
    for (const [name, write] of writes) {
      const { store, inner, lines, setFault } = setup();
      setFault('SQLITE_FULL');
      write(store);
      expect(
        lines.find((l) => l.message === 'state_dir not writable: holding writes in memory and retrying'),
        name,
      ).toMatchObject({
        state_dir: inner.dir,
        error: 'SQLITE_FULL: database or disk is full',
        write: name,
      });
      setFault(undefined);
      store.close();
    }
  });

  it('a transaction is held whole: none of its writes lands while one of them is refused', () => {
    vi.useFakeTimers();
    const { store, inner, setFault } = setup();
    setFault('SQLITE_FULL', 'setWanted');
    store.transaction(() => {
      store.setOverride('p', false);
      store.setWanted('p', 'down');
    });
    expect(store.health().pending).toBe(1);
    expect(inner.memory('p', 1).override).toBeUndefined();
    setFault(undefined);
    vi.advanceTimersByTime(2_000);
    expect(inner.memory('p', 1)).toMatchObject({ override: false, wanted: 'down' });
    store.close();
  });

  it('history read while writes are held includes their restarts and audits, filtered and ordered as the store orders them', () => {
    vi.useFakeTimers();
    const { store, inner, setFault } = setup();
    const restart = (proxyId: string, at: number) => ({
      proxyId,
      at,
      reason: 'exited' as const,
      manual: false,
      success: true,
      durationMs: 5,
    });
    const audit = (proxyId: string, at: number) => ({ at, user: 'system', action: 'proxy_auto_restart', proxyId, detail: {} });
    store.addRestart(restart('p', 1_000));
    store.addAudit(audit('p', 1_000));
    setFault('SQLITE_FULL');
    // As the recorder writes a finished restart: in one transaction, held whole.
    store.transaction(() => {
      store.beginRestart({ proxyId: 'q', at: 2_000, reason: 'exited', manual: false });
      store.addRestart(restart('q', 2_000));
      store.addAudit(audit('q', 2_005));
    });
    store.addRestart(restart('p', 3_000));
    store.addAudit({ ...audit(null as unknown as string, 3_000), action: 'config_reload', proxyId: null });
    expect(inner.restarts({})).toHaveLength(1);
    expect(store.restarts({}).map((r) => [r.proxyId, r.at])).toEqual([
      ['p', 3_000],
      ['q', 2_000],
      ['p', 1_000],
    ]);
    expect(store.restarts({ proxyId: 'p', limit: 2 }).map((r) => r.at)).toEqual([3_000, 1_000]);
    expect(store.restarts({ since: 2_000 }).map((r) => r.at)).toEqual([3_000, 2_000]);
    expect(store.restarts({ limit: 1 }).map((r) => r.at)).toEqual([3_000]);
    expect(store.audits({}).map((a) => a.at)).toEqual([3_000, 2_005, 1_000]);
    expect(store.audits({ action: 'config_reload' }).map((a) => a.proxyId)).toEqual([null]);
    expect(store.audits({ proxyId: 'q' }).map((a) => a.at)).toEqual([2_005]);
    // Once saved, each is read from the disk, once.
    setFault(undefined);
    vi.advanceTimersByTime(2_000);
    expect(store.health().pending).toBe(0);
    expect(store.restarts({}).map((r) => r.at)).toEqual([3_000, 2_000, 1_000]);
    expect(store.audits({}).map((a) => a.at)).toEqual([3_000, 2_005, 1_000]);
    store.close();
  });

  it('a write that fails for another reason (a bug) is logged and dropped, not retried forever', () => {
    const { store, lines } = setup();
    expect(() =>
      store.transaction(() => {
        throw new TypeError('boom');
      }),
    ).not.toThrow();
    expect(store.health()).toMatchObject({ writable: true, pending: 0 });
    expect(lines.find((l) => l.message === 'state write failed; not retried')).toMatchObject({
      level: 'error',
      write: 'transaction',
      err: expect.objectContaining({ message: 'boom' }),
    });
    store.close();
  });
});
