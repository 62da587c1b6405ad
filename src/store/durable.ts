// The daemon's durable state, wired: the store opened (and locked) in state_dir, kept there if the
// directory is deleted, each proxy's memory handed to the supervisor, reports recorded as they
// happen. The processes of the previous run are src/adoption's.
import type { ProxyMemory } from '../../machines/proxy/context.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logging/logger.ts';
import { generatedDir } from '../state-dir.ts';
import { createRecorder } from './recorder.ts';
import { tightenDir } from './permissions.ts';
import { createResilientStore, REMIND_MS } from './resilient.ts';
import { openStore } from './sqlite.ts';
import { watchStateDir } from './watch.ts';
import type { Retention } from './types.ts';

export interface DurableStateOptions {
  config: Config;
  now: () => number;
  logger: Logger;
  /** The current redactor (it changes on reload): errors are stored redacted, as they are logged. */
  redact: () => (text: string) => string;
  /** Called for every write the state_dir refused (a metric counts them). */
  onWriteFailure?: () => void;
  /** state_dir was recreated by another daemon before this one could: this one must stop. */
  onLost?: (reason: string) => void;
}

export function retentionOf(config: Config): Retention {
  return { maxAgeMs: config.history.max_age * 1000, maxRecords: config.history.max_records };
}

export type DurableState = ReturnType<typeof openDurableState>;

export function openDurableState(options: DurableStateOptions) {
  const { config, now, logger } = options;
  // Fails closed at start when the state cannot be read (a daemon without it would run past the cap);
  // a write the disk refuses, from the first one on, is held and retried, never in the way of
  // supervision: a daemon (re)started on a full disk supervises from the state it reads.
  let retention = retentionOf(config);
  let database = openStore(config.state_dir, retention);
  for (const dir of [database.dir, generatedDir(database.dir)]) {
    const mode = tightenDir(dir);
    if (mode !== undefined)
      logger.warn(
        { dir, mode: mode.toString(8).padStart(4, '0'), hardening: true },
        'directory was open to group or others: changed to 0700',
      );
  }
  const store = createResilientStore(database, {
    logger,
    onWriteFailure: options.onWriteFailure,
    // Not a deleted file: opened again, it would be a new, empty one (the watch puts it back).
    reopen: () => {
      if (!database.fileInPlace()) return;
      database = database.reopen();
      store.replace(database);
    },
  });
  const interrupted = store.finishInterruptedRestarts();
  if (interrupted.length)
    logger.warn(
      { restarts: interrupted.map((r) => ({ proxy_id: r.proxyId, reason: r.reason, started_at: new Date(r.at).toISOString() })) },
      'restarts in flight when the daemon last stopped recorded as failed (interrupted)',
    );
  // Only a configured proxy has a state to carry over to the next start: one removed while the
  // daemon was down, and put back later, is started (one a reload removes says so: `retired`).
  store.keepPhases(config.proxy.proxies.map((proxy) => proxy.id));
  let closed = false;
  /** Why state_dir (or state.db) could not be put back yet: said once, then every minute, and in /healthz. */
  let unrecoverable: string | null = null;
  let remindedAt = 0;
  function stillFailing(message: string, error: string) {
    const now = Date.now();
    if (unrecoverable === null || now - remindedAt >= REMIND_MS) {
      logger.error({ state_dir: store.dir, error }, message);
      remindedAt = now;
    }
    unrecoverable = error;
  }

  /**
   * state.db alone was deleted (`rm state.db*`, the directory and its lock in place): its history
   * would go into deleted files and the next start would find none. A copy of the database held
   * open is put back, and written from then on.
   */
  function restoreFile() {
    if (unrecoverable === null)
      logger.error({ state_dir: store.dir }, 'state.db was deleted while running: putting back the database held open');
    try {
      database = database.restoreFile();
      store.replace(database);
      unrecoverable = null;
      logger.warn({ state_dir: store.dir }, 'state.db restored from the database held open');
    } catch (error) {
      stillFailing('cannot restore state.db; trying again', (error as Error).message);
    }
  }

  /** state_dir was deleted: recreate it, lock it again, and copy in the database we still hold open. */
  function recreate() {
    if (closed) return;
    if (database.inPlace()) return restoreFile();
    if (unrecoverable === null) logger.error({ state_dir: store.dir }, 'state_dir was deleted while running: recreating it');
    try {
      const next = openStore(store.dir, retention, (file) => database.copyTo(file));
      const old = database;
      database = next;
      store.replace(next);
      old.close();
      stateDirWatch.rearm();
      unrecoverable = null;
      logger.warn({ state_dir: store.dir }, 'state_dir recreated: lock taken again, history copied from the database held open');
    } catch (error) {
      const message = (error as Error).message;
      if (/in use by another proxy-monitor/.test(message)) {
        closed = true;
        stateDirWatch.close();
        logger.error(
          { state_dir: store.dir, error: message },
          'another proxy-monitor took the recreated state_dir: stopping this one, so that no proxy runs twice',
        );
        options.onLost?.(message);
      } else {
        stillFailing('cannot recreate state_dir; trying again', message);
      }
    }
  }
  const stateDirWatch = watchStateDir(store.dir, () => database.inPlace() && database.fileInPlace(), recreate);

  const recorder = createRecorder(store, (text) => options.redact()(text));

  return {
    store,
    /** False once closed, or once another daemon took the state_dir. */
    open: () => !closed,
    /** The supervisor's `memory` option: what the store remembers of the proxy. */
    memory: (id: string): Partial<ProxyMemory> => store.memory(id, now()),
    /** Call from onReport before the report is logged. */
    record: recorder.record,
    /** Call from onCheckRound: saves the check counters of the round. */
    onCheckRound: recorder.checkRoundFinished,
    /** Conditions that do not stop supervision but need the operator (for /healthz). */
    degraded(): string[] {
      const health = store.health();
      const lost =
        unrecoverable === null
          ? []
          : [`state_dir deleted and not recreated yet (${unrecoverable}): history goes to the deleted files meanwhile`];
      if (health.writable) return lost;
      return [...lost, `state_dir not writable: ${health.error ?? 'writes pending'} (${health.pending} writes held in memory and retried)`];
    },
    reload(next: Config) {
      retention = retentionOf(next);
      store.setRetention(retention);
    },
    close() {
      closed = true;
      stateDirWatch.close();
      store.close();
    },
  };
}
