// The HTTP API's requests and replies, as zod schemas: fastify validates requests and serializes
// replies with them, and the CLI client takes its types from them. Field names are snake_case;
// times are ISO-8601 strings in UTC.
import * as z from 'zod';
import { AUDIT_ACTIONS } from '../store/types.ts';
import { monitorShape, PROXY_OVERRIDES } from '../config/monitor-shape.ts';
import { PROXY_TYPES } from '../config/proxy-schema.ts';
import { LOG_LEVELS, monitorSettingsSchema, partialMonitorSettingsSchema } from '../config/schema.ts';

const time = z.iso.datetime();
const phase = z.enum(['unknown', 'running', 'stopped', 'crashed', 'restarting']);
const reason = z.enum(['exited', 'spawn_failed', 'health_check_failed', 'memory', 'operator', 'config_changed']);

// ---- requests --------------------------------------------------------------------------------------

export const proxyParams = z.strictObject({
  id: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$/, { error: 'expected a proxy id: 1-64 letters, digits, "_", "." or "-"' }),
});

/** The furthest back `since` may reach: history is never kept longer (history.max_age's range). */
const MAX_SINCE_MS = 3_650 * 86_400_000;

/** "2026-01-01T00:00:00Z" or a duration back from now, at most 3650 days: "90s", "30m", "24h", "7d". */
export function parseSince(text: string, now: number): number | undefined {
  const ago = /^(\d+(?:\.\d+)?)(s|m|h|d)$/.exec(text);
  if (ago) {
    const ms = Number(ago[1]) * { s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000 }[ago[2] as 's' | 'm' | 'h' | 'd'];
    return ms <= MAX_SINCE_MS ? now - ms : undefined;
  }
  if (!z.iso.datetime({ offset: true }).safeParse(text).success) return undefined;
  return Date.parse(text);
}

export const historyQuery = z.strictObject({
  since: z
    .string()
    .refine((s) => parseSince(s, 0) !== undefined, {
      error: 'expected an ISO time such as 2026-01-01T00:00:00Z or a duration up to 3650d such as 30m, 24h, 7d',
    })
    .optional(),
  limit: z.string().regex(/^\d+$/, { error: 'expected a whole number' }).transform(Number).pipe(z.int().min(1).max(10_000)).default(1_000),
});

/** The fleet timeline: how far back, at most a day (default: the last hour). */
export const TIMELINE_MAX_MS = 86_400_000;
export const timelineQuery = z.strictObject({
  since: z
    .string()
    .refine((s) => parseSince(s, 0) !== undefined, {
      error: 'expected an ISO time such as 2026-01-01T00:00:00Z or a duration such as 30m, 1h',
    })
    .optional(),
});

const proxyId = proxyParams.shape.id;

export const auditQuery = historyQuery.extend({
  proxy: proxyId.optional(),
  action: z.enum(AUDIT_ACTIONS).optional(),
});

/**
 * The body of a command (a proxy's or the monitor's stop, start, ..., a reload): none, or an empty
 * object; anything else is refused like any bad body, rather than ignored as if it said nothing.
 * Fastify validates a request without a body as null, so a JSON null passes as none too.
 */
export const noBody = z.strictObject({}).nullable();

/** Commands take no query either: `?force=1` is refused, not ignored as if it had been applied. */
export const noQuery = z.strictObject({});

/** Any proxy.monitor key, and the log level as the config file's `logger` section names it. */
export const configPatch = partialMonitorSettingsSchema
  .extend({
    // null removes the limit (it has no default to go back to).
    max_memory: monitorShape.max_memory.nullable().optional(),
    logger: z.strictObject({ level: z.enum(LOG_LEVELS) }).optional(),
  })
  .refine((patch) => Object.keys(patch).length > 0, {
    error: 'expected at least one setting to change',
    // An unknown key leaves the patch empty too: report that key only.
    when: (payload) => payload.issues.length === 0,
  });

// ---- replies ---------------------------------------------------------------------------------------

export const errorReply = z.object({
  error: z.string(),
  message: z.string(),
  /** For 400: every field that was wrong, `in` naming the part of the request. */
  issues: z.array(z.object({ in: z.string(), field: z.string(), message: z.string() })).optional(),
});

/** Client and server errors share one shape; fastify picks these by status class. */
export const errorReplies = { '4xx': errorReply, '5xx': errorReply } as const;

