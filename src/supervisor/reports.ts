// What the supervisor hands its listeners (logs, history, metrics, inspector), and the one mapping of
// a restart to its audit actor, which the audit log line and the audit table share.
import type { ProxyEmitted } from '../../machines/proxy/events.ts';
import type { ProxyType } from '../proxy-spec.ts';

/** A machine's report with the proxy's type (the machines know only ids; logs and metrics want the type). */
export type ProxyReport = ProxyEmitted & { proxyType: ProxyType };

/** The audit action and user of a restart, as the log line and the audit table name them. */
export function restartActor(manual: boolean) {
  return manual ? { action: 'proxy_manual_restart', user: 'operator' } : { action: 'proxy_auto_restart', user: 'system' };
}
