// Turns what the proxy machines report into rows. Called before the report is logged, so every
// restart and audit line the daemon prints is already committed.
import type { ProxyContext, RestartOutcome } from '../../machines/proxy/context.ts';
import { restartActor } from '../logging/reports.ts';
import type { ProxyType } from '../proxy-spec.ts';
import type { ProxyReport } from '../supervisor/supervisor.ts';
import type { ProxyCounters, Store } from './types.ts';

/** The audit record of a restart, in the names the audit log line uses. */
function restartAudit(proxyId: string, proxyType: ProxyType, record: RestartOutcome, redact: (text: string) => string) {
  return {
    at: record.at + record.durationMs,
    ...restartActor(record.manual),
    proxyId,
    detail: {
      success: record.success,
      reason: record.reason,
      proxy_type: proxyType,
      duration_ms: record.durationMs,
      ...(record.error !== undefined && { error: redact(record.error) }),
    },
  };
}

/**
 * `contextOf` reads a proxy actor's context as it is after the report (emitted events are delivered
 * once the snapshot is updated): the counters and the in-flight restart are taken from there.
 */
export function createRecorder(store: Store, contextOf: (id: string) => ProxyContext | undefined, redact: (text: string) => string) {
  const saved = new Map<string, string>();

  function saveCounters(id: string, context: ProxyContext) {
    const counters: ProxyCounters = { stats: context.stats, consecutiveFailures: context.consecutiveFailures, lastFailureAt: context.lastFailureAt };
    const key = JSON.stringify(counters);
    if (saved.get(id) === key) return;
    store.saveCounters(id, counters);
    saved.set(id, key);
  }

  // A check changes nothing durable but its count: those are saved once per check round, in one
  // transaction, not once per check.
  const checked = new Set<string>();

  function record(report: ProxyReport): void {
    const { proxyId } = report;
    if (report.type === 'check_finished') {
      checked.add(proxyId);
      return;
    }
    const context = contextOf(proxyId);
    store.transaction(() => {
      if (report.type === 'state_change' && report.to === 'restarting' && context?.restart) {
        const { reason, manual } = context.restart;
        store.beginRestart({ proxyId, at: report.at, reason, manual });
      }
      if (report.type === 'restart_finished') {
        const { record } = report;
        store.addRestart({ proxyId, ...record, ...(record.error !== undefined && { error: redact(record.error) }) });
        store.addAudit(restartAudit(proxyId, report.proxyType, record, redact));
      }
      if (context) saveCounters(proxyId, context);
    });
  }

  function checkRoundFinished(): void {
    store.transaction(() => {
      for (const id of checked) {
        const context = contextOf(id);
        if (context) saveCounters(id, context);
      }
    });
    checked.clear();
  }

  return { record, checkRoundFinished };
}
