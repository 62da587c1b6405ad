// The whole monitor: its status (the seed's shape), and stopping/starting it (checks and automatic
// restarts off/on; the proxies keep running either way).
import { callerOf } from '../auth.ts';
import { API_BASE } from '../base.ts';
import { errorReplies, monitorActionReply, noBody, noQuery } from '../schemas.ts';
import { JSON_TYPE, type RoutePlugin } from '../context.ts';

export const monitorRoutes: RoutePlugin = (app, { deps, audit, replies }, done) => {
  const { supervisor } = deps;

  // No response schema here: the reply is JSON text, checked against statusReply once per change (read-cache.ts).
  app.get(`${API_BASE}/status`, (_request, reply) => reply.type(JSON_TYPE).send(replies.status()));

  const actions = {
    stop: { act: () => supervisor.stopMonitor(), reason: 'monitoring paused by the operator' },
    start: { act: () => supervisor.startMonitor(), reason: 'monitoring resumed by the operator' },
  };
  for (const [name, { act, reason }] of Object.entries(actions)) {
    app.post(
      `${API_BASE}/${name}`,
      { schema: { querystring: noQuery, body: noBody, response: { 200: monitorActionReply, ...errorReplies } } },
      (request) => {
        act();
        audit(callerOf(request), { action: `monitor_${name}`, reason });
        return { action: `monitor_${name}`, status: supervisor.status() };
      },
    );
  }
  done();
};
