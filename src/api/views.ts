// A proxy actor's context as the API shows it: snake_case, ISO times, and the figures that depend on
// "now" (uptime, window, cooldown, remaining waits) computed at the moment of the request with the
// same policy functions the machine decides with.
import type { ProxyView } from '../../machines/monitor/status.ts';
import type { SupervisedProxy } from '../supervisor/supervisor.ts';
import { monitoringActive, proxyEnabled, type RestartOutcome } from '../../machines/proxy/context.ts';
import { attemptsInWindow, cooldownEndsAt } from '../../machines/proxy/policy.ts';
import type { OutputLine } from '../inspector/recent.ts';
import type { LivenessReport } from '../metrics/liveness.ts';
import type { ProxySpec } from '../proxy-spec.ts';
import type { RestartRow } from '../store/types.ts';
import type { ProxyReply, RestartRecordReply, WhyReply } from './schemas.ts';
import { statePath } from '../../machines/monitor/status.ts';

export const iso = (ms: number): string => new Date(ms).toISOString();

/** A proxy's output lines as the API shows them. */
export const outputLines = (lines: readonly OutputLine[]): WhyReply['last_output'] =>
  lines.map((l) => ({ time: iso(l.at), stream: l.stream, line: l.line }));
const isoOrNull = (ms: number | null | undefined): string | null => (ms == null ? null : iso(ms));

/** The monitor's liveness as /healthz and the inspector's summary say it. */
export const livenessReply = (report: LivenessReport) => ({
  ok: report.ok,
  state: report.state,
  message: report.message,
  last_tick: isoOrNull(report.lastTickAt),
});

export function restartReply(proxyId: string, record: RestartOutcome | RestartRow): RestartRecordReply {
  return {
    proxy_id: proxyId,
    time: iso(record.at),
    reason: record.reason,
    manual: record.manual,
    success: record.success,
    duration_ms: record.durationMs,
    error: record.error ?? null,
  };
}

function memoryReply(view: ProxyView): ProxyReply['memory'] {
  const check = view.context.lastCheck;
  if (!check?.memory) return null;
  return {
    checked_at: iso(check.at),
    bytes: check.memory.bytes,
    limit_bytes: check.memory.limit,
    checks_above_limit: view.context.memoryStrikes,
  };
}

export function privilegesReply(spec: ProxySpec): NonNullable<ProxyReply['privileges']> {
  const { runAs, capabilities = [], limits = {} } = spec.privileges ?? {};
  return {
    user: runAs?.user ?? null,
    uid: runAs?.uid ?? null,
    group: runAs?.group ?? null,
    gid: runAs?.gid ?? null,
    capabilities,
    limits: { nofile: limits.nofile ?? null, nproc: limits.nproc ?? null, core: limits.core ?? null, memlock: limits.memlock ?? null },
  };
}

/** Only a proxy waiting in `crashed` has an attempt scheduled; elsewhere the last decision is history. */
const scheduledAttempt = (view: ProxyView): number | null =>
  statePath(view.state) === 'crashed.waiting' ? (view.context.decision?.nextAttemptAt ?? null) : null;

/** A proxy as the API shows it (read-cache.ts builds the same reply in two parts, for GET). */
export function proxyReply(view: SupervisedProxy, now: number, spec: ProxySpec | undefined): ProxyReply {
  const { id, ...state } = proxyState(view, now);
  return {
    id,
    proxy_type: view.type,
    ...state,
    settings: view.settings,
    own_settings: view.ownSettings,
    ...(spec && { privileges: privilegesReply(spec) }),
  };
}

/** The fields of a proxy's reply that move with the clock alone, with no event: read at each request. */
export type TimedFields = Pick<ProxyReply, 'as_of' | 'uptime_s' | 'restarts_in_window' | 'cooldown_ends_at'>;

/** What the proxy's actor knows: its state, process, checks, restarts and waits. */
export function proxyState(view: ProxyView, now: number): Omit<ProxyReply, 'proxy_type' | 'settings' | 'own_settings'> {
  return { ...lastingState(view), ...timedFields(view, now) };
}

/** What changes only when the actor's snapshot does (the read cache keeps it serialized until then). */
export function lastingState(view: ProxyView): Omit<ProxyReply, 'proxy_type' | 'settings' | 'own_settings' | keyof TimedFields> {
  const c = view.context;
  return {
    id: view.id,
    state: view.phase,
    sub_state: statePath(view.state),
    reason: c.explanation,
    pid: c.pid,
    enabled: proxyEnabled(c),
    monitoring_active: monitoringActive(c),
    wanted: c.wanted,
    last_check: c.lastCheck && {
      time: iso(c.lastCheck.at),
      ok: c.lastCheck.ok,
      duration_ms: c.lastCheck.durationMs,
      error: c.lastCheck.error ?? null,
    },
    last_restart: c.lastRestart && restartReply(view.id, c.lastRestart),
    max_restarts: c.policy.maxRestarts,
    window_s: c.policy.windowMs / 1000,
    next_attempt_at: isoOrNull(scheduledAttempt(view)),
    stats: { ...c.stats },
    memory: memoryReply(view),
  };
}

