// Every report a machine emits, written by the daemon's own log writer, must carry the seed's
// field names: state_from/state_to/reason/state_change, duration_ms/reason, the audit fields.
import { createLogger } from '../../../src/logging/logger.ts';
import { createReportLogger } from '../../../src/logging/reports.ts';
import type { ProxyEmitted } from '../../../machines/proxy/events.ts';

type Line = Record<string, unknown>;

export function seedLogger() {
  const lines: Line[] = [];
  const logger = createLogger({ level: 'debug', destination: { write: (s: string) => void lines.push(JSON.parse(s) as Line) } });
  const logReport = createReportLogger(logger, () => (text) => text);
  return {
    lines,
    /** Logs the report as the daemon does and returns the seed fields that are missing or wrong. */
    check(report: ProxyEmitted): string[] {
      const from = lines.length;
      logReport({ ...report, proxyType: 'shadowsocks' });
      return missingSeedFields(report, lines.slice(from));
    },
  };
}

function missingSeedFields(report: ProxyEmitted, lines: Line[]): string[] {
  const problems: string[] = [];
  const need = (line: Line | undefined, fields: Record<string, unknown>) => {
    for (const [key, value] of Object.entries(fields)) {
      const ok = line !== undefined && (value === undefined ? key in line : line[key] === value);
      if (!ok) problems.push(`${report.type}: ${key}${value === undefined ? '' : `=${String(value)}`} missing in ${JSON.stringify(line)}`);
    }
  };
  switch (report.type) {
    case 'state_change':
      need(lines[0], { state_from: report.from, state_to: report.to, reason: report.reason, state_change: true, proxy_id: report.proxyId });
      break;
    case 'crash_detected':
      need(lines[0], { reason: report.reason, proxy_id: report.proxyId });
      break;
    case 'restart_finished': {
      need(lines[0], { duration_ms: report.record.durationMs, reason: report.record.reason, proxy_id: report.proxyId });
      const audit = lines.find((l) => l.audit === true);
      if (report.record.manual) need(audit, { action: undefined, audit: true });
      else need(audit, { action: 'proxy_auto_restart', user: 'system', audit: true });
      break;
    }
    case 'restart_withheld':
      need(lines[0], { reason: report.decision.message, proxy_id: report.proxyId });
      break;
    case 'check_finished':
      need(lines[0], { ok: report.ok, duration_ms: report.durationMs });
      break;
  }
  return problems;
}
