// The HTTP control plane: fastify with zod schemas for every request and reply. Built from explicit
// dependencies so tests can run it over a simulated supervisor, and the daemon over the real one.
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyBaseLogger, type FastifyInstance, type RawReplyDefaultExpression, type RawRequestDefaultExpression, type RawServerDefault } from 'fastify';
import { serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import type { Registry } from 'prom-client';
import type { Clock } from '../clock.ts';
import { parseHostPort } from '../config/address.ts';
import type { Logger } from '../logging/logger.ts';
import type { Liveness } from '../metrics/liveness.ts';
import type { Store } from '../store/types.ts';
import { inspectorPlugin } from '../inspector/plugin.ts';
import type { Recent } from '../inspector/recent.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import { createAudit, type Audit } from './audit.ts';
import { requireAuthForMutations } from './auth.ts';
import { errorHandler, notFoundHandler, validatorCompiler } from './errors.ts';
import { configRoutes } from './routes/config.ts';
import { controlRoutes } from './routes/control.ts';
import { auditRoutes } from './routes/audit.ts';
import { fleetRoutes } from './routes/fleet.ts';
import { historyRoutes } from './routes/history.ts';
import { monitorRoutes } from './routes/monitor.ts';
import { opsRoutes } from './routes/ops.ts';
import { proxyRoutes } from './routes/proxies.ts';

export type ApiStore = Pick<Store, 'restarts' | 'audits' | 'addAudit' | 'setOverride' | 'setWanted'>;

export type ReloadOutcome =
  | { ok: true; changes: { added: string[]; removed: string[]; changed: string[] } }
  | { ok: false; error: string };

export interface ApiDeps {
  supervisor: Supervisor;
  store: ApiStore;
  logger: Logger;
  /** Timers too: the inspector's feed batches on it. */
  clock: Clock;
  liveness: Liveness;
  /** Recent output, crashes and check rounds, for the inspector and the fleet routes. */
  recent: Recent;
  metrics: Registry;
  /** Re-read the config file and reconcile (what SIGHUP does). */
  reload(): ReloadOutcome;
  /** api.token, or PROXY_MONITOR_TOKEN; read per request so a reload can change it. */
  token(): string | undefined;
  /** "host:port"; port 0 picks a free one. */
  listen: string;
}

export type ApiApp = FastifyInstance<RawServerDefault, RawRequestDefaultExpression, RawReplyDefaultExpression, FastifyBaseLogger, ZodTypeProvider>;

export interface RouteContext {
  deps: ApiDeps;
  audit: Audit;
}


/** Small: every request body is a handful of settings. */
const BODY_LIMIT = 64 * 1024;

export function createApiServer(deps: ApiDeps) {
  const app: ApiApp = Fastify({ bodyLimit: BODY_LIMIT, logger: false }).withTypeProvider<ZodTypeProvider>();
  app.setValidatorCompiler(validatorCompiler);
  app.setSerializerCompiler(serializerCompiler);
  app.setErrorHandler(errorHandler(deps.logger));
  app.setNotFoundHandler(notFoundHandler);

  const boundAddress = () => (app.server.address() as AddressInfo).address;
  app.addHook('onRequest', requireAuthForMutations({ token: deps.token, boundAddress }));

  const context: RouteContext = { deps, audit: createAudit(deps.store, deps.logger, deps.clock, deps.supervisor.typeOf) };
  for (const routes of [monitorRoutes, proxyRoutes, controlRoutes, configRoutes, historyRoutes, auditRoutes, fleetRoutes, opsRoutes]) routes(app, context);
  app.register(inspectorPlugin, { supervisor: deps.supervisor, clock: deps.clock, liveness: deps.liveness, recent: deps.recent });

  return {
    app,
    /** Starts listening; resolves with the base URL actually bound (the real port when 0 was asked). */
    async listen(): Promise<string> {
      const where = parseHostPort(deps.listen, 0);
      if (!where) throw new Error(`api.listen: expected "host:port", got ${JSON.stringify(deps.listen)}`);
      await app.listen({ host: where.host, port: where.port });
      const { address, port, family } = app.server.address() as AddressInfo;
      return `http://${family === 'IPv6' ? `[${address}]` : address}:${port}`;
    },
    close: () => app.close(),
  };
}

export type ApiServer = ReturnType<typeof createApiServer>;