export function timedFields(view: ProxyView, now: number): TimedFields {
  const c = view.context;
  const cooldownEnd = cooldownEndsAt(c, c.policy);
  return {
    as_of: iso(now),
    // A restart's new process too (restarting.verifying), as a running one's: the pid shown has an age.
    uptime_s:
      (view.phase === 'running' || view.phase === 'restarting') && c.pid !== null && c.startedAt !== null
        ? (now - c.startedAt) / 1000
        : null,
    restarts_in_window: attemptsInWindow(c, c.policy, now).length,
    cooldown_ends_at: cooldownEnd > now ? iso(cooldownEnd) : null,
  };
}

/** How many of a proxy's last output lines `why` shows (GET /proxies/ID/output has more). */
export const WHY_OUTPUT_LINES = 3;

/** `lastOutput`: the proxy's last WHY_OUTPUT_LINES output lines. */
export function whyReply(view: ProxyView, now: number, lastOutput: WhyReply['last_output']): WhyReply {
  const { decision } = view.context;
  const base = {
    proxy_id: view.id,
    state: view.phase,
    sub_state: statePath(view.state),
    last_exit: view.context.lastExit,
    last_restart_failure: view.context.lastRestart?.success === false ? (view.context.lastRestart.error ?? null) : null,
    last_output: lastOutput,
    memory: memoryReply(view),
  };
  if (!decision) {
    return {
      ...base,
      decision: null,
      remaining: { now: iso(now), cooldown_ms: 0, backoff_ms: 0, next_attempt_in_ms: null },
      message:
        reapingMessage(view) ?? stoppedMessage(view) ?? 'no restart decision yet: the proxy has not crashed since the daemon started',
    };
  }
  // The inputs are kept as they were when the decision was taken; only the waits are brought to now.
  const elapsed = now - decision.at;
  const { inputs } = decision;
  const scheduled = scheduledAttempt(view);
  return {
    ...base,
    decision: {
      decided_at: iso(decision.at),
      verdict: decision.verdict,
      guard: decision.blocker,
      message: decision.message,
      inputs: {
        restarts_in_window: inputs.restartsInWindow,
        max_restarts: inputs.maxRestarts,
        window_s: inputs.windowS,
        cooldown_s: inputs.cooldownS,
        cooldown_remaining_ms: inputs.cooldownRemainingMs,
        backoff_ms: inputs.backoffMs,
        backoff_remaining_ms: inputs.backoffRemainingMs,
        consecutive_failures: inputs.consecutiveFailures,
      },
      next_attempt_at: isoOrNull(decision.nextAttemptAt),
    },
    remaining: {
      now: iso(now),
      cooldown_ms: Math.max(0, inputs.cooldownRemainingMs - elapsed),
      backoff_ms: Math.max(0, inputs.backoffRemainingMs - elapsed),
      next_attempt_in_ms: scheduled === null ? null : Math.max(0, scheduled - now),
    },
    message: whyMessage(view, decision.message, scheduled, now),
  };
}

function whyMessage(view: ProxyView, decided: string, scheduled: number | null, now: number): string {
  const reaping = reapingMessage(view);
  if (reaping) return reaping;
  if (scheduled !== null) return `${decided} (in ${Math.ceil(Math.max(0, scheduled - now) / 1000)}s)`;
  if (view.phase === 'crashed') return decided;
  return stoppedMessage(view) ?? `last decision: ${decided}; the proxy is ${statePath(view.state)} now`;
}

/** Crashed, its (hung or unready) process still being stopped: no restart is decided before it is gone. */
function reapingMessage(view: ProxyView): string | undefined {
  if (statePath(view.state) !== 'crashed.reaping') return undefined;
  const { pid, crashReason, wanted, retiring } = view.context;
  const which = pid === null ? 'its process' : `its process ${pid}`;
  const then = retiring
    ? 'then it is removed'
    : wanted === 'down'
      ? 'then it stays stopped (stopped by the operator)'
      : 'the restart is decided once it has exited';
  return `crashed (${crashReason}); ${which} is being stopped (SIGTERM, then SIGKILL to its group after stop_timeout): ${then}`;
}

/** Stopped to stay (by the operator, or a clean exit under restart: on-failure): why, first. */
function stoppedMessage(view: ProxyView): string | undefined {
  return view.phase === 'stopped' && view.context.wanted === 'down' ? `no restart: ${view.context.explanation}` : undefined;
}
