// Every change made through the API lands twice: in the store's audit table (queryable with GET
// /audit, survives restarts) and as a JSON log line with the design document's audit fields
// (action, user, proxy_id, proxy_type, reason, audit: true) for ELK.
import type { Clock } from '../clock.ts';
import type { Logger } from '../logging/logger.ts';
import type { ProxyType } from '../proxy-spec.ts';
import type { Store } from '../store/types.ts';
import type { Caller } from './auth.ts';

export interface AuditEntry {
  action: string;
  /** Why, in the words the proxy's state change uses ("stopped by the operator"). */
  reason: string;
  proxyId?: string;
  detail?: Record<string, unknown>;
}

export type Audit = (caller: Caller, entry: AuditEntry) => void;

export function createAudit(
  store: Pick<Store, 'addAudit'>,
  logger: Logger,
  clock: Pick<Clock, 'now'>,
  typeOf: (id: string) => ProxyType,
): Audit {
  return (caller, { action, reason, proxyId, detail = {} }) => {
    const proxy = proxyId === undefined ? {} : { proxy_id: proxyId, proxy_type: typeOf(proxyId) };
    // reason and proxy_type ride in the stored detail: GET /audit lifts them out again.
    const stored = { ...detail, reason, auth: caller.auth, ...(proxyId !== undefined && { proxy_type: proxy.proxy_type }) };
    store.addAudit({ at: clock.now(), user: caller.user, action, proxyId: proxyId ?? null, detail: stored });
    logger.info({ audit: true, action, user: caller.user, auth: caller.auth, ...proxy, reason, ...detail }, 'audit');
  };
}
