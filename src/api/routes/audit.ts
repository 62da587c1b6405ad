// The audit trail read back: every automatic restart and every change made through the API, newest
// first, filtered by time, proxy and action.
import type { AuditRow } from '../../store/types.ts';
import { API_BASE } from '../base.ts';
import { auditQuery, auditReply, errorReplies, parseSince } from '../schemas.ts';
import type { RoutePlugin } from '../context.ts';
import { iso } from '../views.ts';

function auditRecord(row: AuditRow) {
  const { reason, proxy_type: proxyType, ...detail } = row.detail;
  return {
    time: iso(row.at),
    user: row.user,
    action: row.action,
    proxy_id: row.proxyId,
    proxy_type: typeof proxyType === 'string' ? proxyType : null,
    // Rows written before audit entries had a reason have none.
    reason: typeof reason === 'string' ? reason : null,
    detail,
  };
}

export const auditRoutes: RoutePlugin = (app, { deps }, done) => {
  const { store, clock } = deps;
  app.get(`${API_BASE}/audit`, { schema: { querystring: auditQuery, response: { 200: auditReply, ...errorReplies } } }, (request) => {
    const { since: sinceText, limit, proxy, action } = request.query;
    const since = sinceText === undefined ? undefined : parseSince(sinceText, clock.now());
    const rows = store.audits({
      limit,
      ...(proxy !== undefined && { proxyId: proxy }),
      ...(action !== undefined && { action }),
      ...(since !== undefined && { since }),
    });
    return {
      since: since === undefined ? null : iso(since),
      proxy_id: proxy ?? null,
      action: action ?? null,
      records: rows.map(auditRecord),
    };
  });
  done();
};
