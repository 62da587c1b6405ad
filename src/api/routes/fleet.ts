// The fleet at a glance: every proxy's states over the last hour (the inspector's timeline), and one
// proxy's last output lines.
import type { ProxyView } from '../../../machines/monitor/status.ts';
import { HOUR_MS } from '../../../machines/proxy/policy.ts';
import { BadRequest, notFound } from '../errors.ts';
import { API_BASE } from '../base.ts';
import { errorReplies, noQuery, outputReply, parseSince, proxyParams, TIMELINE_MAX_MS, timelineQuery, timelineReply } from '../schemas.ts';
import type { RoutePlugin } from '../context.ts';
import { timelineOf, type CurrentState, type TimelineEvent } from '../timeline.ts';
import { iso, outputLines } from '../views.ts';

/** Restart records read for one timeline: 1,000 proxies at a cap of 10 an hour fit. */
const MAX_ROWS = 10_000;
const OPERATOR_ACTIONS: Record<string, 'stop' | 'start'> = { proxy_stop: 'stop', proxy_start: 'start' };

/** When the proxy entered the phase it is in, where its context tells. */
function currentState(view: ProxyView, crashedAt: number | undefined): CurrentState {
  const c = view.context;
  const since = {
    running: c.startedAt,
    crashed: crashedAt ?? c.decision?.at,
    restarting: c.restart?.startedAt ?? null,
    stopped: null,
    unknown: null,
  }[view.phase];
  return { phase: view.phase, since: since ?? null };
}

export const fleetRoutes: RoutePlugin = (app, { deps }, done) => {
  const { supervisor, store, clock, recent } = deps;

  app.get(
    `${API_BASE}/timeline`,
    { schema: { querystring: timelineQuery, response: { 200: timelineReply, ...errorReplies } } },
    (request) => {
      const now = clock.now();
      const since = request.query.since === undefined ? now - HOUR_MS : parseSince(request.query.since, now)!;
      if (since < now - TIMELINE_MAX_MS || since >= now) {
        throw new BadRequest([
          { in: 'querystring', field: 'since', message: `expected a time within the last 24h, got ${JSON.stringify(request.query.since)}` },
        ]);
      }
      const rows = store.restarts({ since, limit: MAX_ROWS });
      const events = new Map<string, TimelineEvent[]>();
      const add = (id: string, event: TimelineEvent) => (events.get(id) ?? events.set(id, []).get(id)!).push(event);
      for (const row of rows)
        add(row.proxyId, { kind: 'restart', at: row.at, end: row.at + row.durationMs, success: row.success, manual: row.manual });
      for (const audit of store.audits({ since, limit: MAX_ROWS })) {
        const kind = OPERATOR_ACTIONS[audit.action];
        if (kind && audit.proxyId) add(audit.proxyId, { kind, at: audit.at });
      }
      return {
        since: iso(since),
        until: iso(now),
        truncated: rows.length === MAX_ROWS,
        proxies: supervisor.proxies().map((view) => ({
          id: view.id,
          segments: timelineOf(events.get(view.id) ?? [], currentState(view, recent.crash(view.id)?.at), {
            from: since,
            to: now,
            bootedAt: recent.startedAt,
          }).map((s) => ({ state: s.state, from: iso(s.from), to: iso(s.to) })),
        })),
      };
    },
  );

  app.get(
    `${API_BASE}/proxies/:id/output`,
    { schema: { params: proxyParams, querystring: noQuery, response: { 200: outputReply, ...errorReplies } } },
    (request) => {
      const { id } = request.params;
      if (!supervisor.proxy(id)) throw notFound(`no proxy "${id}"`);
      return { proxy_id: id, lines: outputLines(recent.output(id)) };
    },
  );
  done();
};
