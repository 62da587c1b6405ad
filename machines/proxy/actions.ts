// Context updates, as pure functions of (context, event). The machine makes each exported one the
// `assign` action of the same name (assignEach): everything exported here must be an Update.
import { proxyEnabled, currentRestart, inStartGrace, type ProxyContext, type RestartOutcome, type RestartReason } from './context.ts';
import type { ProxyEvent } from './events.ts';
import { memoryAboveLimit } from './guards.ts';
import { attemptsInWindow, decideRestart, heldDecision } from './policy.ts';

export type Update = (context: ProxyContext, event: ProxyEvent) => Partial<ProxyContext>;

const OPERATOR_RESTART = 'restart requested by the operator';
const CONFIG_CHANGED = 'restart: what the proxy executes changed in the configuration';

function eventOf<T extends ProxyEvent['type']>(event: ProxyEvent, type: T): Extract<ProxyEvent, { type: T }> | undefined {
  return event.type === type ? (event as Extract<ProxyEvent, { type: T }>) : undefined;
}

export const processStarted: Update = (context, event) => {
  const spawned = eventOf(event, 'SPAWNED');
  return {
    pid: spawned?.pid ?? context.adoptPid,
    startedAt: spawned ? event.at : (context.adoptStartedAt ?? event.at),
    startGraceUntil: null,
    checkFailures: 0,
    memoryStrikes: 0,
    adoptPid: null,
    adoptStartedAt: null,
  };
};

/** The crash it was down after when the daemon stopped, taken up again at boot (not a new crash: not reported as one). */
export const resumeCrash: Update = (context) => {
  const crash = context.carriedCrash!;
  return {
    carriedCrash: null,
    crashKind: crash.kind,
    explanation: `crashed before the daemon stopped (${crash.reason}): its restart policy carries on`,
    crashReason: crash.reason,
  };
};

/** What failed, as a restart's reason: the process exited, could not start, or failed its checks. */
const failureOf = (event: ProxyEvent): RestartReason =>
  event.type === 'EXITED' ? 'exited' : event.type === 'SPAWN_FAILED' ? 'spawn_failed' : 'health_check_failed';

/**
 * A crash of a running proxy: name its cause, and forget old failures if it had stayed up
 * `stable_uptime`. A crash within `stable_uptime` of the last restart is that restart not holding:
 * it counts as a failed one, so the backoff grows (PM2's exp_backoff_restart_delay, systemd's
 * RestartSteps). Without it, a process that exits at once with `min_uptime: 0` and no cooldown was
 * restarted as fast as it could exit, each restart "succeeded". A process that could not be started
 * neither held nor failed to: its restart's failure, if it was one, is counted by restartFailed.
 */
export const noteCrash: Update = (context, event) => {
  const { stableUptimeMs } = context.policy;
  const ran = event.type !== 'SPAWN_FAILED';
  const stable = ran && context.startedAt !== null && event.at - context.startedAt >= stableUptimeMs;
  const unheld = ran && !stable && context.lastAttemptAt !== null && event.at - context.lastAttemptAt < stableUptimeMs;
  const exited = eventOf(event, 'EXITED');
  const kind = failureOf(event);
  const reason = crashDescription(event, context);
  return {
    crashKind: kind,
    explanation: reason,
    crashReason: reason,
    // A process that could not be started "exited" at its spawn: `why` must say so, not an older exit.
    lastExit: exited || kind === 'spawn_failed' ? reason : context.lastExit,
    consecutiveFailures: stable ? 0 : unheld ? context.consecutiveFailures + 1 : context.consecutiveFailures,
    lastFailureAt: unheld ? event.at : context.lastFailureAt,
    pid: exited || kind === 'spawn_failed' ? null : context.pid,
    restart: null,
  };
};

const mib = (bytes: number) => `${(bytes / 2 ** 20).toFixed(1)} MiB`;

/** The watchdog's crash: a process too big for its limit, stopped and restarted like any crash. */
export const noteMemoryCrash: Update = (context, event) => {
  const memory = memoryAboveLimit(event)!;
  const why = `memory ${mib(memory.bytes)} above the limit of ${mib(memory.limit!)} for ${context.memoryStrikes + 1} checks in a row`;
  return { ...noteCrash(context, event), crashKind: 'memory', explanation: why, crashReason: why };
};

