// Which way the daemon starts its proxies: through the spawn helper when it starts (src/process/
// helper.ts), else Node's child_process, said once at warn. PROXY_MONITOR_SPAWN=child_process
// chooses the latter on purpose (the bench compares both).
//
// A helper lost while the daemon runs (killed, or stuck and killed by its watchdog) is replaced:
// its proxies stay with it (watched in /proc), and the proxies started from then on go through a
// new one, so that a stray `pkill` does not leave every later start forking the daemon. One that
// keeps dying is replaced less and less often.
import type { Logger } from '../logging/logger.ts';
import { HELPER_CANDIDATES, type HelperEvent, type HelperSpawner, startSpawnHelper, WATCHDOG } from '../process/helper.ts';
import { childProcessSpawner, type Spawner } from '../process/spawner.ts';

/** The wait before a lost helper is replaced: doubled at each loss within STABLE_MS of the last, capped. */
const REPLACE_MS = { first: 1_000, max: 300_000 };
const STABLE_MS = 600_000;

export async function chooseSpawner(
  logger: Logger,
  env = process.env,
  candidates = HELPER_CANDIDATES,
  replaceMs = REPLACE_MS,
): Promise<Spawner> {
  if (env.PROXY_MONITOR_SPAWN === 'child_process') return childProcessSpawner;
  let current: HelperSpawner;
  let wait = replaceMs.first;
  let startedAt = performance.now();

  function replace() {
    if (performance.now() - startedAt >= STABLE_MS) wait = replaceMs.first;
    const delay = wait;
    wait = Math.min(wait * 2, replaceMs.max);
    setTimeout(() => {
      startSpawnHelper(onEvent, candidates).then(
        (helper) => {
          current = helper;
          startedAt = performance.now();
          logger.info({ pid: helper.pid }, 'spawn helper started again: new proxies start through it');
        },
        (error: Error) => {
          logger.warn(
            { reason: error.message, retry_in_ms: wait },
            'spawn helper could not be started again: proxies start with child_process',
          );
          replace();
        },
      );
    }, delay).unref();
  }

  function onEvent(event: HelperEvent) {
    if (event.type === 'lost') {
      logger.error(
        { reason: event.reason },
        'spawn helper lost: its proxies are watched in /proc; new ones start with child_process until a new helper is up',
      );
      replace();
    } else if (event.type === 'stalled')
      logger.error(
        { reason: event.reason },
        `spawn helper not answering: checks connect from the daemon meanwhile; the proxies it starts and reaps wait for it (continued if stopped, killed after ${WATCHDOG.killAfterMs / 1000} s)`,
      );
    else if (event.type === 'continued') logger.warn('spawn helper was stopped by a signal: sent it SIGCONT');
    else logger.info('spawn helper answering again');
  }

  try {
    current = await startSpawnHelper(onEvent, candidates);
  } catch (error) {
    logger.warn(
      { reason: (error as Error).message },
      'spawn helper unavailable: proxies start with child_process (each start forks the daemon)',
    );
    return childProcessSpawner;
  }
  // A lost helper starts what it is asked with child_process, and connects nothing, until replaced.
  return {
    spawn: (request, callbacks) => current.spawn(request, callbacks),
    connect: (host, port, timeoutMs) => current.connect(host, port, timeoutMs),
  };
}
