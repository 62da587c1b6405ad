// The processes of the previous run, settled at boot before the supervisor starts: the ones proven
// ours are adopted (or stopped when no longer wanted), and every spawn from now on is journaled so
// that the next run can do the same. The store only keeps the rows; this module reads /proc and acts.
import type { ProxyMemory } from '../../machines/proxy/context.ts';
import type { Logger } from '../logging/logger.ts';
import { isAliveNotZombie, processStartedAt } from '../process/proc.ts';
import { killWithGroup } from '../process/escape.ts';
import type { ProxySpec } from '../proxy-spec.ts';
import type { Store } from '../store/types.ts';
import type { World } from '../supervisor/ports.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import { startsAfter } from './gate.ts';
import { findOrphans } from './identity.ts';
import { createProcessJournal } from './journal.ts';
import { type BootPlan, settleProcesses } from './plan.ts';

export interface AdoptionOptions {
  store: Store;
  specs: ProxySpec[];
  world: World;
  logger: Logger;
  /** How long a leftover process has between SIGTERM and SIGKILL. */
  stopTimeoutMs: number;
  /** False once the store is closed (or lost): a leftover that exits later is not written down. */
  storeOpen: () => boolean;
}

export function adoptPreviousRun(options: AdoptionOptions) {
  const { store, world, logger } = options;
  const now = () => world.clock.now();
  const journal = createProcessJournal(store, now, options.storeOpen, world.later);
  const specs = new Map(options.specs.map((spec) => [spec.id, spec]));
  // Each proxy's stored memory, read once (a read is several queries): its operator intent, and
  // whether it was down after a crash.
  const memories = new Map<string, ReturnType<Store['memory']>>();
  const memoryOf = (id: string) => memories.get(id) ?? memories.set(id, store.memory(id, now())).get(id)!;
  const plan = settleProcesses(
    store,
    specs,
    (id) => memoryOf(id).wanted ?? 'up',
    (id) => (memoryOf(id).carriedCrash ?? null) !== null,
  );
  // The proxies memory() hands a process to adopt (it takes each once).
  const adopted = new Set(plan.adopt.keys());
  const leftoversGone = settled([stopLeftovers(plan, options), killOrphans(plan, logger)]);
  for (const row of plan.unrecorded)
    logger.warn(
      { proxy_id: row.proxyId, pid: row.pid },
      "proxy process of this state_dir found by its spawn token, though the state had no record of it: taken as the previous run's",
    );
  for (const [id, row] of plan.lost)
    logger.warn({ proxy_id: id, pid: row.pid }, 'proxy process ended while the daemon was down: handled as a crash');
  logger.info(
    { state_dir: store.dir, adopting: plan.adopt.size, replacing: plan.replace.length, stopping: plan.stop.length },
    'state loaded',
  );

  return {
    /** The world with a driver that records every spawn before it happens. */
    world: { ...world, driver: startsAfter(journal.wrap(world.driver), leftoversGone) },
    /**
     * The process a proxy adopts, or the one it lost while the daemon was down (part of its memory).
     * Either is taken once, by the first actor of its proxy.
     */
    memory(id: string): Partial<Pick<ProxyMemory, 'adoptPid' | 'adoptStartedAt' | 'lostProcess'>> | undefined {
      if (plan.lost.delete(id)) return { lostProcess: true };
      const adoptPid = plan.adopt.get(id);
      plan.adopt.delete(id);
      // Its uptime counts from its own start, not from the adoption.
      return adoptPid === undefined ? undefined : { adoptPid, adoptStartedAt: processStartedAt(adoptPid) ?? null };
    },
    /** The supervisor's onProcess hook. */
    onProcess(id: string, pid: number, event: 'started' | 'adopted' | 'exited') {
      journal.onProcess(id, pid, event);
      if (event === 'adopted') logger.info({ proxy_id: id, pid }, 'proxy process adopted from the previous run');
    },
    /** Once the supervisor runs: replace the adopted processes that run an outdated config. */
    replaceOutdated(supervisor: Supervisor) {
      for (const id of plan.replace) {
        const what = adopted.has(id) ? 'adopted proxy process was' : 'proxy down after a crash was last';
        logger.info({ proxy_id: id }, `${what} started from a different configuration: restarting it`);
        supervisor.replace(id, 'configuration changed while the daemon was down');
      }
    },
  };
}

/** Settles once every promise given has (undefined: none was given). */
function settled(waits: Array<Promise<void> | undefined>): Promise<void> | undefined {
  const pending = waits.filter((wait) => wait !== undefined);
  return pending.length === 0 ? undefined : Promise.all(pending).then(() => {});
}

/**
 * Kills what the processes that ended while the daemon was down left running (their group's other
 * members, copies that escaped it), as the driver does when a leader exits under the daemon's eye:
 * a pre-forking server's worker would keep the port, and the proxy's new process fail beside it.
 * Resolves once they are gone, or a second after the KILL (a process in uninterruptible sleep).
 */
function killOrphans(plan: BootPlan, logger: Logger): Promise<void> | undefined {
  const orphans = findOrphans(plan.ended);
  if (orphans.size === 0) return undefined;
  const pids = [...orphans.values()].flat();
  for (const row of plan.ended) {
    const left = orphans.get(row.token);
    if (!left) continue;
    logger.warn(
      { proxy_id: row.proxyId, pid: row.pid, left_pids: left },
      'proxy process ended while the daemon was down, leaving processes running: killing them',
    );
    // One by one: the ended leader's pid may name another process's group by now.
    left.forEach(killWithGroup);
  }
  return new Promise<void>((resolve) => {
    const deadline = Date.now() + 1_000;
    const poll = () => {
      if (pids.every((pid) => !isAliveNotZombie(pid)) || Date.now() >= deadline) resolve();
      else setTimeout(poll, 10).unref();
    };
    poll();
  });
}

/** Stops the previous run's unwanted processes; resolves once they are gone (or given up on), undefined when there are none. */
function stopLeftovers(plan: BootPlan, { world, logger, stopTimeoutMs, store, storeOpen }: AdoptionOptions): Promise<void> | undefined {
  for (const { row, why } of plan.unproven) {
    logger.warn(
      { proxy_id: row.proxyId, pid: row.pid, reason: why },
      'process recorded by the previous run is not provably ours: left alone',
    );
  }
  if (plan.stop.length === 0) return undefined;
  const exits = plan.stop.map(({ row, why }) => {
    logger.info({ proxy_id: row.proxyId, pid: row.pid, reason: why }, 'stopping a proxy process left by the previous run');
    return new Promise<void>((resolve) => {
      const forget = () => {
        if (storeOpen()) store.forgetProcess(row.proxyId, row.pid);
        resolve();
      };
      world.driver.adopt(row.pid, { onExit: forget }, { id: row.proxyId }).stop(stopTimeoutMs);
    });
  });
  logger.info({ processes: plan.stop.length }, 'proxies start once the processes left by the previous run are gone');
  // As stopAll does: past the SIGKILL and a second, a process that still has not gone is not waited for.
  const giveUp = new Promise<void>((resolve) => setTimeout(resolve, stopTimeoutMs + 1_000).unref());
  return Promise.race([Promise.all(exits).then(() => {}), giveUp]);
}
