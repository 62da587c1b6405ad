// The real world: the system clock, processes from src/process, probes from src/health.
import { systemClock } from '../clock.ts';
import { createLimiter } from '../health/limiter.ts';
import { probe } from '../health/probe.ts';
import { waitUntilReady } from '../health/ready.ts';
import { adoptProcess, startProcess, stopAll } from '../process/driver.ts';
import { groupUsage } from '../process/usage.ts';
import type { World } from '../supervisor/ports.ts';
import type { Logger } from '../logging/logger.ts';
import { watchForEscapes } from '../process/escape.ts';

/** How often an adopted (not our child) process is looked at in /proc. */
const ADOPTED_POLL_MS = 250;

export function createRealWorld(checkConcurrency: number, logger: Pick<Logger, 'error'>): World {
  const limiter = createLimiter(checkConcurrency);
  return {
    clock: systemClock,
    driver: watchForEscapes(
      {
        start: startProcess,
        adopt: (pid, events) => adoptProcess(pid, events, ADOPTED_POLL_MS),
        stopAll,
        measure: groupUsage,
      },
      logger,
    ),
    prober: {
      probe,
      waitUntilReady: (spec, target, deadline, signal) => waitUntilReady(spec, target, deadline, signal),
      limit: (task) => limiter.run(task),
      setConcurrency: (n) => limiter.setConcurrency(n),
    },
  };
}
