// The Store on SQLite (better-sqlite3, synchronous): every write is committed when the call returns.
// WAL with synchronous=NORMAL: a commit is in the WAL file before the call returns, so killing the
// daemon at any moment loses no committed record and the next open recovers cleanly; only a power
// loss can drop the last commits (never corrupting the file). FULL would fsync every commit: about
// 3 ms each here, 0.6 s more for 200 spawns.
import Database from 'better-sqlite3';
import { chmodSync, closeSync, existsSync, openSync, renameSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import {
  downAfterCrash,
  type ProxyCounters,
  type ProxyMemory,
  type ProxyPhase,
  type ProxyStats,
  type RestartOutcome,
  type RestartReason,
} from '../../machines/proxy/context.ts';
import { makeDirs } from '../make-dirs.ts';
import { HOUR_MS } from '../../machines/proxy/policy.ts';
import { inodeOf, lockStateDir, StateDirError, type StateDirLock } from './lock.ts';
import { MIGRATIONS } from './schema.ts';
import { type HistoryQuery, INTERRUPTED, type Retention, type RestartRow, type SpawnIntent, type Store } from './types.ts';

export const DATABASE_FILE = 'state.db';

/** The window the hourly cap counts in: history inside it is never pruned. */
const WINDOW_MS = HOUR_MS;

interface RestartTableRow {
  proxy_id: string;
  at: number;
  reason: string;
  manual: number;
  success: number;
  duration_ms: number;
  error: string | null;
  counted: number;
}

interface ProxyTableRow {
  override: number | null;
  wanted: 'up' | 'down';
  checks: number;
  restarts: number;
  successes: number;
  failures: number;
  consecutive_failures: number;
  last_failure_at: number | null;
  phase: string | null;
  crash_kind: RestartReason | null;
  crash_reason: string | null;
}

interface ProcessTableRow {
  token: string;
  proxy_id: string;
  pid: number | null;
  start_time: number | null;
  command: string;
  fingerprint: string;
  at: number;
}

/**
 * Opens (creating if needed) the state directory and its database, holding the single-daemon lock.
 * `seed`, called once the lock is held and before the database is opened, may write the database
 * file (a copy of the one a deleted state_dir still holds open).
 */
/** The store on its database file, which it can put back should the file alone be deleted. */
export interface DatabaseStore extends Store {
  /** False once the database file alone, or its WAL, was deleted or replaced (`rm state.db*`), the lock in place. */
  fileInPlace(): boolean;
  /**
   * Puts a copy of the database held open back at its path and returns the store on it, under the
   * same lock; this one is not to be used (nor closed) after.
   */
  restoreFile(): DatabaseStore;
  /**
   * The store on a new connection to the same file, under the same lock: SQLite opens a file it
   * cannot write read-only without saying so, and that connection stays so once the file is fixed.
   * This one is not to be used (nor closed) after.
   */
  reopen(): DatabaseStore;
}

export function openStore(stateDir: string, retention: Retention, seed?: (file: string) => void): DatabaseStore {
  const dir = resolve(stateDir);
  try {
    // 0700: generated proxy configs with their passwords live here too.
    makeDirs(dir, 0o700);
  } catch (error) {
    throw new StateDirError(`cannot create state directory ${dir}: ${(error as Error).message}`);
  }
  const lock = lockStateDir(dir);
  try {
    seed?.(join(dir, DATABASE_FILE));
    return createStore(dir, openDatabase(join(dir, DATABASE_FILE)), retention, lock);
  } catch (error) {
    lock.release();
    if (error instanceof StateDirError) throw error;
    const file = join(dir, DATABASE_FILE);
    if (isDamage(error)) {
      throw new StateDirError(
        `state database ${file} is damaged (${(error as Error).message}); not starting without the restart history. ` +
          `Run "proxy-monitor state check --state-dir ${dir}" to see, then "proxy-monitor state reset --state-dir ${dir}" ` +
          `to move it aside and start with an empty history (or restore a backup of it)`,
      );
    }
    throw new StateDirError(`cannot open state database ${file}: ${(error as Error).message}`);
  }
}

/** The schema from `version` up to date, in one transaction. */
function migrate(db: Database.Database, version: number): void {
  db.transaction(() => {
    for (let v = version; v < MIGRATIONS.length; v++) db.exec(MIGRATIONS[v]);
    db.pragma(`user_version = ${MIGRATIONS.length}`);
  })();
}

/**
 * A new database is made beside its path and renamed into place with its schema: a state.db this
 * daemon made is never an empty file, so an empty one (truncated, or zeroed by a failing disk) is
 * damage, refused as such, rather than read as no history at all, which forgot the operator's stops
 * and the restart cap. Created 0600: its -wal and -shm files take the database file's mode.
 */
function createDatabase(file: string): void {
  const fresh = `${file}.new-${process.pid}`;
  const scrap = () => {
    for (const path of [fresh, `${fresh}-journal`]) rmSync(path, { force: true });
  };
  scrap();
  try {
    closeSync(openSync(fresh, 'w', 0o600));
    const db = new Database(fresh);
    try {
      migrate(db, 0);
    } finally {
      db.close();
    }
    // A WAL left beside a database since deleted (`rm state.db` after a kill) is not this one's:
    // SQLite would replay its frames into it and bring the deleted history back.
    for (const suffix of ['-wal', '-shm']) rmSync(`${file}${suffix}`, { force: true });
    renameSync(fresh, file);
  } catch (error) {
    try {
      scrap(); // a full disk: no half-made database left behind at each failed start
    } catch {}
    throw error;
  }
}

function openDatabase(file: string): Database.Database {
  if (!existsSync(file)) createDatabase(file);
  const st = statSync(file);
  if (st.isDirectory()) throw Object.assign(new Error(`EISDIR: illegal operation on a directory, open '${file}'`), { code: 'EISDIR' });
  if (st.size === 0)
    throw Object.assign(new Error('the file is empty (0 bytes), which no state database of this daemon ever is'), {
      code: 'SQLITE_NOTADB',
    });
  // One seeded by a copy (VACUUM INTO, when state_dir was recreated) is made 0600 too.
  try {
    chmodSync(file, 0o600);
  } catch {
    // Not ours to change (another owner): left as it is.
  }
  const db = new Database(file);
  try {
    db.pragma('journal_mode = WAL');
    db.pragma('synchronous = NORMAL');
    // A small WAL: the data is tens of KiB, and SQLite's default (a checkpoint every 1000 pages, the
    // file never shrunk) grew the WAL towards 4 MiB, which filled a small state_dir on its own and
    // took every byte freed afterwards. Checkpointed every 256 pages, cut back to 1 MiB after: 4000
    // one-row transactions cost 6 % more than with the default, and the slowest (the one that
    // checkpoints) 3 ms, not 10 (64 pages: 30 % more; measured, bench/README.md "Session 16").
    db.pragma('wal_autocheckpoint = 256');
    db.pragma('journal_size_limit = 1048576');
    // A damaged file fails here, at start, rather than in the middle of a restart.
    const check = db.pragma('quick_check', { simple: true });
    if (check !== 'ok') throw Object.assign(new Error(String(check)), { code: 'SQLITE_CORRUPT' });
    const version = db.pragma('user_version', { simple: true }) as number;
    if (version > MIGRATIONS.length) {
      throw new StateDirError(
        `state database ${file} was written by a newer proxy-monitor (schema ${version}, this one knows ${MIGRATIONS.length})`,
      );
    }
    // Only a schema to bring up to date is written here: a database that is current opens on a full
    // disk, and the daemon supervises with its writes held (src/store/resilient.ts).
    if (version < MIGRATIONS.length) migrate(db, version);
    return db;
  } catch (error) {
    db.close();
    throw error;
  }
}

/** SQLite's words for a file that is not (or no longer) a sound database. */
export function isDamage(error: unknown): boolean {
  return /^SQLITE_(CORRUPT|NOTADB)/.test(String((error as { code?: unknown }).code ?? ''));
}

const statsOf = (row: Pick<ProxyTableRow, 'checks' | 'restarts' | 'successes' | 'failures'>): ProxyStats => ({
  checks: row.checks,
  restarts: row.restarts,
  successes: row.successes,
  failures: row.failures,
});

function createStore(dir: string, db: Database.Database, initialRetention: Retention, lock: StateDirLock): DatabaseStore {
  let retention = initialRetention;
  const file = join(dir, DATABASE_FILE);
  const inode = inodeOf(file);
  /** Sets one column of a proxy's row, creating the row with defaults for the rest. */
  const setProxyColumn = (column: 'override' | 'wanted') =>
    db.prepare(
      `INSERT INTO proxies (proxy_id, ${column}) VALUES (?, ?) ON CONFLICT (proxy_id) DO UPDATE SET ${column} = excluded.${column}`,
    );
  const sql = {
    beginRestart: db.prepare('INSERT INTO restarts (proxy_id, at, reason, manual) VALUES (?, ?, ?, ?)'),
    // A crashed proxy's restart begun: a live process found at the next start is that restart's
    // (the state change itself is not written: a storm's 200 writes less; see recorder.ts).
    restartingAfterCrash: db.prepare("UPDATE proxies SET phase = 'restarting' WHERE proxy_id = ? AND phase = 'crashed'"),
    finishRestart: db.prepare(
      'UPDATE restarts SET success = ?, duration_ms = ?, error = ?, counted = ? WHERE id = (SELECT max(id) FROM restarts WHERE proxy_id = ? AND at = ? AND success IS NULL)',
    ),
    insertRestart: db.prepare(
      'INSERT INTO restarts (proxy_id, at, reason, manual, success, duration_ms, error, counted) VALUES (?, ?, ?, ?, ?, ?, ?, ?)',
    ),
    insertAudit: db.prepare('INSERT INTO audit (at, user, action, proxy_id, detail) VALUES (?, ?, ?, ?, ?)'),
    attempts: db.prepare('SELECT at FROM restarts WHERE proxy_id = ? AND manual = 0 AND counted = 1 AND at > ? ORDER BY at').pluck(),
    lastAttemptAt: db.prepare('SELECT max(at) FROM restarts WHERE proxy_id = ?').pluck(),
    lastRestart: db.prepare('SELECT * FROM restarts WHERE proxy_id = ? AND success IS NOT NULL ORDER BY at DESC, id DESC LIMIT 1'),
    proxy: db.prepare('SELECT * FROM proxies WHERE proxy_id = ?'),
    stats: db.prepare('SELECT proxy_id, checks, restarts, successes, failures FROM proxies'),
    setOverride: setProxyColumn('override'),
    setWanted: setProxyColumn('wanted'),
    saveCounters: db.prepare(`
      INSERT INTO proxies (proxy_id, checks, restarts, successes, failures, consecutive_failures, last_failure_at)
      VALUES (@proxyId, @checks, @restarts, @successes, @failures, @consecutiveFailures, @lastFailureAt)
      ON CONFLICT (proxy_id) DO UPDATE SET checks = excluded.checks, restarts = excluded.restarts, successes = excluded.successes,
        failures = excluded.failures, consecutive_failures = excluded.consecutive_failures, last_failure_at = excluded.last_failure_at`),
    // The crash's columns are kept through `restarting`: a restart in flight at a daemon stop is
    // still down after that crash. A phase without a crash leaves them, unread.
    setPhase: db.prepare(`
      INSERT INTO proxies (proxy_id, phase, crash_kind, crash_reason) VALUES (?, ?, ?, ?)
      ON CONFLICT (proxy_id) DO UPDATE SET phase = excluded.phase,
        crash_kind = coalesce(excluded.crash_kind, crash_kind), crash_reason = coalesce(excluded.crash_reason, crash_reason)`),
    keepPhases: db.prepare('UPDATE proxies SET phase = NULL WHERE phase IS NOT NULL AND proxy_id NOT IN (SELECT value FROM json_each(?))'),
    startedFrom: db.prepare(
      'INSERT INTO proxies (proxy_id, started_from) VALUES (?, ?) ON CONFLICT (proxy_id) DO UPDATE SET started_from = excluded.started_from',
    ),
    lastStartedFrom: db.prepare('SELECT started_from FROM proxies WHERE proxy_id = ?').pluck(),
    recordSpawn: db.prepare(
      'INSERT INTO processes (token, proxy_id, command, fingerprint, at) VALUES (@token, @proxyId, @command, @fingerprint, @at)',
    ),
    // A proxy has one spawn in flight at most: an older unconfirmed one failed before it had a pid.
    dropUnconfirmed: db.prepare('DELETE FROM processes WHERE proxy_id = ? AND pid IS NULL'),
    pendingSpawns: db.prepare('SELECT * FROM processes WHERE pid IS NULL ORDER BY at'),
    forgetSpawn: db.prepare('DELETE FROM processes WHERE token = ?'),
    recordProcess: db.prepare(`
      INSERT INTO processes (token, proxy_id, pid, start_time, command, fingerprint, at)
      VALUES (@token, @proxyId, @pid, @startTime, @command, @fingerprint, @at)
      ON CONFLICT (token) DO UPDATE SET pid = excluded.pid, start_time = excluded.start_time`),
    forgetProcess: db.prepare('DELETE FROM processes WHERE proxy_id = ? AND pid = ?'),
    forgetProcesses: db.prepare('DELETE FROM processes'),
    processes: db.prepare('SELECT * FROM processes WHERE pid IS NOT NULL ORDER BY at'),
  };

  const prunerOf = (table: 'restarts' | 'audit') => ({
    byAge: db.prepare(`DELETE FROM ${table} WHERE at < ?`),
    byCount: db.prepare(`DELETE FROM ${table} WHERE at < ? AND id <= (SELECT id FROM ${table} ORDER BY id DESC LIMIT 1 OFFSET ?)`),
  });
  const pruners = { restarts: prunerOf('restarts'), audit: prunerOf('audit') };
  /** Run as records come in, so history never grows past the retention limits. */
  function prune(table: 'restarts' | 'audit', now: number) {
    // The hourly cap counts the restarts inside its window: those stay, whatever the limits say.
    const keepFrom = table === 'restarts' ? now - WINDOW_MS : Number.MAX_SAFE_INTEGER;
    pruners[table].byAge.run(Math.min(now - retention.maxAgeMs, keepFrom));
    pruners[table].byCount.run(keepFrom, retention.maxRecords);
  }

  const transaction = <T>(fn: () => T): T => db.transaction(fn)();

  return {
    dir,
    transaction,
    beginRestart(start) {
      transaction(() => {
        sql.beginRestart.run(start.proxyId, start.at, start.reason, Number(start.manual));
        sql.restartingAfterCrash.run(start.proxyId);
        prune('restarts', start.at);
      });
    },
    finishInterruptedRestarts: () => finishInterruptedRestarts(db),
    addRestart(row) {
      transaction(() => {
        const outcome = [Number(row.success), row.durationMs, row.error ?? null, Number(!row.uncounted)] as const;
        const finished = sql.finishRestart.run(...outcome, row.proxyId, row.at).changes;
        if (!finished) sql.insertRestart.run(row.proxyId, row.at, row.reason, Number(row.manual), ...outcome);
        prune('restarts', row.at);
      });
    },
    restarts(query) {
      return history(db, 'restarts', 'success IS NOT NULL', query).map((r) => toRestartRow(r as unknown as RestartTableRow));
    },
    addAudit(row) {
      transaction(() => {
        sql.insertAudit.run(row.at, row.user, row.action, row.proxyId, JSON.stringify(row.detail));
        prune('audit', row.at);
      });
    },
    audits(query) {
      return history(db, 'audit', '1', query).map((r) => ({
        at: r.at as number,
        user: r.user as string,
        action: r.action as string,
        proxyId: r.proxy_id as string | null,
        detail: JSON.parse(r.detail as string) as Record<string, unknown>,
      }));
    },
    memory(proxyId, now) {
      const last = sql.lastRestart.get(proxyId) as RestartTableRow | undefined;
      const proxy = sql.proxy.get(proxyId) as ProxyTableRow | undefined;
      const memory: Partial<ProxyMemory> = {
        attempts: sql.attempts.all(proxyId, now - WINDOW_MS) as number[],
        lastAttemptAt: (sql.lastAttemptAt.get(proxyId) as number | null) ?? null,
        lastRestart: last ? outcomeOf(last) : null,
      };
      if (!proxy) return memory;
      return {
        ...memory,
        override: proxy.override === null ? null : proxy.override === 1,
        wanted: proxy.wanted,
        stats: statsOf(proxy),
        consecutiveFailures: proxy.consecutive_failures,
        lastFailureAt: proxy.last_failure_at,
        carriedCrash:
          downAfterCrash(proxy.phase as ProxyPhase) && proxy.crash_kind !== null
            ? {
                kind: proxy.crash_kind,
                reason: proxy.crash_reason ?? '',
                ...(proxy.phase === 'restarting' && { restarting: true as const }),
              }
            : null,
      };
    },
    stats() {
      const rows = sql.stats.all() as ({ proxy_id: string } & Pick<ProxyTableRow, 'checks' | 'restarts' | 'successes' | 'failures'>)[];
      return Object.fromEntries(rows.map((r) => [r.proxy_id, statsOf(r)]));
    },
    setOverride(proxyId, enabled) {
      sql.setOverride.run(proxyId, enabled === null ? null : Number(enabled));
    },
    setWanted(proxyId, wanted) {
      sql.setWanted.run(proxyId, wanted);
    },
    saveCounters(proxyId, counters: ProxyCounters) {
      sql.saveCounters.run({
        proxyId,
        ...counters.stats,
        consecutiveFailures: counters.consecutiveFailures,
        lastFailureAt: counters.lastFailureAt,
      });
    },
    setPhase(proxyId, phase, crash) {
      sql.setPhase.run(proxyId, phase, crash?.kind ?? null, crash?.reason ?? null);
    },
    keepPhases(proxyIds) {
      sql.keepPhases.run(JSON.stringify(proxyIds));
    },
    recordSpawn(intent) {
      transaction(() => {
        sql.dropUnconfirmed.run(intent.proxyId);
        sql.recordSpawn.run(intent);
        sql.startedFrom.run(intent.proxyId, intent.fingerprint);
      });
    },
    startedFrom: (proxyId) => (sql.lastStartedFrom.get(proxyId) as string | null | undefined) ?? null,
    pendingSpawns: () => (sql.pendingSpawns.all() as ProcessTableRow[]).map(toIntent),
    forgetSpawn(token) {
      sql.forgetSpawn.run(token);
    },
    recordProcess(row) {
      sql.recordProcess.run(row);
    },
    forgetProcesses() {
      sql.forgetProcesses.run();
    },
    forgetProcess(proxyId, pid) {
      sql.forgetProcess.run(proxyId, pid);
    },
    processes: () => (sql.processes.all() as ProcessTableRow[]).map((r) => ({ ...toIntent(r), pid: r.pid!, startTime: r.start_time! })),
    setRetention(next) {
      retention = next;
    },
    inPlace: () => lock.inPlace(),
    checkpoint() {
      db.pragma('wal_checkpoint(TRUNCATE)');
    },
    // Its WAL too: the commits not yet checkpointed live there, and one deleted (`rm state.db-wal`)
    // would take them with it at the next start, however the connection held open still reads them.
    fileInPlace: () => inode !== undefined && inodeOf(file) === inode && existsSync(`${file}-wal`),
    restoreFile() {
      const copy = `${file}.restoring`;
      rmSync(copy, { force: true });
      db.prepare('VACUUM INTO ?').run(copy);
      db.close();
      // What is left of the file that went (its -wal or -shm) belongs to it, not to the copy.
      for (const suffix of ['-wal', '-shm']) rmSync(file + suffix, { force: true });
      renameSync(copy, file);
      return createStore(dir, openDatabase(file), retention, lock);
    },
    reopen() {
      const next = createStore(dir, openDatabase(file), retention, lock);
      db.close();
      return next;
    },
    copyTo(file) {
      db.prepare('VACUUM INTO ?').run(file);
    },
    close() {
      if (!db.open) return;
      db.close();
      lock.release();
    },
  };
}

/**
 * Restarts begun by a daemon that died before their outcome: failed, as far as anyone can tell.
 * They already counted against the cap; now they count in the history and the counters too.
 */
function finishInterruptedRestarts(db: Database.Database): { proxyId: string; at: number; reason: string }[] {
  return db.transaction(() => {
    const interrupted = db.prepare('SELECT proxy_id AS proxyId, at, reason FROM restarts WHERE success IS NULL ORDER BY at').all() as {
      proxyId: string;
      at: number;
      reason: string;
    }[];
    // Each proxy's count, from the rows read: not read again grouped.
    const counts = new Map<string, number>();
    for (const { proxyId } of interrupted) counts.set(proxyId, (counts.get(proxyId) ?? 0) + 1);
    const bump = db.prepare(`
      INSERT INTO proxies (proxy_id, restarts, failures) VALUES (@proxy_id, @n, @n)
      ON CONFLICT (proxy_id) DO UPDATE SET restarts = restarts + @n, failures = failures + @n`);
    for (const [proxy_id, n] of counts) bump.run({ proxy_id, n });
    db.prepare('UPDATE restarts SET success = 0, duration_ms = 0, error = ? WHERE success IS NULL').run(INTERRUPTED);
    return interrupted;
  })();
}

function history(db: Database.Database, table: 'restarts' | 'audit', where: string, query: HistoryQuery): Record<string, unknown>[] {
  const clauses = [where];
  const params: unknown[] = [];
  if (query.proxyId !== undefined) {
    clauses.push('proxy_id = ?');
    params.push(query.proxyId);
  }
  if (query.action !== undefined) {
    clauses.push('action = ?');
    params.push(query.action);
  }
  if (query.since !== undefined) {
    clauses.push('at >= ?');
    params.push(query.since);
  }
  params.push(query.limit ?? -1); // LIMIT -1: no limit
  return db.prepare(`SELECT * FROM ${table} WHERE ${clauses.join(' AND ')} ORDER BY at DESC, id DESC LIMIT ?`).all(...params) as Record<
    string,
    unknown
  >[];
}

function outcomeOf(r: RestartTableRow): RestartOutcome {
  return {
    at: r.at,
    // Rows written before restarts by hand were called "operator".
    reason: (r.reason === 'manual' ? 'operator' : r.reason) as RestartReason,
    manual: r.manual === 1,
    success: r.success === 1,
    durationMs: r.duration_ms,
    ...(r.error !== null && { error: r.error }),
    ...(r.counted === 0 && { uncounted: true as const }),
  };
}

function toRestartRow(r: RestartTableRow): RestartRow {
  return { proxyId: r.proxy_id, ...outcomeOf(r) };
}

function toIntent(r: ProcessTableRow): SpawnIntent {
  return { token: r.token, proxyId: r.proxy_id, command: r.command, fingerprint: r.fingerprint, at: r.at };
}
