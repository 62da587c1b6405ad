// Which way the daemon starts its proxies: through the spawn helper when it starts (src/process/
// helper.ts), else Node's child_process, said once at warn. PROXY_MONITOR_SPAWN=child_process
// chooses the latter on purpose (the bench compares both).
import type { Logger } from '../logging/logger.ts';
import { HELPER_CANDIDATES, startSpawnHelper, WATCHDOG } from '../process/helper.ts';
import { childProcessSpawner, type Spawner } from '../process/spawner.ts';

export async function chooseSpawner(logger: Logger, env = process.env, candidates = HELPER_CANDIDATES): Promise<Spawner> {
  if (env.PROXY_MONITOR_SPAWN === 'child_process') return childProcessSpawner;
  try {
    return await startSpawnHelper((event) => {
      if (event.type === 'lost')
        logger.error({ reason: event.reason }, 'spawn helper lost: its proxies are watched in /proc, new ones start with child_process');
      else if (event.type === 'stalled')
        logger.error(
          { reason: event.reason },
          `spawn helper not answering: checks connect from the daemon meanwhile; the proxies it starts and reaps wait for it (continued if stopped, killed after ${WATCHDOG.killAfterMs / 1000} s)`,
        );
      else if (event.type === 'continued') logger.warn('spawn helper was stopped by a signal: sent it SIGCONT');
      else logger.info('spawn helper answering again');
    }, candidates);
  } catch (error) {
    logger.warn(
      { reason: (error as Error).message },
      'spawn helper unavailable: proxies start with child_process (each start forks the daemon)',
    );
    return childProcessSpawner;
  }
}
