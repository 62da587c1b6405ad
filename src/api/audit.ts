// Every change made through the API lands twice: in the store's audit table (queryable, survives
// restarts) and as a JSON log line with the seed's audit fields (for ELK).
import type { Clock } from '../clock.ts';
import type { Logger } from '../logging/logger.ts';
import type { Store } from '../store/types.ts';
import type { Caller } from './auth.ts';

export interface AuditEntry {
  action: string;
  proxyId?: string;
  detail?: Record<string, unknown>;
}

export type Audit = (caller: Caller, entry: AuditEntry) => void;

export function createAudit(store: Pick<Store, 'addAudit'>, logger: Logger, clock: Pick<Clock, 'now'>): Audit {
  return (caller, { action, proxyId, detail = {} }) => {
    store.addAudit({ at: clock.now(), user: caller.user, action, proxyId: proxyId ?? null, detail: { ...detail, auth: caller.auth } });
    logger.info({ audit: true, action, user: caller.user, auth: caller.auth, ...(proxyId && { proxy_id: proxyId }), ...detail }, 'audit');
  };
}
