// Reading proxies: all of them, one, and why its last restart decision went the way it did.
import { notFound } from '../errors.ts';
import { API_BASE } from '../base.ts';
import { errorReplies, noQuery, proxyParams, whyReply } from '../schemas.ts';
import { JSON_TYPE, type RoutePlugin } from '../context.ts';
import * as views from '../views.ts';

export const proxyRoutes: RoutePlugin = (app, { deps, replies }, done) => {
  const { supervisor, clock } = deps;
  const find = (id: string) => {
    const view = supervisor.proxy(id);
    if (!view) throw notFound(`no proxy "${id}"`);
    return view;
  };

  // No response schemas on these two: their replies are JSON text, each proxy's checked against
  // proxyReply once per change of the proxy (read-cache.ts).
  app.get(`${API_BASE}/proxies`, (_request, reply) => reply.type(JSON_TYPE).send(replies.proxies(clock.now())));

  app.get(`${API_BASE}/proxies/:id`, { schema: { params: proxyParams, querystring: noQuery } }, (request, reply) => {
    const { id } = request.params;
    const json = replies.proxy(id, clock.now());
    if (json === undefined) throw notFound(`no proxy "${id}"`);
    return reply.type(JSON_TYPE).send(json);
  });

  app.get(
    `${API_BASE}/proxies/:id/why`,
    { schema: { params: proxyParams, querystring: noQuery, response: { 200: whyReply, ...errorReplies } } },
    (request) => {
      const { id } = request.params;
      return views.whyReply(find(id), clock.now(), views.outputLines(deps.recent.output(id).slice(-views.WHY_OUTPUT_LINES)));
    },
  );
  done();
};