function crashDescription(event: ProxyEvent, context: ProxyContext): string {
  switch (event.type) {
    case 'EXITED': {
      if (event.whileAway) return 'process ended while the daemon was down (exit status unknown)';
      // Only a process's parent learns its status: an adopted one, or one whose spawn helper died
      // (reparented to init), exits without one.
      const how = event.signal
        ? `on signal ${event.signal}`
        : event.code === null
          ? ', exit status unknown (not a child of the daemon: adopted, or its spawn helper died)'
          : `with code ${event.code}`;
      return `process exited${event.signal || event.code !== null ? ' ' : ''}${how}${event.escaped ? `; ${event.escaped}` : ''}`;
    }
    case 'SPAWN_FAILED':
      return `process could not be started: ${event.error}`;
    case 'CHECK_FAILED':
      return `health check failed ${context.checkFailures + 1} times in a row: ${event.error}`;
    default:
      return event.type.toLowerCase();
  }
}

export const processGone: Update = () => ({ pid: null, startedAt: null });

/** A clean exit under `restart: on-failure`: the proxy is down until the operator starts it. */
export const exitedCleanly: Update = (context, event) => {
  const exited = eventOf(event, 'EXITED');
  const how = exited?.signal ? `on signal ${exited.signal}` : `with code ${exited?.code}`;
  return {
    pid: null,
    startedAt: null,
    wanted: 'down',
    // `why` shows it: a daemonizing proxy's main process exits 0 (its escape is in the note).
    lastExit: crashDescription(event, context),
    explanation: `process exited cleanly (${how}${exited?.escaped ? `; ${exited.escaped}` : ''}); restart is on-failure, so it stays stopped`,
  };
};

/** A first start's process, given start_grace to pass its first check (its failures meanwhile do not count). */
export const beginStartGrace: Update = (context, event) => ({ startGraceUntil: event.at + context.policy.startGraceMs });

export const recordCheck: Update = (context, event) => {
  const failed = eventOf(event, 'CHECK_FAILED');
  const passed = eventOf(event, 'CHECK_PASSED');
  const durationMs = failed?.durationMs ?? passed?.durationMs ?? 0;
  const memory = failed?.memory ?? passed?.memory;
  const graced = failed !== undefined && inStartGrace(context, event.at);
  return {
    lastCheck: {
      at: event.at,
      ok: !failed,
      durationMs,
      ...(failed ? { error: failed.error } : {}),
      ...(graced && { inStartGrace: true as const }),
      ...(memory && { memory }),
    },
    // A pass ends the grace: from then on every failure counts.
    startGraceUntil: graced ? context.startGraceUntil : null,
    checkFailures: graced ? 0 : failed ? context.checkFailures + 1 : 0,
    memoryStrikes: memoryAboveLimit(event) ? context.memoryStrikes + 1 : 0,
    stats: { ...context.stats, checks: context.stats.checks + 1 },
  };
};

export const beginAutomaticRestart: Update = (context, event) => ({
  attempts: [...attemptsInWindow(context, context.policy, event.at), event.at],
  lastAttemptAt: event.at,
  restart: { reason: context.crashKind, manual: false, startedAt: event.at },
  decision: decideRestart(context, context.policy, event.at),
  explanation: `automatic restart after: ${context.crashReason}`,
});

/**
 * The operator's start or restart, or a change to what the proxy executes, starts the failure
 * backoff over: a fixed proxy's first crash is not held back by the loop before the fix (systemd
 * flushes a unit's restart counter at the next start in the same way).
 */
const freshBackoff = { consecutiveFailures: 0, lastFailureAt: null } as const;

export const beginManualRestart: Update = (context, event) => {
  const replacing = context.restart?.reason === 'config_changed';
  return {
    ...freshBackoff,
    lastAttemptAt: event.at,
    // Asked for while a hung process was being reaped (or while the restart that just failed ran),
    // the attempt starts now, not at the request: the record's `at` is the attempt time, as for
    // automatic restarts.
    restart: { ...(context.restart ?? { reason: 'operator', manual: true }), startedAt: event.at },
    restartRequested: false,
    decision: {
      ...decideRestart({ ...context, ...freshBackoff }, context.policy, event.at),
      verdict: 'allowed',
      blocker: null,
      nextAttemptAt: event.at,
      message: replacing
        ? 'what the proxy executes changed in the configuration: restarted at once (guards bypassed)'
        : 'restart requested by the operator (guards bypassed)',
    },
    explanation: replacing ? CONFIG_CHANGED : OPERATOR_RESTART,
  };
};

