// Supervision never waits on persistence. A write the disk refuses (full, read-only, I/O error) must
// neither lose the event that caused it nor fail what was already done (an exit handled, a restart
// made): it is held in memory, in order, and retried until the disk takes it; meanwhile new writes
// queue behind it, so history is saved in the order it happened. /healthz and a metric say so, and
// the history read meanwhile includes the held restarts and audits: an operator looking into a
// crash while the disk is full sees it.
import type { Logger } from '../logging/logger.ts';
import type { AuditRow, HistoryQuery, RestartRow, Store } from './types.ts';

export interface StoreHealth {
  /** False while a write is held: the state on disk is behind. */
  writable: boolean;
  /** The last refusal, e.g. "SQLITE_FULL: database or disk is full"; null once writes land again. */
  error: string | null;
  pending: number;
  /** Writes held so long that the oldest had to be given up (the queue is bounded). */
  dropped: number;
}

export interface ResilientStore extends Store {
  health(): StoreHealth;
  /** Swap the database underneath (state_dir recreated); held writes go to the new one. */
  replace(next: Store): void;
}

export interface ResilientOptions {
  logger: Logger;
  /** Called for every refused write (the metric counts them). */
  onWriteFailure?: () => void;
  /**
   * Called before a retry when the database refused a write as read-only: the connection may have
   * been opened while the file could not be written, and only a new one sees it fixed.
   */
  reopen?: () => void;
  retryMs?: number;
}

/** Bounded: at 200 proxies crash-looping, an hour of a full disk. */
const MAX_PENDING = 50_000;
/** A disk that stays full (or a state_dir that stays gone: durable.ts) is reported again this often, not at every retry. */
export const REMIND_MS = 60_000;

// Errors of the disk or the file system, which go away once an operator frees space or remounts.
const STORAGE_FAULT = /^(SQLITE_(FULL|IOERR|READONLY|CANTOPEN|BUSY|LOCKED|PROTOCOL|NOMEM|CORRUPT|NOTADB)|ENOSPC|EROFS|EIO|EDQUOT)/;

export function isStorageFault(error: unknown): boolean {
  return STORAGE_FAULT.test(String((error as { code?: unknown }).code ?? ''));
}

const describe = (error: unknown) => `${(error as { code?: string }).code ?? 'error'}: ${(error as Error).message}`;

/** The history rows a write adds: shown from memory while the write is held. */
interface Rows {
  restarts: RestartRow[];
  audits: AuditRow[];
}

interface HeldWrite {
  name: string;
  run(): void;
  rows: Rows;
}

/** A transaction's writes, gathered while its function runs, then written (or held) as one. */
interface Batch {
  runs: Array<() => void>;
  rows: Rows;
}

/** Held rows matching a history query, newest first (the order the store answers in). */
function matching<T extends { at: number; proxyId: string | null; action?: string }>(rows: T[], query: HistoryQuery): T[] {
  return rows
    .filter(
      (row) =>
        (query.proxyId === undefined || row.proxyId === query.proxyId) &&
        (query.action === undefined || row.action === query.action) &&
        (query.since === undefined || row.at >= query.since),
    )
    .reverse();
}

/** Held rows and stored ones as one answer: newest first, a held row before a stored one of the same time. */
function merged<T extends { at: number }>(held: T[], stored: () => T[], query: HistoryQuery): T[] {
  if (held.length === 0) return stored();
  const all = [...held, ...stored()].sort((a, b) => b.at - a.at);
  return query.limit === undefined ? all : all.slice(0, query.limit);
}

type Writes = Omit<
  Store,
  | 'dir'
  | 'restarts'
  | 'audits'
  | 'memory'
  | 'stats'
  | 'pendingSpawns'
  | 'startedFrom'
  | 'processes'
  | 'setRetention'
  | 'inPlace'
  | 'copyTo'
  | 'checkpoint'
  | 'close'
  | 'transaction'
>;

