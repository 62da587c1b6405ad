// What every route plugin is given, in a module of its own: the server registers the routes, the
// routes know only these types.
import type { FastifyBaseLogger, FastifyInstance, RawReplyDefaultExpression, RawRequestDefaultExpression, RawServerDefault } from 'fastify';
import type { FastifyPluginCallbackZod, ZodTypeProvider } from 'fastify-type-provider-zod';
import type * as z from 'zod';
import type { Clock } from '../clock.ts';
import type { Recent } from '../inspector/recent.ts';
import type { Logger } from '../logging/logger.ts';
import type { Exposition } from '../metrics/exposition.ts';
import type { Liveness } from '../metrics/liveness.ts';
import type { Store } from '../store/types.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import type { Audit } from './audit.ts';
import type { Caller } from './auth.ts';
import type { ReadCache } from './read-cache.ts';
import type { reloadReply } from './schemas.ts';

export type ApiStore = Pick<Store, 'restarts' | 'audits' | 'addAudit' | 'setOverride' | 'setWanted'>;

/** A reload's outcome: what changed, as POST /reload answers it, or why nothing did. */
export type ReloadOutcome = { ok: true; changes: z.infer<typeof reloadReply> } | { ok: false; error: string };

export interface ApiDeps {
  supervisor: Supervisor;
  store: ApiStore;
  logger: Logger;
  /** Timers too: the inspector's feed batches on it. */
  clock: Clock;
  liveness: Liveness;
  /** Recent output, crashes and check rounds, for the inspector and the fleet routes. */
  recent: Recent;
  metrics: Exposition;
  /** Re-read the config file and reconcile (what SIGHUP does). */
  reload(by: Caller): Promise<ReloadOutcome>;
  /** api.token, or PROXY_MONITOR_TOKEN; read per request so a reload can change it. */
  token(): string | undefined;
  /** Conditions that do not stop supervision but need the operator (/healthz `degraded`). */
  degraded(): string[];
  /** api.allowed_hosts: names (besides localhost and our addresses) that may appear in Host. */
  allowedHosts(): string[];
  /** "host:port"; port 0 picks a free one. */
  listen: string;
}

export type ApiApp = FastifyInstance<
  RawServerDefault,
  RawRequestDefaultExpression,
  RawReplyDefaultExpression,
  FastifyBaseLogger,
  ZodTypeProvider
>;

export interface RouteContext {
  deps: ApiDeps;
  audit: Audit;
  /** The read routes' replies, serialized once per change. */
  replies: ReadCache;
}

/** A group of routes, registered by the server with `app.register(plugin, context)`. */
export type RoutePlugin = FastifyPluginCallbackZod<RouteContext>;

/** For replies already serialized (read-cache.ts): fastify sends a string of this type as it is. */
export const JSON_TYPE = 'application/json; charset=utf-8';