export const recordWithheld: Update = (context, event) => {
  const decision = decideRestart(context, context.policy, event.at);
  return { decision, explanation: decision.message };
};

export const recordHeld: Update = (context, event) => {
  const cause = context.wanted === 'down' ? 'stopped_by_operator' : proxyEnabled(context) ? 'monitor_off' : 'proxy_disabled';
  const decision = heldDecision(context, context.policy, event.at, context.id, cause);
  return { decision, explanation: decision.message, restart: null };
};

function restartOutcome(context: ProxyContext, event: ProxyEvent, success: boolean): RestartOutcome {
  const restart = currentRestart(context, event.at);
  const error = success ? undefined : failureDescription(event, context);
  return {
    at: restart.startedAt,
    reason: restart.reason,
    manual: restart.manual,
    success,
    durationMs: event.at - restart.startedAt,
    ...(error ? { error } : {}),
  };
}

/** Seconds for a message: 0.5, 1, 12.3. */
const seconds = (ms: number) => Number((ms / 1000).toFixed(1));

function failureDescription(event: ProxyEvent, context: ProxyContext): string {
  switch (event.type) {
    case 'SPAWN_FAILED':
      return event.daemonFault
        ? `${event.error} (the daemon is short of its own resources: not counted against the restart cap)`
        : event.error;
    case 'NOT_READY':
      return `not ready within the start grace: ${event.error}`;
    case 'EXITED': {
      const how = event.signal ? `signal ${event.signal}` : `code ${event.code}`;
      const uptime = context.startedAt === null ? 0 : event.at - context.startedAt;
      const { minUptimeMs } = context.policy;
      // An early exit is a failed start, as supervisord's startsecs and PM2's min_uptime count it.
      if (context.startedAt !== null && uptime < minUptimeMs)
        return `exited after ${seconds(uptime)} s, before min_uptime ${seconds(minUptimeMs)} s (${how})`;
      return `exited before it was ready (${how})`;
    }
    default:
      return event.type.toLowerCase();
  }
}

export const restartSucceeded: Update = (context, event) => {
  const outcome = restartOutcome(context, event, true);
  return {
    lastRestart: outcome,
    restart: null,
    stats: { ...context.stats, restarts: context.stats.restarts + 1, successes: context.stats.successes + 1 },
    explanation: `restart succeeded in ${outcome.durationMs}ms`,
  };
};

/**
 * The cause the automatic retries of a failed restart carry: an automatic chain keeps the crash that
 * began it; an operator's or a config change's restart that failed is not retried as theirs (the
 * history would show restarts nobody asked for), but as what failed.
 */
function retryReason(context: ProxyContext, event: ProxyEvent): RestartReason {
  if (context.restart && !context.restart.manual) return context.restart.reason;
  if (!context.restart) return context.crashKind;
  return failureOf(event);
}

/** A restart that failed because the daemon ran short of its own resources gives its attempt back. */
function attemptsAfterFailure(context: ProxyContext, event: ProxyEvent): Partial<ProxyContext> {
  const spawnFailed = eventOf(event, 'SPAWN_FAILED');
  if (!spawnFailed?.daemonFault || !context.restart || context.restart.manual) return {};
  return { attempts: context.attempts.filter((at) => at !== context.restart!.startedAt) };
}

export const restartFailed: Update = (context, event) => {
  const given = attemptsAfterFailure(context, event);
  // Given back here, and not counted by the next daemon either (the record says so).
  const outcome = { ...restartOutcome(context, event, false), ...(given.attempts && { uncounted: true as const }) };
  return {
    ...given,
    lastRestart: outcome,
    restart: null,
    consecutiveFailures: context.consecutiveFailures + 1,
    lastFailureAt: event.at,
    crashKind: retryReason(context, event),
    pid: event.type === 'NOT_READY' ? context.pid : null,
    stats: { ...context.stats, restarts: context.stats.restarts + 1, failures: context.stats.failures + 1 },
    explanation: `restart failed: ${outcome.error}`,
    crashReason: `restart failed: ${outcome.error}`,
    lastExit: event.type === 'EXITED' || event.type === 'SPAWN_FAILED' ? crashDescription(event, context) : context.lastExit,
  };
};

/**
 * A restart cut short by the operator's stop or the proxy's removal while its process was being
 * verified: recorded as not succeeded, saying so; not the proxy's failure, so no backoff follows.
 */
