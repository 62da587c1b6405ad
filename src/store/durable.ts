// The daemon's durable state, wired: the store opened (and locked) in state_dir, the processes of the
// previous run adopted or stopped, each proxy's memory handed to the supervisor, reports and
// processes recorded as they happen.
import { resolve } from 'node:path';
import type { ProxyMemory } from '../../machines/proxy/context.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logging/logger.ts';
import type { ProxySpec } from '../proxy-spec.ts';
import type { World } from '../supervisor/ports.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import { settleProcesses, type BootPlan } from './adoption.ts';
import { createProcessJournal } from './journal.ts';
import { createRecorder } from './recorder.ts';
import { openStore } from './sqlite.ts';
import type { ProcessRow, Retention } from './types.ts';

export interface DurableStateOptions {
  config: Config;
  specs: ProxySpec[];
  world: World;
  logger: Logger;
  /** The current redactor (it changes on reload): errors are stored redacted, as they are logged. */
  redact: () => (text: string) => string;
}

export function retentionOf(config: Config): Retention {
  return { maxAgeMs: config.history.max_age * 1000, maxRecords: config.history.max_records };
}

export type DurableState = ReturnType<typeof openDurableState>;

export function openDurableState(options: DurableStateOptions) {
  const { config, world, logger } = options;
  const store = openStore(config.state_dir, retentionOf(config));
  const now = () => world.clock.now();
  const journal = createProcessJournal(store, now);
  const specs = new Map(options.specs.map((spec) => [spec.id, spec]));
  const plan = settleProcesses(store, specs, (id) => store.memory(id, now()).wanted ?? 'up');
  let closed = false;
  stopLeftovers(plan, world, config, logger, (row) => {
    if (!closed) store.forgetProcess(row.proxyId, row.pid);
  });
  logger.info({ state_dir: store.dir, adopting: plan.adopt.size, replacing: plan.replace.length, stopping: plan.stop.length }, 'state loaded');

  let supervisor: Supervisor | undefined;
  const recorder = createRecorder(store, (id) => supervisor?.actor.system.get(id)?.getSnapshot().context, (text) => options.redact()(text));

  return {
    store,
    /** The world with a driver that records every spawn before it happens. */
    world: { ...world, driver: journal.wrap(world.driver) },
    /** The supervisor's `memory` option. A process is adopted once, by the first actor of its proxy. */
    memory(id: string): Partial<ProxyMemory> {
      const adoptPid = plan.adopt.get(id);
      plan.adopt.delete(id);
      return { ...store.memory(id, now()), ...(adoptPid !== undefined && { adoptPid }) };
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
      supervisor = next;
      next.start();
      for (const id of plan.replace) {
        logger.info({ proxy_id: id }, 'adopted proxy process was started from a different configuration: restarting it');
        next.replace(id);
      }
    },
    reload(next: Config) {
      store.setRetention(retentionOf(next));
      if (resolve(next.state_dir) !== store.dir) {
        logger.warn({ state_dir: store.dir, new_state_dir: resolve(next.state_dir) }, 'state_dir changed: it takes effect at the next daemon start');
      }
    },
    close() {
      closed = true;
      store.close();
    },
  };
}

function stopLeftovers(plan: BootPlan, world: World, config: Config, logger: Logger, forget: (row: ProcessRow) => void) {
  for (const { row, why } of plan.unproven) {
    logger.warn({ proxy_id: row.proxyId, pid: row.pid, reason: why }, 'process recorded by the previous run is not provably ours: left alone');
  }
  for (const { row, why } of plan.stop) {
    logger.info({ proxy_id: row.proxyId, pid: row.pid, reason: why }, 'stopping a proxy process left by the previous run');
    world.driver.adopt(row.pid, { onExit: () => forget(row) }).stop(config.proxy.monitor.stop_timeout * 1000);
  }
}
