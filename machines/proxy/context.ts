import type { RestartDecision, RestartPolicy } from './policy.ts';

export type ProxyPhase = 'unknown' | 'running' | 'stopped' | 'crashed' | 'restarting';

/** The states in which a proxy is down after a crash: what a daemon start carries over. */
export const downAfterCrash = (phase: ProxyPhase) => phase === 'crashed' || phase === 'restarting';

/**
 * Why a restart happened: a crash of some kind (memory: above its memory limit for
 * failure_threshold checks in a row, the watchdog), or the operator (by hand, or by changing what
 * is executed).
 */
export type RestartReason = 'exited' | 'spawn_failed' | 'health_check_failed' | 'memory' | 'operator' | 'config_changed';

/** One restart through the `restarting` state, as it lands in the history. */
export interface RestartOutcome {
  at: number;
  reason: RestartReason;
  manual: boolean;
  success: boolean;
  durationMs: number;
  error?: string;
  /** An automatic restart that failed for want of the daemon's own resources: its attempt is not counted against the hourly cap. */
  uncounted?: true;
}

interface CheckResult {
  at: number;
  ok: boolean;
  durationMs: number;
  error?: string;
  /** A failure inside a first start's grace, before any pass: not counted toward failure_threshold. */
  inStartGrace?: true;
  memory?: import('./events.ts').MemoryReading;
}

export interface ProxyStats {
  checks: number;
  restarts: number;
  successes: number;
  failures: number;
}

/** What the machine counts that the restart rows cannot tell (history is pruned, backoff resets). */
export interface ProxyCounters {
  stats: ProxyStats;
  consecutiveFailures: number;
  lastFailureAt: number | null;
}

export const countersOf = (context: ProxyContext): ProxyCounters => ({
  stats: context.stats,
  consecutiveFailures: context.consecutiveFailures,
  lastFailureAt: context.lastFailureAt,
});

/** The restart in flight; one that lost its record (it cannot, but a report must not fail) is the last crash's. */
export function currentRestart(context: ProxyContext, at: number): NonNullable<ProxyContext['restart']> {
  return context.restart ?? { reason: context.crashKind, manual: false, startedAt: at };
}

/** What the store hands back after a daemon restart, so caps and cooldowns carry on. */
export interface ProxyMemory {
  attempts: number[];
  lastAttemptAt: number | null;
  consecutiveFailures: number;
  lastFailureAt: number | null;
  stats: ProxyStats;
  override: boolean | null;
  wanted: 'up' | 'down';
  lastRestart: RestartOutcome | null;
  /** A live process from the previous run, proven to be ours: adopt it instead of spawning. */
  adoptPid: number | null;
  /** When that process started (epoch ms), so that its uptime does not restart from the adoption. */
  adoptStartedAt: number | null;
  /**
   * Its process of the previous run ended while the daemon was down (same boot of the machine): a
   * crash nobody saw, handled as one at boot (recorded, and its restart held by the stored guards).
   */
  lostProcess: boolean;
  /**
   * It was down after a crash (crashed, or restarting) when the daemon last stopped or died: why,
   * and what its restart is recorded as. The daemon's start does not start it: the restart policy
   * carries on from the stored attempts, as if the daemon had never stopped. Only a daemon start
   * carries a crash over (a proxy a reload adds is started), and a process lost while the daemon
   * was down tells more than the phase stored. A live process of its own is the new process of the
   * restart in flight (`restarting`): adopted, it tells more too; or else the crashed process that
   * was being stopped (the daemon died during its stop_timeout): adopted and stopped again.
   */
  carriedCrash: { kind: RestartReason; reason: string; restarting?: true } | null;
}

export interface ProxyInput {
  id: string;
  policy: RestartPolicy;
  /** The config's per-proxy `monitor` flag. */
  monitored: boolean;
  memory?: Partial<ProxyMemory>;
  /** Added by a reload, not booted with the daemon: it is started (only a daemon start carries a crash over). */
  added?: boolean;
}

