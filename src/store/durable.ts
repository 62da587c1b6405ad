// The daemon's durable state, wired: the store opened (and locked) in state_dir, the processes of the
// previous run adopted or stopped, each proxy's memory handed to the supervisor, reports and
// processes recorded as they happen.
import { join, resolve } from 'node:path';
import type { ProxyMemory } from '../../machines/proxy/context.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logging/logger.ts';
import { processStartedAt } from '../process/proc.ts';
import type { ProxySpec } from '../proxy-spec.ts';
import type { World } from '../supervisor/ports.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import { settleProcesses, type BootPlan } from './adoption.ts';
import { createProcessJournal } from './journal.ts';
import { createRecorder } from './recorder.ts';
import { tightenDir } from './permissions.ts';
import { createResilientStore } from './resilient.ts';
import { openStore } from './sqlite.ts';
import { watchStateDir } from './watch.ts';
import type { ProcessRow, Retention } from './types.ts';

export interface DurableStateOptions {
  config: Config;
  specs: ProxySpec[];
  world: World;
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
  const { config, world, logger } = options;
  // Fails closed at start (a daemon without its state would run past the cap); after that, a write
  // the disk refuses is held and retried, never in the way of supervision.
  let retention = retentionOf(config);
  let database = openStore(config.state_dir, retention);
  for (const dir of [database.dir, join(database.dir, 'generated')]) {
    const mode = tightenDir(dir);
    if (mode !== undefined)
      logger.warn(
        { dir, mode: mode.toString(8).padStart(4, '0'), hardening: true },
        'directory was open to group or others: changed to 0700',
      );
  }
  const store = createResilientStore(database, { logger, onWriteFailure: options.onWriteFailure });
  const now = () => world.clock.now();
  const journal = createProcessJournal(store, now);
  const specs = new Map(options.specs.map((spec) => [spec.id, spec]));
  const plan = settleProcesses(store, specs, (id) => store.memory(id, now()).wanted ?? 'up');
  let closed = false;
  stopLeftovers(plan, world, config, logger, (row) => {
    if (!closed) store.forgetProcess(row.proxyId, row.pid);
  });
  logger.info(
    { state_dir: store.dir, adopting: plan.adopt.size, replacing: plan.replace.length, stopping: plan.stop.length },
    'state loaded',
  );

  /** state_dir was deleted: recreate it, lock it again, and copy in the database we still hold open. */
  function recreate() {
    if (closed) return;
    logger.error({ state_dir: store.dir }, 'state_dir was deleted while running: recreating it');
    try {
      const next = openStore(store.dir, retention, (file) => database.copyTo(file));
      const old = database;
      database = next;
      store.replace(next);
      old.close();
      stateDirWatch.rearm();
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
        logger.error({ state_dir: store.dir, error: message }, 'cannot recreate state_dir; trying again');
      }
    }
  }
  const stateDirWatch = watchStateDir(store.dir, () => database.inPlace(), recreate);

  const recorder = createRecorder(store, (text) => options.redact()(text));

  return {
    store,
    /** The world with a driver that records every spawn before it happens. */
    world: { ...world, driver: journal.wrap(world.driver) },
    /** The supervisor's `memory` option. A process is adopted once, by the first actor of its proxy. */
    memory(id: string): Partial<ProxyMemory> {
      const adoptPid = plan.adopt.get(id);
      plan.adopt.delete(id);
      // Its uptime counts from its own start, not from the adoption.
      const adopted = adoptPid === undefined ? {} : { adoptPid, adoptStartedAt: processStartedAt(adoptPid) ?? null };
      return { ...store.memory(id, now()), ...adopted };
    },
    /** Call from onReport before the report is logged. */
    record: recorder.record,
    /** Call from onCheckRound: saves the check counters of the round. */
    onCheckRound: recorder.checkRoundFinished,
    onProcess(id: string, pid: number, event: 'started' | 'adopted' | 'exited') {
      journal.onProcess(id, pid, event);
      if (event === 'adopted') logger.info({ proxy_id: id, pid }, 'proxy process adopted from the previous run');
    },
    /** Starts the supervisor, then replaces adopted processes that run an outdated config. */
    start(next: Supervisor) {
      next.start();
      for (const id of plan.replace) {
        logger.info({ proxy_id: id }, 'adopted proxy process was started from a different configuration: restarting it');
        next.replace(id, 'configuration changed while the daemon was down');
      }
    },
    /** Conditions that do not stop supervision but need the operator (for /healthz). */
    degraded(): string[] {
      const health = store.health();
      if (health.writable) return [];
      return [`state_dir not writable: ${health.error ?? 'writes pending'} (${health.pending} writes held in memory and retried)`];
    },
    reload(next: Config) {
      retention = retentionOf(next);
      store.setRetention(retention);
      if (resolve(next.state_dir) !== store.dir) {
        logger.warn(
          { state_dir: store.dir, new_state_dir: resolve(next.state_dir) },
          'state_dir changed: it takes effect at the next daemon start',
        );
      }
    },
    close() {
      closed = true;
      stateDirWatch.close();
      store.close();
    },
  };
}

function stopLeftovers(plan: BootPlan, world: World, config: Config, logger: Logger, forget: (row: ProcessRow) => void) {
  for (const { row, why } of plan.unproven) {
    logger.warn(
      { proxy_id: row.proxyId, pid: row.pid, reason: why },
      'process recorded by the previous run is not provably ours: left alone',
    );
  }
  for (const { row, why } of plan.stop) {
    logger.info({ proxy_id: row.proxyId, pid: row.pid, reason: why }, 'stopping a proxy process left by the previous run');
    world.driver.adopt(row.pid, { onExit: () => forget(row) }).stop(config.proxy.monitor.stop_timeout * 1000);
  }
}
