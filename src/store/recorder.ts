// Turns what the proxy machines report into rows: a fold over reports, which carry all it needs.
// Called before the report is logged, so every restart and audit line the daemon prints is already
// committed.
import { downAfterCrash, type ProxyCounters, type RestartOutcome } from '../../machines/proxy/context.ts';
import type { ProxyType } from '../proxy-spec.ts';
import { type ProxyReport, restartActor } from '../supervisor/reports.ts';
import type { Store } from './types.ts';

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

export function createRecorder(store: Store, redact: (text: string) => string) {
  const saved = new Map<string, string>();

  /** The counters to save, or undefined when they are the ones saved last. */
  function changedCounters(id: string, counters: ProxyCounters): ProxyCounters | undefined {
    const key = JSON.stringify(counters);
    if (saved.get(id) === key) return undefined;
    saved.set(id, key);
    return counters;
  }

  // A check changes nothing durable but its count: those are saved once per check round, in one
  // transaction, not once per check. Any later report of the proxy carries newer counters.
  const checked = new Map<string, ProxyCounters>();

  function record(report: ProxyReport): void {
    const { proxyId } = report;
    if (report.type === 'check_finished') {
      checked.set(proxyId, report.counters);
      return;
    }
    checked.delete(proxyId);
    // Everything a write needs is taken now: should the disk refuse it, it runs again later, and
    // must write what happened then.
    const begun = report.type === 'restart_started' ? { proxyId, at: report.at, reason: report.reason, manual: report.manual } : undefined;
    const counters = changedCounters(proxyId, report.counters);
    const finished =
      report.type === 'restart_finished'
        ? {
            row: { proxyId, ...report.record, ...(report.record.error !== undefined && { error: redact(report.record.error) }) },
            audit: restartAudit(proxyId, report.proxyType, report.record, redact),
          }
        : undefined;
    // The state it entered: a crash it is down after is carried over by the next daemon start.
    // Written when that can change (a storm's crashed -> restarting, say, is not: 200 writes less).
    const phase =
      report.type === 'state_change' &&
      (report.crash || report.from === 'unknown' || downAfterCrash(report.from) !== downAfterCrash(report.to))
        ? { phase: report.to, crash: report.crash && { kind: report.crash.kind, reason: redact(report.crash.reason) } }
        : report.type === 'retired'
          ? { phase: null, crash: undefined }
          : undefined;
    if (!begun && !finished && !counters && !phase) return;
    store.transaction(() => {
      if (phase) store.setPhase(proxyId, phase.phase, phase.crash);
      if (begun) store.beginRestart(begun);
      if (finished) {
        store.addRestart(finished.row);
        store.addAudit(finished.audit);
      }
      if (counters) store.saveCounters(proxyId, counters);
    });
  }

  function checkRoundFinished(): void {
    const due = [...checked].flatMap(([id, latest]) => {
      const counters = changedCounters(id, latest);
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
