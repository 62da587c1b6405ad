// The HTTP control plane: fastify with zod schemas for every request and reply. Built from explicit
// dependencies so tests can run it over a simulated supervisor, and the daemon over the real one.
import type { AddressInfo } from 'node:net';
import Fastify, { type FastifyServerOptions } from 'fastify';
import { serializerCompiler, type ZodTypeProvider } from 'fastify-type-provider-zod';
import { parseHostPort } from '../config/host-port.ts';
import { createAudit } from './audit.ts';
import { requireAuthForMutations } from './auth.ts';
import { refuseBrowsers } from './browsers.ts';
import type { ApiApp, ApiDeps, RouteContext } from './context.ts';
import { checkContinue, clientErrorHandler, errorHandler, notFoundHandler, routeMethods, validatorCompiler } from './errors.ts';
import { lazyInspector } from './lazy-inspector.ts';
import { configRoutes } from './routes/config.ts';
import { controlRoutes } from './routes/control.ts';
import { auditRoutes } from './routes/audit.ts';
import { fleetRoutes } from './routes/fleet.ts';
import { historyRoutes } from './routes/history.ts';
import { monitorRoutes } from './routes/monitor.ts';
import { opsRoutes } from './routes/ops.ts';
import { proxyRoutes } from './routes/proxies.ts';
import { createReadCache } from './read-cache.ts';

/**
 * Small: every request body is a handful of settings. Idle clients must not hold the daemon's file
 * descriptors (which it needs to start proxies): few connections, short idle timeouts.
 */
export const API_LIMITS = {
  bodyBytes: 64 * 1024,
  /** Beyond this many open connections, new ones are closed at once. */
  maxConnections: 128,
  /** A connection with no request in progress is closed after this long. */
  keepAliveTimeoutMs: 5_000,
  /** A request's headers must arrive within this long; a whole request (not a stream) within requestTimeoutMs. */
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
};

// Every schema is zod. Given as the compilers' factories (not set on the instance afterwards),
// fastify never loads its JSON-schema ones (ajv, fast-json-stringify): 0.7 MiB of RSS for code no
// route runs. Fastify types these factories for its JSON-schema compilers only, hence the cast.
const ZOD_COMPILERS = {
  buildValidator: () => validatorCompiler,
  buildSerializer: () => serializerCompiler,
} as unknown as NonNullable<NonNullable<FastifyServerOptions['schemaController']>['compilersFactory']>;

export function createApiServer(deps: ApiDeps) {
  const onError = errorHandler(deps.logger);
  const app: ApiApp = Fastify({
    bodyLimit: API_LIMITS.bodyBytes,
    logger: false,
    keepAliveTimeout: API_LIMITS.keepAliveTimeoutMs,
    requestTimeout: API_LIMITS.requestTimeoutMs,
    http: { headersTimeout: API_LIMITS.headersTimeoutMs, connectionsCheckingInterval: 2_000 },
    schemaController: { compilersFactory: ZOD_COMPILERS },
    // A "__proto__" or "constructor" key stays a plain key (JSON.parse never sets a prototype), so the
    // body's strict schema refuses it as an unknown key, as it does in the config file; fastify's
    // default ("error") answered "invalid JSON". Safe while every body has a strict schema: zod
    // rebuilds the object from its known keys before any handler sees it.
    onProtoPoisoning: 'ignore',
    onConstructorPoisoning: 'ignore',
    // Errors the router raises before any route is chosen: in the same shape as every other.
    frameworkErrors: onError,
    clientErrorHandler,
  }).withTypeProvider<ZodTypeProvider>();
  app.server.maxConnections = API_LIMITS.maxConnections;
  app.server.on(
    'checkContinue',
    checkContinue(API_LIMITS.bodyBytes, (request, response) => app.server.emit('request', request, response)),
  );
  app.setErrorHandler(onError);
  app.setNotFoundHandler(notFoundHandler(routeMethods(app)));

  const boundAddress = () => (app.server.address() as AddressInfo).address;
  app.addHook('onRequest', refuseBrowsers({ boundAddress, allowedHosts: deps.allowedHosts }));
  app.addHook('onRequest', requireAuthForMutations({ token: deps.token, boundAddress }));

  const context: RouteContext = {
    deps,
    audit: createAudit(deps.store, deps.logger, deps.clock, deps.supervisor.typeOf),
    replies: createReadCache(deps.supervisor, deps.metrics),
  };
  for (const routes of [monitorRoutes, proxyRoutes, controlRoutes, configRoutes, historyRoutes, auditRoutes, fleetRoutes, opsRoutes])
    app.register(routes, context);
  lazyInspector(
    app,
    { supervisor: deps.supervisor, clock: deps.clock, liveness: deps.liveness, recent: deps.recent, metrics: deps.metrics },
    deps.logger,
  );

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
