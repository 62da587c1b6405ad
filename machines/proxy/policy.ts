// The restart policy: pure arithmetic over times in epoch milliseconds. The machine's guards ask
// these functions; the same functions explain a withheld restart, so "why" never disagrees with
// what the machine did.

export const HOUR_MS = 3_600_000;

export interface RestartPolicy {
  /** No automatic restart within this long after the previous restart attempt. */
  cooldownMs: number;
  /** At most this many automatic restart attempts in any sliding window of `windowMs`. */
  maxRestarts: number;
  windowMs: number;
  /** Delay before retrying after a failed restart: initial * factor^(failures-1), capped at max. */
  backoff: { initialMs: number; factor: number; maxMs: number };
  /** Uptime after which a crash no longer counts the previous restarts as failing. */
  stableUptimeMs: number;
  /** Consecutive failed health checks that make a running proxy crashed. */
  failureThreshold: number;
  /** Time a started or restarted proxy has to pass its first check (a restart fails without it; a first start's failures meanwhile are not counted). */
  startGraceMs: number;
  /** A restarted process must stay up this long for its restart to count as a success. */
  minUptimeMs: number;
  /** `on-failure`: a clean exit leaves the proxy stopped (systemd's Restart=). */
  restart: 'always' | 'on-failure';
}

/** Signals systemd counts as a clean exit, besides code 0. */
const CLEAN_SIGNALS = new Set(['SIGHUP', 'SIGINT', 'SIGTERM', 'SIGPIPE']);

/** An exit that `restart: on-failure` does not restart. */
export function isCleanExit(code: number | null, signal: string | null): boolean {
  return signal === null ? code === 0 : CLEAN_SIGNALS.has(signal);
}

/** What the policy needs to know about a proxy's past. */
export interface RestartHistory {
  /** Automatic restart attempts inside the current window, oldest first. */
  attempts: number[];
  lastAttemptAt: number | null;
  /** Restarts that failed, or crashed within `stableUptimeMs`, since the proxy last stayed up that long. */
  consecutiveFailures: number;
  lastFailureAt: number | null;
}

export type Blocker = 'cooldown' | 'restart_cap' | 'backoff';

export interface RestartDecision {
  at: number;
  verdict: 'allowed' | 'withheld' | 'held';
  /** The blocker that holds the restart back the longest (withheld), or why it is held. */
  blocker: Blocker | 'monitoring_disabled' | 'stopped_by_operator' | null;
  inputs: {
    restartsInWindow: number;
    maxRestarts: number;
    windowS: number;
    cooldownS: number;
    cooldownRemainingMs: number;
    backoffMs: number;
    backoffRemainingMs: number;
    consecutiveFailures: number;
  };
  nextAttemptAt: number | null;
  message: string;
}

export function attemptsInWindow(record: RestartHistory, policy: RestartPolicy, at: number): number[] {
  return record.attempts.filter((t) => t > at - policy.windowMs);
}

export function cooldownEndsAt(record: RestartHistory, policy: RestartPolicy): number {
  return record.lastAttemptAt === null ? -Infinity : record.lastAttemptAt + policy.cooldownMs;
}

/** When the sliding window next has room for one more attempt. */
function capSlotAt(record: RestartHistory, policy: RestartPolicy, at: number): number {
  const recent = attemptsInWindow(record, policy, at);
  if (recent.length < policy.maxRestarts) return -Infinity;
  return recent[recent.length - policy.maxRestarts] + policy.windowMs;
}

function backoffDelayMs(failures: number, policy: RestartPolicy): number {
  if (failures <= 0) return 0;
  const { initialMs, factor, maxMs } = policy.backoff;
  return Math.min(maxMs, initialMs * factor ** (failures - 1));
}

function backoffEndsAt(record: RestartHistory, policy: RestartPolicy): number {
  if (record.consecutiveFailures === 0 || record.lastFailureAt === null) return -Infinity;
  return record.lastFailureAt + backoffDelayMs(record.consecutiveFailures, policy);
}

