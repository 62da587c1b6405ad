// Prometheus metrics on a registry of our own (never prom-client's global one). Counters and
// histograms move from the supervisor hooks as events happen; everything that describes the present
// (states, windows, ticks) is a gauge computed at scrape time (gauges.ts). The names are the ones
// the alert rules use: renaming one breaks an alert.
import { Counter, Histogram } from './prom.ts';
import { Exposition } from './exposition.ts';
import type { ProxyEmitted } from '../../machines/proxy/events.ts';
import { registerProcessMetrics } from './process.ts';

export type Metrics = ReturnType<typeof createMetrics>;

/** One vocabulary for every `result` label (Prometheus convention). */
const outcome = (ok: boolean) => (ok ? 'success' : 'failure');

export function createMetrics() {
  const registry = new Exposition();
  registerProcessMetrics(registry);
  const registers = [registry];

  const checks = new Counter({
    name: 'proxy_monitor_checks_total',
    help: 'Health checks run, by proxy and result (success or failure).',
    labelNames: ['proxy_id', 'result'] as const,
    registers,
  });
  const checkRounds = new Counter({
    name: 'proxy_monitor_check_rounds_total',
    help: 'Check rounds finished (one per check interval while the monitor is watching).',
    registers,
  });
  const restarts = new Counter({
    name: 'proxy_monitor_restarts_total',
    help: 'Restarts finished, by proxy, result (success or failure) and reason.',
    labelNames: ['proxy_id', 'result', 'reason'] as const,
    registers,
  });
  const checkDuration = new Histogram({
    name: 'proxy_monitor_check_duration_seconds',
    help: 'Duration of one health check.',
    buckets: [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10],
    registers,
  });
  const restartDuration = new Histogram({
    name: 'proxy_monitor_restart_duration_seconds',
    help: 'Duration of one restart, from the decision to the proxy passing (or failing) its readiness check.',
    buckets: [0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60],
    registers,
  });

  const stateWriteFailures = new Counter({
    name: 'proxy_monitor_state_write_failures_total',
    help: 'Writes to state.db that the state_dir refused (disk full, read-only, I/O error); held in memory and retried.',
    registers,
  });

  // The reasons each proxy's restarts were counted under, so that a removed proxy's series go with
  // it (its gauges do: proxy-gauges.ts): a dashboard by proxy_id must not keep listing it.
  const restartReasons = new Map<string, Set<string>>();
  const forget = (proxyId: string) => {
    for (const result of ['success', 'failure']) {
      checks.remove({ proxy_id: proxyId, result });
      for (const reason of restartReasons.get(proxyId) ?? []) restarts.remove({ proxy_id: proxyId, result, reason });
    }
    restartReasons.delete(proxyId);
  };

  return {
    registry,
    /** A write to the state database was refused. */
    onStateWriteFailure(): void {
      stateWriteFailures.inc();
    },
    /** The supervisor's onReport hook. */
    onReport(report: ProxyEmitted): void {
      if (report.type === 'check_finished') {
        checks.inc({ proxy_id: report.proxyId, result: outcome(report.ok) });
        checkDuration.observe(report.durationMs / 1000);
      } else if (report.type === 'restart_finished') {
        const { record } = report;
        restarts.inc({ proxy_id: report.proxyId, result: outcome(record.success), reason: record.reason });
        restartReasons.set(report.proxyId, (restartReasons.get(report.proxyId) ?? new Set()).add(record.reason));
        restartDuration.observe(record.durationMs / 1000);
      } else if (report.type === 'retired') {
        forget(report.proxyId);
      }
    },
    /** The supervisor's onCheckRound hook. */
    onCheckRound(): void {
      checkRounds.inc();
    },
  };
}
