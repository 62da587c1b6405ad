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

  /** The counters to save, or undefined when they are the ones saved last. */
  function changedCounters(id: string, context: ProxyContext | undefined): ProxyCounters | undefined {
    if (!context) return undefined;
    const counters: ProxyCounters = {
      stats: context.stats,
      consecutiveFailures: context.consecutiveFailures,
      lastFailureAt: context.lastFailureAt,
    };
    const key = JSON.stringify(counters);
    if (saved.get(id) === key) return undefined;
    saved.set(id, key);
    return counters;
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
    // Everything a write needs is taken now: should the disk refuse it, it runs again later, and
    // must write what happened then, not what the actor's context says by that time.
    const context = contextOf(proxyId);
    const begun =
      report.type === 'state_change' && report.to === 'restarting' && context?.restart ? { ...context.restart, at: report.at } : undefined;
    const counters = changedCounters(proxyId, context);
    const finished =
      report.type === 'restart_finished'
        ? {
            row: { proxyId, ...report.record, ...(report.record.error !== undefined && { error: redact(report.record.error) }) },
            audit: restartAudit(proxyId, report.proxyType, report.record, redact),
          }
        : undefined;
    if (!begun && !finished && !counters) return;
    store.transaction(() => {
      if (begun) store.beginRestart({ proxyId, at: begun.at, reason: begun.reason, manual: begun.manual });
      if (finished) {
        store.addRestart(finished.row);
        store.addAudit(finished.audit);
      }
      if (counters) store.saveCounters(proxyId, counters);
    });
  }

  function checkRoundFinished(): void {
    const due = [...checked].flatMap((id) => {
      const counters = changedCounters(id, contextOf(id));
      return counters ? [[id, counters] as const] : [];
    });
    checked.clear();
    if (due.length)
      store.transaction(() => {
        for (const [id, counters] of due) store.saveCounters(id, counters);
      });
  }

  return { record, checkRoundFinished };
}
