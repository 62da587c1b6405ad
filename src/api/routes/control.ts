// Operator commands to one proxy. The intent is persisted first (override, wanted) so that it
// survives a daemon restart, then sent to the proxy's actor, then audited.
import type { ProxyCommand } from '../../supervisor/supervisor.ts';
import { callerOf } from '../auth.ts';
import { notFound } from '../errors.ts';
import { API_BASE } from '../base.ts';
import { actionReply, errorReplies, noBody, noQuery, proxyParams } from '../schemas.ts';
import type { ApiStore, RoutePlugin } from '../context.ts';
import { proxyReply } from '../views.ts';

const COMMANDS: Record<string, { command: ProxyCommand; reason: string; persist(store: ApiStore, id: string): void }> = {
  enable: { command: 'ENABLE', reason: 'monitoring enabled by the operator', persist: (store, id) => store.setOverride(id, true) },
  disable: { command: 'DISABLE', reason: 'monitoring disabled by the operator', persist: (store, id) => store.setOverride(id, false) },
  start: { command: 'START', reason: 'started by the operator', persist: (store, id) => store.setWanted(id, 'up') },
  stop: { command: 'STOP', reason: 'stopped by the operator', persist: (store, id) => store.setWanted(id, 'down') },
  restart: { command: 'RESTART', reason: 'restart requested by the operator', persist: (store, id) => store.setWanted(id, 'up') },
};

export const controlRoutes: RoutePlugin = (app, { deps, audit }, done) => {
  const { supervisor, store, clock } = deps;
  for (const [name, { command, reason, persist }] of Object.entries(COMMANDS)) {
    const schema = { params: proxyParams, querystring: noQuery, body: noBody, response: { 200: actionReply, ...errorReplies } };
    app.post(`${API_BASE}/proxies/:id/${name}`, { schema }, (request) => {
      const { id } = request.params;
      if (!supervisor.proxy(id)) throw notFound(`no proxy "${id}"`);
      persist(store, id);
      supervisor.command(id, command);
      const action = `proxy_${name}`;
      audit(callerOf(request), { action, reason, proxyId: id });
      return { action, proxy: proxyReply(supervisor.proxy(id)!, clock.now(), supervisor.spec(id)) };
    });
  }
  done();
};
