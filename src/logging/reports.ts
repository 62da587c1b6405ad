// What the proxy machines report, written as the seed's log events with the seed's field names.
import type { ProxyEmitted } from '../../machines/proxy/events.ts';
import type { Logger } from './logger.ts';
import type { Redactor } from './redact.ts';

const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

export function logReport(logger: Logger, redact: Redactor, report: ProxyEmitted): void {
  switch (report.type) {
    case 'state_change':
      logger.info(
        { proxy_id: report.proxyId, state_from: report.from, state_to: report.to, reason: redact(report.reason), state_change: true },
        'proxy state changed',
      );
      return;
    case 'crash_detected':
      // The line is written after the actor has handled the crash (a restart may already be under
      // way): detected_at is when the exit or the failed check reached the actor.
      logger.warn(
        { proxy_id: report.proxyId, reason: redact(report.reason), exit_code: report.exitCode, signal: report.signal, detected_at: iso(report.at) },
        'proxy crash detected',
      );
      return;
    case 'restart_finished': {
      const { record } = report;
      const fields = { proxy_id: report.proxyId, reason: record.reason, duration_ms: record.durationMs, manual: record.manual };
      if (record.success) logger.info(fields, 'proxy restart succeeded');
      else logger.error({ ...fields, error: redact(record.error ?? '') }, 'proxy restart failed');
      logger.info(
        {
          action: record.manual ? 'proxy_manual_restart' : 'proxy_auto_restart',
          user: record.manual ? 'operator' : 'system',
          proxy_id: report.proxyId,
          success: record.success,
          audit: true,
        },
        'audit',
      );
      return;
    }
    case 'restart_withheld': {
      const { decision } = report;
      logger.warn(
        {
          proxy_id: report.proxyId,
          guard: decision.guard,
          next_attempt_at: iso(decision.nextAttemptAt),
          restarts_in_window: decision.inputs.restartsInWindow,
          max_restarts: decision.inputs.maxRestarts,
          reason: decision.message,
        },
        decision.verdict === 'held' ? 'proxy restart held' : 'proxy restart withheld',
      );
      return;
    }
    case 'check_finished':
      logger.debug({ proxy_id: report.proxyId, ok: report.ok, duration_ms: report.durationMs, error: report.error }, 'proxy health check');
      return;
  }
}

export function logCheckRound(logger: Logger, durationMs: number, checked: number): void {
  logger.info(
    { operation: 'proxy_health_check', duration_ms: durationMs, checked_proxies: checked, performance: true },
    'health check round finished',
  );
}
