// The whole monitor: its status (the seed's shape), and stopping/starting it (checks and automatic
// restarts off/on; the proxies keep running either way).
import { callerOf } from '../auth.ts';
import { API_BASE, errorReplies, monitorActionReply, statusReply } from '../schemas.ts';
import type { ApiApp, RouteContext } from '../server.ts';

export function monitorRoutes(app: ApiApp, { deps, audit }: RouteContext): void {
  const { supervisor } = deps;

  app.get(`${API_BASE}/status`, { schema: { response: { 200: statusReply, ...errorReplies } } }, () => supervisor.status());

  const actions = {
    stop: { act: () => supervisor.stopMonitor(), reason: 'monitoring paused by the operator' },
    start: { act: () => supervisor.startMonitor(), reason: 'monitoring resumed by the operator' },
  };
  for (const [name, { act, reason }] of Object.entries(actions)) {
    app.post(`${API_BASE}/${name}`, { schema: { response: { 200: monitorActionReply, ...errorReplies } } }, (request) => {
      act();
      audit(callerOf(request), { action: `monitor_${name}`, reason });
      return { action: `monitor_${name}`, status: supervisor.status() };
    });
  }
}
