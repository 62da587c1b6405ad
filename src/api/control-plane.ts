// The daemon's control plane: the API server with its liveness watch and scrape-time gauges, bound
// to api.listen. The token is read per request (api.token from the current config, else
// PROXY_MONITOR_TOKEN), so a reload can set or change it; the listen address is read once.
import type { Clock } from '../clock.ts';
import type { Config } from '../config/schema.ts';
import type { Logger } from '../logging/logger.ts';
import { registerGauges } from '../metrics/gauges.ts';
import type { Recent } from '../inspector/recent.ts';
import { createLiveness } from '../metrics/liveness.ts';
import { registerUsageGauges } from '../metrics/usage.ts';
import type { Metrics } from '../metrics/metrics.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import { isLoopback, type Caller } from './auth.ts';
import type { ApiStore, ReloadOutcome } from './context.ts';
import { createApiServer } from './server.ts';

export interface ControlPlaneOptions {
  supervisor: Supervisor;
  store: ApiStore;
  logger: Logger;
  metrics: Metrics;
  recent: Recent;
  /** Timers too: the inspector's feed batches on it. */
  clock: Clock;
  config(): Config;
  reload(by: Caller): Promise<ReloadOutcome>;
  degraded(): string[];
}

/** api.listen could not be bound (taken, or not an address of this host); already logged. */
export class ApiListenError extends Error {}

export function startControlPlane(options: ControlPlaneOptions) {
  const { supervisor, logger, clock, config } = options;
  const envToken = process.env.PROXY_MONITOR_TOKEN || undefined;
  const token = () => config().api.token ?? envToken;
  const liveness = createLiveness(supervisor, clock);
  registerGauges(options.metrics.registry, { supervisor, liveness, clock });
  registerUsageGauges(options.metrics.registry, supervisor);
  const server = createApiServer({
    supervisor,
    store: options.store,
    logger,
    clock,
    liveness,
    recent: options.recent,
    metrics: options.metrics.registry,
    reload: options.reload,
    token,
    allowedHosts: () => config().api.allowed_hosts,
    degraded: options.degraded,
    listen: config().api.listen,
  });

  /** The base URL once listening; rejects (after logging) when api.listen cannot be bound. */
  const ready = server.listen().then(
    (url) => {
      const host = new URL(url).hostname.replace(/^\[|\]$/g, '');
      const mutations =
        token() !== undefined ? 'bearer token' : isLoopback(host) ? 'loopback, no token' : 'refused (no token, not loopback)';
      logger.info({ url, mutations }, 'api listening');
      return url;
    },
    (error: Error) => {
      logger.error({ listen: config().api.listen, error: error.message }, 'api cannot listen');
      throw new ApiListenError(`api.listen ${config().api.listen}: ${error.message}`);
    },
  );

  return { ready, close: () => server.close() };
}