export const statusReply = z.object({
  config: monitorSettingsSchema,
  running: z.boolean(),
  total_proxies: z.int(),
  enabled_proxies: z.int(),
  status_count: z.record(phase, z.int()),
  stats: z.object({
    total_checks: z.int(),
    total_restarts: z.int(),
    success_restarts: z.int(),
    failed_restarts: z.int(),
    last_check_time: time.nullable(),
  }),
});

export const restartRecord = z.object({
  proxy_id: z.string(),
  time,
  reason,
  manual: z.boolean(),
  success: z.boolean(),
  duration_ms: z.number(),
  error: z.string().nullable(),
});

const limitValue = z.union([z.number(), z.literal('unlimited')]).nullable();

/** The memory of all the proxy's processes at its last check, against the watchdog's limit. */
const memoryReply = z.object({
  checked_at: time,
  bytes: z.number(),
  /** The limit in force (the proxy's max_memory, else proxy.monitor.max_memory); null: none. */
  limit_bytes: z.number().nullable(),
  /** Checks in a row above the limit so far; failure_threshold of them restart the proxy. */
  checks_above_limit: z.int(),
});

/** Who the proxy runs as and with what; null fields are the daemon's own (inherited). */
const privilegesReply = z.object({
  user: z.string().nullable(),
  uid: z.int().nullable(),
  group: z.string().nullable(),
  gid: z.int().nullable(),
  capabilities: z.array(z.string()),
  limits: z.object({ nofile: limitValue, nproc: limitValue, core: limitValue, memlock: limitValue }),
});

export const proxyReply = z.object({
  id: z.string(),
  proxy_type: z.enum(PROXY_TYPES),
  /** The daemon's time when this was taken: relative figures (uptime, "in 42s") are relative to it. */
  as_of: time,
  state: phase,
  /** The full state path, e.g. "crashed.waiting". */
  sub_state: z.string(),
  /** What led to the current state. */
  reason: z.string(),
  pid: z.int().nullable(),
  uptime_s: z.number().nullable(),
  /** The proxy's own monitoring flag (runtime override, else the config's `monitor`). */
  enabled: z.boolean(),
  /** Checks and automatic restarts apply now: enabled, and the monitor is watching. */
  monitoring_active: z.boolean(),
  wanted: z.enum(['up', 'down']),
  last_check: z.object({ time, ok: z.boolean(), duration_ms: z.number(), error: z.string().nullable() }).nullable(),
  last_restart: restartRecord.nullable(),
  restarts_in_window: z.int(),
  max_restarts: z.int(),
  window_s: z.number(),
  cooldown_ends_at: time.nullable(),
  next_attempt_at: time.nullable(),
  stats: z.object({ checks: z.int(), restarts: z.int(), successes: z.int(), failures: z.int() }),
  /** The settings in effect for this proxy: its entry's own, else the global proxy.monitor ones. */
  settings: z.object(
    Object.fromEntries(PROXY_OVERRIDES.map((key) => [key, monitorShape[key]])) as Pick<
      typeof monitorShape,
      (typeof PROXY_OVERRIDES)[number]
    >,
  ),
  /** The keys of `settings` the proxy's entry sets itself. */
  own_settings: z.array(z.enum(PROXY_OVERRIDES)),
  memory: memoryReply.nullable(),
  /** From the configuration (GET /proxies and /proxies/ID). */
  privileges: privilegesReply.optional(),
});

export const proxiesReply = z.object({ as_of: time, proxies: z.array(proxyReply) });

const outputLine = z.object({ time, stream: z.enum(['stdout', 'stderr']), line: z.string() });

export const whyReply = z.object({
  proxy_id: z.string(),
  state: phase,
  sub_state: z.string(),
  /** How the process last exited, and what it left running if it daemonized itself; null if it has not. */
  last_exit: z.string().nullable(),
  /** What made the last restart fail (an exit, a spawn error, a readiness check); null when it succeeded or there was none. */
  last_restart_failure: z.string().nullable(),
  /** The proxy's last output lines (at most WHY_OUTPUT_LINES, oldest first): what a server says of its own failure. */
  last_output: z.array(outputLine),
  /** The last restart decision as it was taken; null before the first crash. */
  decision: z
    .object({
      decided_at: time,
      verdict: z.enum(['allowed', 'withheld', 'held']),
      guard: z.enum(['cooldown', 'restart_cap', 'backoff', 'monitoring_disabled', 'stopped_by_operator']).nullable(),
      message: z.string(),
      inputs: z.object({
        restarts_in_window: z.int(),
        max_restarts: z.int(),
        window_s: z.number(),
        cooldown_s: z.number(),
        cooldown_remaining_ms: z.number(),
        backoff_ms: z.number(),
        backoff_remaining_ms: z.number(),
        consecutive_failures: z.int(),
      }),
      next_attempt_at: time.nullable(),
    })
    .nullable(),
  /** The decision's waiting times as they stand now. */
  remaining: z.object({
    now: time,
    cooldown_ms: z.number(),
    backoff_ms: z.number(),
    next_attempt_in_ms: z.number().nullable(),
  }),
  /** The memory watchdog's figures at the last check (null before the first measured check). */
  memory: memoryReply.nullable(),
  message: z.string(),
});