export function createResilientStore(initial: Store, options: ResilientOptions): ResilientStore {
  const { logger, retryMs = 2_000 } = options;
  let current = initial;
  const pending: HeldWrite[] = [];
  let error: string | null = null;
  let dropped = 0;
  let batch: Batch | undefined;
  let retryTimer: NodeJS.Timeout | undefined;
  let remindedAt = 0;

  function refused(name: string, cause: unknown): boolean {
    options.onWriteFailure?.();
    if (!isStorageFault(cause)) {
      logger.error({ err: cause, write: name }, 'state write failed; not retried');
      return false;
    }
    const now = Date.now();
    if (error === null) {
      logger.error(
        { state_dir: current.dir, error: describe(cause), write: name },
        'state_dir not writable: holding writes in memory and retrying',
      );
      remindedAt = now;
    } else if (now - remindedAt >= REMIND_MS) {
      logger.error({ state_dir: current.dir, error: describe(cause), pending: pending.length }, 'state_dir still not writable');
      remindedAt = now;
    }
    error = describe(cause);
    return true;
  }

  function hold(write: HeldWrite) {
    pending.push(write);
    if (pending.length > MAX_PENDING) {
      pending.shift();
      if (dropped++ === 0)
        logger.error(
          { state_dir: current.dir, max_pending: MAX_PENDING },
          'state_dir not writable for too long: the oldest held writes are being dropped',
        );
    }
    retryTimer ??= setTimeout(retry, retryMs).unref();
  }

  /** Runs one write; true when it landed (or was dropped as a bug), false when the disk refused it. */
  function attempt(write: HeldWrite): boolean {
    try {
      write.run();
      return true;
    } catch (cause) {
      return !refused(write.name, cause);
    }
  }

  function retry() {
    retryTimer = undefined;
    const held = pending.length;
    try {
      if (error?.startsWith('SQLITE_READONLY')) options.reopen?.();
    } catch {
      // Not openable now: the writes below fail again, and say so.
    }
    try {
      current.checkpoint(); // what the WAL holds moves into the database, and the WAL's room is free again
    } catch {
      // still full: the writes below say so
    }
    while (pending.length) {
      if (!attempt(pending[0])) {
        retryTimer = setTimeout(retry, retryMs).unref();
        return;
      }
      pending.shift();
    }
    if (error !== null) logger.info({ state_dir: current.dir, saved: held, dropped }, 'state_dir writable again: held writes saved');
    error = null;
  }

  function write(name: string, run: () => void, rows?: Partial<Rows>): void {
    // Inside a transaction: the transaction as a whole succeeds, fails or is held.
    if (batch) {
      batch.runs.push(run);
      batch.rows.restarts.push(...(rows?.restarts ?? []));
      batch.rows.audits.push(...(rows?.audits ?? []));
      return;
    }
    const held = { name, run, rows: { restarts: rows?.restarts ?? [], audits: rows?.audits ?? [] } };
    // With writes already held, this one waits behind them: the order is kept.
    if (pending.length || !attempt(held)) hold(held);
  }

  const heldRestarts = () => pending.flatMap((held) => held.rows.restarts);
  const heldAudits = () => pending.flatMap((held) => held.rows.audits);

  const writes: Writes = {
    finishInterruptedRestarts: () => {
      let interrupted: ReturnType<Store['finishInterruptedRestarts']> = [];
      write('interrupted restarts', () => {
        interrupted = current.finishInterruptedRestarts();
      });
      return interrupted;
    },
    addRestart: (row) => write('restart', () => current.addRestart(row), { restarts: [row] }),
    beginRestart: (start) => write('restart begun', () => current.beginRestart(start)),
    addAudit: (row) => write('audit', () => current.addAudit(row), { audits: [row] }),
    setOverride: (id, enabled) => write('override', () => current.setOverride(id, enabled)),
    setWanted: (id, wanted) => write('wanted', () => current.setWanted(id, wanted)),
    saveCounters: (id, counters) => write('counters', () => current.saveCounters(id, counters)),
    setPhase: (id, phase, crash) => write('phase', () => current.setPhase(id, phase, crash)),
    keepPhases: (ids) => write('phases', () => current.keepPhases(ids)),
    recordSpawn: (intent) => write('spawn', () => current.recordSpawn(intent)),
    forgetSpawn: (token) => write('spawn forgotten', () => current.forgetSpawn(token)),
    recordProcess: (row) => write('process', () => current.recordProcess(row)),
    forgetProcess: (id, pid) => write('process forgotten', () => current.forgetProcess(id, pid)),
    forgetProcesses: () => write('processes forgotten', () => current.forgetProcesses()),
  };

  return {
    ...writes,
    get dir() {
      return current.dir;
    },
    restarts: (query) => merged(matching(heldRestarts(), query), () => current.restarts(query), query),
    audits: (query) => merged(matching(heldAudits(), query), () => current.audits(query), query),
    memory: (id, now) => current.memory(id, now),
    stats: () => current.stats(),
    pendingSpawns: () => current.pendingSpawns(),
    startedFrom: (id) => current.startedFrom(id),
    processes: () => current.processes(),
    setRetention: (retention) => current.setRetention(retention),
    inPlace: () => current.inPlace(),
    copyTo: (file) => current.copyTo(file),
    checkpoint: () => current.checkpoint(),
    /**
     * fn runs at once and must only write through this store: its writes are gathered, then
     * written in one transaction of the store underneath, or held as one.
     */
    transaction<T>(fn: () => T): T {
      if (batch) return fn(); // nested: joins the outer one
      const gathering: Batch = { runs: [], rows: { restarts: [], audits: [] } };
      batch = gathering;
      let result: T | undefined;
      try {
        result = fn();
      } catch (cause) {
        logger.error({ err: cause, write: 'transaction' }, 'state write failed; not retried');
        return undefined as T;
      } finally {
        batch = undefined;
      }
      const { runs, rows } = gathering;
      const runAll = () => {
        for (const run of runs) run();
      };
      if (runs.length === 0) return result;
      const held = { name: 'transaction', run: () => current.transaction(runAll), rows };
      if (pending.length) hold(held);
      else {
        try {
          held.run();
        } catch (cause) {
          // The disk refusing it: held as one. A write that fails for itself (a bug) must not take
          // the rest with it (a slice gathers every proxy's): each is written on its own instead.
          if (isStorageFault(cause)) {
            refused(held.name, cause);
            hold(held);
          } else for (const run of runs) write('write of a failed transaction', run);
        }
      }
      return result;
    },
    health: () => ({ writable: error === null && pending.length === 0, error, pending: pending.length, dropped }),
    replace(next) {
      current = next;
    },
    close() {
      clearTimeout(retryTimer);
      retryTimer = undefined;
      if (pending.length) retry();
      clearTimeout(retryTimer);
      if (pending.length)
        logger.error(
          { state_dir: current.dir, lost: pending.length, error },
          'stopping with writes the state_dir never took: they are lost',
        );
      current.close();
    },
  };
}