export interface ProxyContext extends ProxyMemory {
  id: string;
  policy: RestartPolicy;
  monitored: boolean;
  /** Set by the monitor: false while monitoring is off globally or the monitor is stopped. */
  supervised: boolean;
  /** The last top-level state entered, so a state change can name where it came from. */
  phase: ProxyPhase;
  /** Why the machine is doing what it does now, in words: the `reason` of the next state change. */
  explanation: string;
  /**
   * What it is down after, in words: its crash, or the restart that failed (`crashKind` is what its
   * restart is recorded as). An automatic restart names it, however long it waited meanwhile (the
   * explanation then is the wait's), and a daemon start carries it over.
   */
  crashReason: string;
  pid: number | null;
  startedAt: number | null;
  /**
   * A first start's grace (Docker's start period): until this time, or the first check that passes,
   * failed checks do not count toward failure_threshold. A restart has its own: its verification.
   */
  startGraceUntil: number | null;
  checkFailures: number;
  /** Consecutive checks that found the proxy above its memory limit. */
  memoryStrikes: number;
  lastCheck: CheckResult | null;
  /** The restart in flight: why it happens and when it started. */
  restart: { reason: RestartReason; manual: boolean; startedAt: number } | null;
  /** Why the last crash happened; what the next restart will be recorded as. */
  crashKind: RestartReason;
  decision: RestartDecision | null;
  /** How the process last ended, e.g. "process exited with code 0; it left 1 process running ...", or "process could not be started: spawn ... ENOENT". */
  lastExit: string | null;
  retiring: boolean;
  /** What it executes changed while a restart was in flight: replace the process once that restart is up. */
  outdated: boolean;
  /**
   * The operator asked for a restart while one was in flight (its process was started before the
   * request): restart once more when that one ends, up or crashed.
   */
  restartRequested: boolean;
}

export const emptyStats: ProxyStats = { checks: 0, restarts: 0, successes: 0, failures: 0 };

export function initialContext(input: ProxyInput): ProxyContext {
  const memory = input.memory ?? {};
  // Stopped by the operator: stopped it stays, and a start later starts it afresh.
  const yields = input.added || memory.lostProcess || memory.wanted === 'down' || (memory.adoptPid && memory.carriedCrash?.restarting);
  const carriedCrash = yields ? null : (memory.carriedCrash ?? null);
  return {
    id: input.id,
    policy: input.policy,
    monitored: input.monitored,
    supervised: false,
    attempts: memory.attempts ?? [],
    lastAttemptAt: memory.lastAttemptAt ?? null,
    consecutiveFailures: memory.consecutiveFailures ?? 0,
    lastFailureAt: memory.lastFailureAt ?? null,
    stats: memory.stats ?? emptyStats,
    override: memory.override ?? null,
    wanted: memory.wanted ?? 'up',
    lastRestart: memory.lastRestart ?? null,
    adoptPid: memory.adoptPid ?? null,
    adoptStartedAt: memory.adoptStartedAt ?? null,
    lostProcess: memory.lostProcess ?? false,
    carriedCrash,
    phase: 'unknown',
    explanation:
      memory.wanted === 'down'
        ? 'stopped by the operator (kept across the daemon restart)'
        : carriedCrash
          ? 'daemon started: the proxy was down after a crash, so it is not started'
          : input.added
            ? 'added to the configuration'
            : 'daemon started',
    crashReason: '',
    pid: null,
    startedAt: null,
    startGraceUntil: null,
    checkFailures: 0,
    memoryStrikes: 0,
    lastCheck: null,
    restart: null,
    crashKind: 'exited',
    decision: null,
    lastExit: null,
    retiring: false,
    outdated: false,
    restartRequested: false,
  };
}

/** The proxy's own monitoring flag (`enabled` in the API): the runtime override if any, else the config's `monitor`. */
export function proxyEnabled(context: ProxyContext): boolean {
  return context.override ?? context.monitored;
}

/** Inside a first start's grace at `at`, no check having passed yet. */
export function inStartGrace(context: ProxyContext, at: number): boolean {
  return context.startGraceUntil !== null && at < context.startGraceUntil;
}

/** Monitoring is active (`monitoring_active` in the API) when the monitor supervises and the proxy is enabled. */
export function monitoringActive(context: ProxyContext): boolean {
  return context.supervised && proxyEnabled(context);
}
