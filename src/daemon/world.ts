// The real world: the system clock, processes from src/process, probes from src/health.
import { systemClock } from '../clock.ts';
import { createLimiter } from '../health/limiter.ts';
import { type Batch, createLater } from '../later.ts';
import { createProbe } from '../health/probe.ts';
import { waitUntilReady } from '../health/ready.ts';
import { cgroupUsage, proxyCgroupOf, type CgroupTree } from '../process/cgroup.ts';
import { adoptProcess, startProcess, stopAll } from '../process/driver.ts';
import type { Spawner } from '../process/spawner.ts';
import { groupUsage } from '../process/usage.ts';
import type { ProcessUsage, World } from '../supervisor/ports.ts';
import type { Logger } from '../logging/logger.ts';
import { watchForEscapes } from '../process/escape.ts';

/** How often an adopted (not our child) process is looked at in /proc. */
const ADOPTED_POLL_MS = 250;

/** Usage by leader pid: from each proxy's cgroup in cgroup mode, from its process group otherwise. */
function measure(pids: number[], tree: CgroupTree | undefined): Map<number, ProcessUsage> {
  const out = new Map<number, ProcessUsage>();
  const rest: number[] = [];
  for (const pid of pids) {
    const dir = tree && proxyCgroupOf(tree, pid);
    const used = dir === undefined ? undefined : cgroupUsage(dir);
    if (used) out.set(pid, used);
    else rest.push(pid);
  }
  for (const [pid, used] of groupUsage(rest)) out.set(pid, used);
  return out;
}

/**
 * `batch`: how a slice of the work that follows events runs (src/later.ts); `tree`: the delegated
 * cgroup the proxies run under (cgroup mode); none: process groups.
 */
export function createRealWorld(
  checkConcurrency: number,
  logger: Pick<Logger, 'error'>,
  spawner: Spawner,
  batch: Batch,
  tree?: CgroupTree,
): World {
  const limiter = createLimiter(checkConcurrency);
  const probe = createProbe(spawner.connect);
  return {
    clock: systemClock,
    later: createLater((error) => logger.error({ err: error }, 'internal error in work that follows an event'), { batch }),
    driver: watchForEscapes(
      {
        start: (spec, events) => startProcess(spec, events, spawner, tree),
        adopt: (pid, events) => adoptProcess(pid, events, ADOPTED_POLL_MS, tree),
        stopAll,
        // A round whose measurement fails (the daemon out of file descriptors: EMFILE) is checked
        // without it: the memory watchdog skips a round, the health checks do not.
        measure: (pids) => {
          try {
            return measure(pids, tree);
          } catch (error) {
            logger.error({ err: error }, 'cannot measure the proxies this round: checked without their memory');
            return new Map();
          }
        },
      },
      logger,
    ),
    prober: {
      probe,
      waitUntilReady: (spec, target, deadline, signal) => waitUntilReady(spec, target, deadline, signal, probe),
      limit: (task) => limiter.run(task),
      setConcurrency: (n) => limiter.setConcurrency(n),
    },
  };
}
