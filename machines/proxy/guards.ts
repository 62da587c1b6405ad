import { inStartGrace, monitoringActive, type ProxyContext } from './context.ts';
import type { MemoryReading, ProxyEvent } from './events.ts';
import { type Blocker, blockerDeadlines, isCleanExit } from './policy.ts';

// Guards named for what they mean. Those that depend on time read it from the event being handled,
// never from a clock.
type GuardArgs = { context: ProxyContext; event: ProxyEvent };

/** The memory reading a check event carries, when it is above its limit. */
export function memoryAboveLimit(event: ProxyEvent): MemoryReading | undefined {
  const memory = event.type === 'CHECK_PASSED' || event.type === 'CHECK_FAILED' ? event.memory : undefined;
  return memory && memory.limit !== null && memory.bytes > memory.limit ? memory : undefined;
}

/** The policy's blocker no longer holds an automatic restart back at the event's time. */
const passed =
  (blocker: Blocker) =>
  ({ context, event }: GuardArgs) =>
    blockerDeadlines(context, context.policy, event.at)[blocker] <= event.at;

export const guards = {
  cooldownElapsed: passed('cooldown'),
  underRestartCap: passed('restart_cap'),
  backoffElapsed: passed('backoff'),
  monitoringInactive: ({ context }: GuardArgs) => !monitoringActive(context),
  operatorAskedRestart: ({ context }: GuardArgs) => context.restart?.manual === true || context.restartRequested,
  restartInFlight: ({ context }: GuardArgs) => context.restart !== null,
  outdated: ({ context }: GuardArgs) => context.outdated,
  restartRequested: ({ context }: GuardArgs) => context.restartRequested,
  failureThresholdReached: ({ context, event }: GuardArgs) =>
    !inStartGrace(context, event.at) && context.checkFailures + 1 >= context.policy.failureThreshold,
  /** The memory watchdog: above the limit for failure_threshold checks in a row, this one included. */
  memoryLimitReached: ({ context, event }: GuardArgs) =>
    memoryAboveLimit(event) !== undefined && context.memoryStrikes + 1 >= context.policy.failureThreshold,
  wantedUp: ({ context }: GuardArgs) => context.wanted === 'up',
  wantedDown: ({ context }: GuardArgs) => context.wanted === 'down',
  retiring: ({ context }: GuardArgs) => context.retiring,
  hasProcessToAdopt: ({ context }: GuardArgs) => context.adoptPid !== null,
  hasProcess: ({ context }: GuardArgs) => context.pid !== null,
  processLostWhileAway: ({ context }: GuardArgs) => context.lostProcess,
  crashCarriedOver: ({ context }: GuardArgs) => context.carriedCrash !== null,
  /** `restart: on-failure` and the process exited cleanly: it stays stopped, as systemd leaves such a unit. */
  exitWantsNoRestart: ({ context, event }: GuardArgs) =>
    event.type === 'EXITED' && context.policy.restart === 'on-failure' && isCleanExit(event.code, event.signal),
};