/**
 * When each blocker stops holding an automatic restart back (-Infinity: it does not hold it). The
 * machine's guards and the decision `why` shows both read these, so they cannot disagree.
 */
export function blockerDeadlines(record: RestartHistory, policy: RestartPolicy, at: number): Record<Blocker, number> {
  return {
    cooldown: cooldownEndsAt(record, policy),
    restart_cap: capSlotAt(record, policy, at),
    backoff: backoffEndsAt(record, policy),
  };
}

/** The full decision at time `at`, with the inputs an operator needs to understand it. */
export function decideRestart(record: RestartHistory, policy: RestartPolicy, at: number): RestartDecision {
  const deadlines = blockerDeadlines(record, policy, at);
  // The blocker that holds it back the longest; on a tie, the first in the order above.
  const [blocker, eligibleAt] = (Object.entries(deadlines) as Array<[Blocker, number]>).reduce((a, b) => (b[1] > a[1] ? b : a));
  const allowed = eligibleAt <= at;
  const inputs = {
    restartsInWindow: attemptsInWindow(record, policy, at).length,
    maxRestarts: policy.maxRestarts,
    windowS: policy.windowMs / 1000,
    cooldownS: policy.cooldownMs / 1000,
    cooldownRemainingMs: Math.max(0, deadlines.cooldown - at),
    backoffMs: backoffDelayMs(record.consecutiveFailures, policy),
    backoffRemainingMs: Math.max(0, deadlines.backoff - at),
    consecutiveFailures: record.consecutiveFailures,
  };
  if (allowed) {
    return {
      at,
      verdict: 'allowed',
      blocker: null,
      inputs,
      nextAttemptAt: at,
      message: 'restart allowed: cooldown elapsed, under the hourly cap, no backoff pending',
    };
  }
  return { at, verdict: 'withheld', blocker, inputs, nextAttemptAt: eligibleAt, message: withheldMessage(blocker, inputs, eligibleAt) };
}

/** Why no automatic restart will happen: the proxy's own switch, the whole monitor's, or a stop. */
export type HoldCause = 'proxy_disabled' | 'monitor_off' | 'stopped_by_operator';

/** Each message names the command that lifts the hold. */
function heldMessage(cause: HoldCause, id: string): string {
  switch (cause) {
    case 'proxy_disabled':
      return `not restarted: monitoring is disabled for this proxy (\`proxy-monitor enable ${id}\` resumes automatic restarts)`;
    case 'monitor_off':
      return 'not restarted: the monitor is not watching, paused by the operator or off in the config (proxy.monitor.enable: false); `proxy-monitor monitor start` resumes automatic restarts';
    case 'stopped_by_operator':
      return `not restarted: stopped by the operator (\`proxy-monitor start ${id}\` starts it again)`;
  }
}

export function heldDecision(record: RestartHistory, policy: RestartPolicy, at: number, id: string, cause: HoldCause): RestartDecision {
  const base = decideRestart(record, policy, at);
  const blocker = cause === 'stopped_by_operator' ? cause : 'monitoring_disabled';
  return { ...base, verdict: 'held', blocker, nextAttemptAt: null, message: heldMessage(cause, id) };
}

function withheldMessage(blocker: Blocker, inputs: RestartDecision['inputs'], eligibleAt: number): string {
  const when = new Date(eligibleAt).toISOString();
  switch (blocker) {
    case 'cooldown':
      return `restart deferred by cooldown (${inputs.cooldownS}s since the previous attempt); next attempt at ${when}`;
    case 'restart_cap':
      return `restart cap reached (${inputs.restartsInWindow}/${inputs.maxRestarts} in the last ${inputs.windowS}s); a slot frees at ${when}`;
    case 'backoff':
      return `restart backed off after ${inputs.consecutiveFailures} restart(s) that failed or did not stay up stable_uptime (${inputs.backoffMs}ms); next attempt at ${when}`;
  }
}
