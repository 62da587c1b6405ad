// Restart history from the store, with the seed's analysis of the records returned.
import type { HistoryQuery } from '../../store/types.ts';
import { analyzeRestarts } from '../analysis.ts';
import { notFound } from '../errors.ts';
import { API_BASE } from '../base.ts';
import { errorReplies, historyQuery, historyReply, parseSince, proxyParams } from '../schemas.ts';
import type { RoutePlugin } from '../context.ts';
import { iso, restartReply } from '../views.ts';

export const historyRoutes: RoutePlugin = (app, { deps }, done) => {
  const { store, supervisor, clock } = deps;

  function history(proxyId: string | undefined, query: { since?: string; limit: number }) {
    const since = query.since === undefined ? undefined : parseSince(query.since, clock.now());
    // One more than asked: whether more matched is said, not guessed.
    const filter: HistoryQuery = {
      limit: query.limit + 1,
      ...(proxyId !== undefined && { proxyId }),
      ...(since !== undefined && { since }),
    };
    const rows = store.restarts(filter);
    const truncated = rows.length > query.limit;
    if (truncated) rows.pop();
    return {
      proxy_id: proxyId ?? null,
      since: since === undefined ? null : iso(since),
      records: rows.map((row) => restartReply(row.proxyId, row)),
      truncated,
      analysis: analyzeRestarts(rows),
    };
  }

  app.get(`${API_BASE}/history`, { schema: { querystring: historyQuery, response: { 200: historyReply, ...errorReplies } } }, (request) =>
    history(undefined, request.query),
  );

  app.get(
    `${API_BASE}/proxies/:id/history`,
    { schema: { params: proxyParams, querystring: historyQuery, response: { 200: historyReply, ...errorReplies } } },
    (request) => {
      const { id } = request.params;
      const reply = history(id, request.query);
      // A removed proxy keeps its history; only an id never seen at all is unknown.
      if (!supervisor.proxy(id) && reply.records.length === 0) throw notFound(`no proxy "${id}" and no restart recorded for it`);
      return reply;
    },
  );
  done();
};