export const restartCancelled: Update = (context, event) => {
  const by = context.retiring ? 'removed from the configuration' : 'stopped by the operator';
  return {
    lastRestart: { ...restartOutcome(context, event, true), success: false, error: `${by} before it was ready` },
    restart: null,
    stats: { ...context.stats, restarts: context.stats.restarts + 1, failures: context.stats.failures + 1 },
    explanation: `${by}: the restart in progress was cut short`,
  };
};

// Operator commands and settings from the monitor.
export const wantUp: Update = () => ({ wanted: 'up', explanation: 'started by the operator' });
/** A start that starts a process (of a stopped proxy): the backoff starts over, as for a restart. */
export const startByOperator: Update = (context, event) => ({ ...wantUp(context, event), ...freshBackoff });

/**
 * A restart of a live process, by the operator or because what it executes changed: a restart like
 * any other (history record, stats, cooldown), recorded once the new process is up; not an
 * automatic attempt, so not counted against the hourly cap.
 */
function beginRestartOfLiveProcess(reason: 'operator' | 'config_changed', at: number, message: string): Partial<ProxyContext> {
  return {
    ...freshBackoff,
    restart: { reason, manual: true, startedAt: at },
    lastAttemptAt: at,
    outdated: false,
    restartRequested: false,
    explanation: message,
  };
}
export const beginOperatorRestart: Update = (_context, event) => ({
  wanted: 'up',
  ...beginRestartOfLiveProcess('operator', event.at, OPERATOR_RESTART),
});
export const beginReplacement: Update = (_context, event) =>
  beginRestartOfLiveProcess('config_changed', event.at, eventOf(event, 'REPLACE')?.reason ?? CONFIG_CHANGED);
export const markOutdated: Update = () => ({ outdated: true });
export const spawning: Update = () => ({ outdated: false });
export const wantRestart: Update = () => ({ ...freshBackoff, wanted: 'up', explanation: OPERATOR_RESTART });
/** RESTART while a restart is in flight: that restart's process predates the request, so another follows it. */
export const requestRestartAfterThis: Update = () => ({
  wanted: 'up',
  restartRequested: true,
  explanation: `${OPERATOR_RESTART}: it follows the restart in flight`,
});
// The operator's last word wins: a stop or removal cancels a restart asked for before it.
export const wantDown: Update = () => ({ wanted: 'down', restart: null, restartRequested: false, explanation: 'stopped by the operator' });
export const retire: Update = () => ({
  wanted: 'down',
  retiring: true,
  restart: null,
  restartRequested: false,
  explanation: 'removed from the configuration',
});

// STOP or RETIRE while a restart is in flight: the restart still ends (cancelled once its process is
// spawned, or failed) and its record must say who started it and when, so the request it describes
// is kept.
export const wantDownDuringRestart: Update = (context, event) => ({ ...wantDown(context, event), restart: context.restart });
export const retireDuringRestart: Update = (context, event) => ({ ...retire(context, event), restart: context.restart });

/**
 * A restart that failed running the old config, what the proxy executes having changed meanwhile (a
 * reload fixed its command): the new one is tried at once, as a crashed proxy's changed entry is,
 * not after this failure's backoff.
 */
export const replaceIfOutdated: Update = (context, event) =>
  context.outdated && context.wanted === 'up' ? { restart: { reason: 'config_changed', manual: true, startedAt: event.at } } : {};

/**
 * What a crashed proxy executes changed (a reload fixed its command, say): it restarts at once with
 * the new config, as a running one is replaced, not counted against the cap.
 */
export const requestReplacement: Update = (_context, event) => ({
  restart: { reason: 'config_changed', manual: true, startedAt: event.at },
  explanation: eventOf(event, 'REPLACE')?.reason ?? CONFIG_CHANGED,
});

/** START or RESTART of a crashed proxy: the operator's restart goes ahead of the guards. */
export const requestManualRestart: Update = (_context, event) => ({
  wanted: 'up',
  restart: { reason: 'operator', manual: true, startedAt: event.at },
  explanation: OPERATOR_RESTART,
});

export const applySettings: Update = (_context, event) => {
  switch (event.type) {
    case 'ENABLE':
      return { override: true };
    case 'DISABLE':
      return { override: false };
    case 'SUPERVISE':
      return { supervised: event.active };
    case 'CONFIGURE':
      return { policy: event.policy, monitored: event.monitored };
    default:
      return {};
  }
};
