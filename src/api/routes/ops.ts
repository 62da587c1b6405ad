// For the machines that watch us: /healthz (is the check loop alive?) and /metrics (Prometheus).
import { errorReplies, healthReply } from '../schemas.ts';
import type { RoutePlugin } from '../context.ts';
import { livenessReply } from '../views.ts';

export const opsRoutes: RoutePlugin = (app, { deps, replies }, done) => {
  const { liveness, metrics } = deps;

  app.get('/healthz', { schema: { response: { 200: healthReply, 503: healthReply, ...errorReplies } } }, (_request, reply) => {
    const report = liveness.report();
    reply.code(report.ok ? 200 : 503);
    return {
      ...livenessReply(report),
      seconds_since_tick: report.secondsSinceTick,
      check_interval: report.checkInterval,
      degraded: deps.degraded(),
    };
  });

  // Prometheus text, not JSON: no response schema, the registry's exposition format is the contract.
  app.get('/metrics', async (_request, reply) => {
    const body = await replies.metrics(deps.clock.now());
    return reply.type(metrics.contentType).send(body);
  });
  done();
};
