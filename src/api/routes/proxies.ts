// Reading proxies: all of them, one, and why its last restart decision went the way it did.
import { notFound } from '../errors.ts';
import { API_BASE, errorReplies, proxiesReply, proxyParams, proxyReply, whyReply } from '../schemas.ts';
import { type ApiApp, type RouteContext } from '../server.ts';
import * as views from '../views.ts';

export function proxyRoutes(app: ApiApp, { deps }: RouteContext): void {
  const { supervisor, clock } = deps;
  const withPrivileges = <T extends { id: string }>(reply: T) => {
    const spec = supervisor.spec(reply.id);
    return spec ? { ...reply, privileges: views.privilegesReply(spec) } : reply;
  };
  const find = (id: string) => {
    const view = supervisor.proxy(id);
    if (!view) throw notFound(`no proxy "${id}"`);
    return view;
  };

  app.get(`${API_BASE}/proxies`, { schema: { response: { 200: proxiesReply, ...errorReplies } } }, () => {
    const now = clock.now();
    return { as_of: views.iso(now), proxies: supervisor.proxies().map((view) => withPrivileges(views.proxyReply(view, now))) };
  });

  app.get(`${API_BASE}/proxies/:id`, { schema: { params: proxyParams, response: { 200: proxyReply, ...errorReplies } } }, (request) =>
    withPrivileges(views.proxyReply(find(request.params.id), clock.now())),
  );

  app.get(`${API_BASE}/proxies/:id/why`, { schema: { params: proxyParams, response: { 200: whyReply, ...errorReplies } } }, (request) =>
    views.whyReply(find(request.params.id), clock.now()),
  );
}