export const historyReply = z.object({
  proxy_id: z.string().nullable(),
  since: time.nullable(),
  records: z.array(restartRecord),
  /** More records matched than `limit`: the records, and so the analysis, are the newest of them. */
  truncated: z.boolean(),
  /** Of the records returned. Hours are UTC. */
  analysis: z.object({
    total: z.int(),
    successes: z.int(),
    failures: z.int(),
    success_rate: z.number().nullable(),
    by_reason: z.record(z.string(), z.int()),
    by_hour: z.array(z.int()).length(24),
    duration_ms: z.object({ p50: z.number(), p95: z.number(), max: z.number() }).nullable(),
  }),
});

export const timelineReply = z.object({
  since: time,
  until: time,
  /** Restart records past what one reply reads were left out (the oldest ones). */
  truncated: z.boolean(),
  proxies: z.array(
    z.object({
      id: z.string(),
      segments: z.array(z.object({ state: z.enum(['none', ...phase.options]), from: time, to: time })),
    }),
  ),
});

export const auditReply = z.object({
  since: time.nullable(),
  proxy_id: z.string().nullable(),
  action: z.string().nullable(),
  /** Newest first. */
  records: z.array(
    z.object({
      time,
      /** "system" (automatic restarts), "operator", "api:<address>". */
      user: z.string(),
      action: z.string(),
      proxy_id: z.string().nullable(),
      proxy_type: z.string().nullable(),
      reason: z.string().nullable(),
      /** Everything else the action recorded (auth, success, duration_ms, before/after, ...). */
      detail: z.record(z.string(), z.unknown()),
    }),
  ),
});

export const outputReply = z.object({
  proxy_id: z.string(),
  /** The last lines the proxy wrote, oldest first, as the log has them (redacted, rate-limited). */
  lines: z.array(outputLine),
});

export const actionReply = z.object({ action: z.string(), proxy: proxyReply });
export const monitorActionReply = z.object({ action: z.string(), status: statusReply });
export const configReply = z.object({
  config: monitorSettingsSchema,
  logger: z.object({ level: z.string() }),
  /** The keys changed, logger.level included. */
  changed: z.array(z.string()),
});
export const reloadReply = z.object({
  added: z.array(z.string()),
  removed: z.array(z.string()),
  /** Restarted: what they execute changed. */
  changed: z.array(z.string()),
  /** Changed in place (health check, `monitor:`, own settings): same process. */
  reconfigured: z.array(z.string()),
  /** The other settings changed, by key (`proxy.monitor.check_interval`, ...). */
  settings: z.array(z.string()),
  /** Those of them read only at start (`api.listen`, `state_dir`, `log.file`, ...): they wait for the next start. */
  at_next_start: z.array(z.string()),
});

export const healthReply = z.object({
  ok: z.boolean(),
  state: z.enum(['ticking', 'stalled', 'paused', 'disabled']),
  message: z.string(),
  last_tick: time.nullable(),
  seconds_since_tick: z.number().nullable(),
  check_interval: z.number(),
  /** What works but needs the operator, e.g. "state_dir not writable: ..."; empty when all is well. */
  degraded: z.array(z.string()),
});

export type StatusReply = z.infer<typeof statusReply>;
export type ProxyReply = z.infer<typeof proxyReply>;
export type WhyReply = z.infer<typeof whyReply>;
export type HistoryReply = z.infer<typeof historyReply>;
export type AuditReply = z.infer<typeof auditReply>;
export type RestartRecordReply = z.infer<typeof restartRecord>;
export type ErrorReply = z.infer<typeof errorReply>;
