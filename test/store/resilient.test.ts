// A write the disk refuses (full, read-only) is held in memory, in order, and retried; it never
// throws into the caller (supervision, the API), is counted, and reported until it lands.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { createLogger } from '../../src/logging/logger.ts';
import { createResilientStore } from '../../src/store/resilient.ts';
import { openStore } from '../../src/store/sqlite.ts';
import type { Store } from '../../src/store/types.ts';

const sqliteError = (code: string) =>
  Object.assign(new Error(code === 'SQLITE_FULL' ? 'database or disk is full' : 'attempt to write a readonly database'), { code });

function setup() {
  const inner = openStore(join(mkdtempSync(join(tmpdir(), 'pm-res-')), 'state'), { maxAgeMs: 86_400_000, maxRecords: 100 });
  const lines: Array<Record<string, unknown>> = [];
  const logger = createLogger({ level: 'debug', destination: { write: (line: string) => void lines.push(JSON.parse(line)) } });
  let fault: string | undefined;
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
        if (fault) throw sqliteError(fault);
        return (value as (...a: unknown[]) => unknown).apply(target, args);
      };
    },
  });
  const failures = vi.fn();
  const store = createResilientStore(faulty, { logger, onWriteFailure: failures, retryMs: 1_000 });
  return { store, inner, lines, failures, setFault: (code?: string) => (fault = code) };
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

  it('a write that fails for another reason (a bug) is logged and dropped, not retried forever', () => {
    const { store, lines } = setup();
    expect(() =>
      store.transaction(() => {
        throw new TypeError('boom');
      }),
    ).not.toThrow();
    expect(store.health()).toMatchObject({ writable: true, pending: 0 });
    expect(lines.some((l) => l.level === 'error' && l.message === 'state write failed; not retried')).toBe(true);
    store.close();
  });
});
