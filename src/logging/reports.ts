// What the proxy machines report, written as the design document's log events (section 日志和监控)
// with its field names and `component` values: `proxy` for crash and restart events, the proxy's
// type for state changes, `proxy-monitor` (the logger's default) for the rest. Every line about one
// proxy carries `proxy_id` and `proxy_type`.
import { type ProxyReport, restartActor } from '../supervisor/reports.ts';
import type { Logger } from './logger.ts';
import type { Redactor } from './redact.ts';

/** The `component` of crash, restart and proxy output lines. */
export const PROXY_COMPONENT = 'proxy';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/**
 * One logger of reports per daemon: it remembers which proxies are failing their checks, so that the
 * first passing check after failures is logged (info) while routine passes stay at debug.
 */
export function createReportLogger(logger: Logger, redact: () => Redactor) {
  const failingChecks = new Map<string, number>();

  return (report: ProxyReport): void => {
    const proxy = { proxy_id: report.proxyId, proxy_type: report.proxyType };
    switch (report.type) {
      case 'state_change':
        failingChecks.delete(report.proxyId); // a new run of the proxy starts with a clean slate
        logger.info(
          {
            component: report.proxyType,
            ...proxy,
            state_from: report.from,
            state_to: report.to,
            reason: redact()(report.reason),
            ...(report.carriedOver && { carried_over: true }),
            state_change: true,
          },
          'proxy state changed',
        );
        return;
      case 'crash_detected':
        // The line is written after the actor has handled the crash (a restart may already be under
        // way): detected_at is when the exit or the failed check reached the actor.
        failingChecks.delete(report.proxyId);
        logger.warn(
          {
            component: PROXY_COMPONENT,
            ...proxy,
            reason: redact()(report.reason),
            exit_code: report.exitCode,
            signal: report.signal,
            detected_at: iso(report.at),
          },
          'proxy crash detected',
        );
        return;
      case 'restart_started':
        return; // the state change to restarting, logged next, says it
      case 'restart_finished': {
        const { record } = report;
        const fields = {
          component: PROXY_COMPONENT,
          ...proxy,
          reason: record.reason,
          duration_ms: record.durationMs,
          manual: record.manual,
        };
        if (record.success) logger.info(fields, 'proxy restart succeeded');
        else logger.error({ ...fields, error: redact()(record.error ?? '') }, 'proxy restart failed');
        logger.info({ ...restartActor(record.manual), ...proxy, reason: record.reason, success: record.success, audit: true }, 'audit');
        return;
      }
      case 'restart_withheld': {
        const { decision } = report;
        logger.warn(
          {
            ...proxy,
            guard: decision.blocker,
            next_attempt_at: iso(decision.nextAttemptAt),
            restarts_in_window: decision.inputs.restartsInWindow,
            max_restarts: decision.inputs.maxRestarts,
            reason: decision.message,
          },
          decision.verdict === 'held' ? 'proxy restart held' : 'proxy restart withheld',
        );
        return;
      }
      case 'check_finished': {
        const check = { ...proxy, ok: report.ok, duration_ms: report.durationMs };
        const failedBefore = failingChecks.get(report.proxyId) ?? 0;
        if (!report.ok && report.inStartGrace) {
          logger.info(
            { ...check, error: redact()(report.error ?? '') },
            'proxy not ready yet: health check failed within its start_grace, not counted',
          );
        } else if (!report.ok) {
          failingChecks.set(report.proxyId, failedBefore + 1);
          logger.warn(
            { ...check, error: redact()(report.error ?? ''), consecutive_failures: failedBefore + 1 },
            'proxy health check failed',
          );
        } else if (failedBefore > 0) {
          failingChecks.delete(report.proxyId);
          logger.info({ ...check, failed_checks: failedBefore }, 'proxy health check recovered');
        } else {
          logger.debug(check, 'proxy health check');
        }
        return;
      }
    }
  };
}

export function logCheckRound(logger: Logger, durationMs: number, checked: number): void {
  logger.info(
    { operation: 'proxy_health_check', duration_ms: durationMs, checked_proxies: checked, performance: true },
    'health check round finished',
  );
}
