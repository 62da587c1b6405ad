// Schema of the YAML config file. Every object is strict: a misspelt key is an error, not a silently
// ignored setting. Defaults of proxy.monitor are the design document's (enable false, 30/60/10/5).
import { SENDABLE_TOKEN, TOKEN_EXPECTED } from './token.ts';
import * as z from 'zod';
import { hostnameSchema, listenSchema } from './address.ts';
import { backoffShape, monitorShape } from './monitor-shape.ts';
import { proxyEntrySchema } from './proxy-schema.ts';
import { DAY, ranged, seconds, whole } from './ranges.ts';
import { sizeSchema } from './size.ts';

const backoffOrder = (b: { initial?: number; max?: number }, ctx: z.RefinementCtx) => {
  if (b.initial !== undefined && b.max !== undefined && b.max < b.initial) {
    ctx.issues.push({ code: 'custom', path: ['max'], input: b.max, message: `expected a number >= backoff.initial (${b.initial})` });
  }
};

export const monitorSettingsSchema = z.strictObject({
  enable: monitorShape.enable.default(false),
  check_interval: monitorShape.check_interval.default(30),
  restart_cooldown: monitorShape.restart_cooldown.default(60),
  max_restarts: monitorShape.max_restarts.default(10),
  health_timeout: monitorShape.health_timeout.default(5),
  check_concurrency: monitorShape.check_concurrency.default(64),
  failure_threshold: monitorShape.failure_threshold.default(3),
  start_grace: monitorShape.start_grace.default(5),
  min_uptime: monitorShape.min_uptime.default(1),
  stop_timeout: monitorShape.stop_timeout.default(10),
  stable_uptime: monitorShape.stable_uptime.default(60),
  restart: monitorShape.restart.default('always'),
  max_memory: monitorShape.max_memory.optional(),
  // prefault, not default: zod 4's default() returns its value unparsed, so inner defaults would be lost.
  backoff: z
    .strictObject({
      initial: backoffShape.initial.default(1),
      factor: backoffShape.factor.default(2),
      max: backoffShape.max.default(300),
    })
    .superRefine(backoffOrder)
    .prefault({}),
});

/**
 * A runtime change of proxy.monitor (HTTP PATCH): strict, every key optional, no defaults, backoff
 * partial too. Merge it into the current settings and validate the result with monitorSettingsSchema
 * (that is where cross-key rules such as backoff.max >= backoff.initial are checked).
 */
export const partialMonitorSettingsSchema = z
  .strictObject(monitorShape)
  .extend({ backoff: z.strictObject(backoffShape).partial().superRefine(backoffOrder) })
  .partial();

const proxiesSchema = z
  .array(proxyEntrySchema)
  .default([])
  .superRefine((entries, ctx) => {
    const seen = new Map<string, number>();
    entries.forEach((e, i) => {
      const first = seen.get(e.id);
      if (first === undefined) seen.set(e.id, i);
      else
        ctx.issues.push({
          code: 'custom',
          path: [i, 'id'],
          input: undefined,
          message: `duplicate id "${e.id}" (also at proxy.proxies[${first}])`,
        });
    });
  });

export const LOG_LEVELS = ['trace', 'debug', 'info', 'warn', 'error', 'fatal'] as const;
const logLevel = z.enum(LOG_LEVELS);

/** The verbosity, where the design document's troubleshooting section sets it (`logger: { level: debug }`). */
const loggerSchema = z.strictObject({ level: logLevel.optional() });

const configShape = z.strictObject({
  proxy: z.strictObject({ monitor: monitorSettingsSchema.prefault({}), proxies: proxiesSchema }).prefault({}),
  api: z
    .strictObject({
      listen: listenSchema.default('127.0.0.1:8080'),
      token: z.string().min(1).regex(SENDABLE_TOKEN, { error: TOKEN_EXPECTED }).optional(),
      /** Host names the API answers to besides localhost and its own addresses (DNS rebinding defence). */
      allowed_hosts: z.array(hostnameSchema).default([]),
    })
    .prefault({}),
  /** Relative paths are relative to the daemon's working directory, not to the config file. */
  state_dir: z.string().min(1).default('./state'),
  history: z
    .strictObject({ max_age: seconds(1, 3_650 * DAY).default(2_592_000), max_records: whole(1, 10_000_000).default(10_000) })
    .prefault({}),
  logger: loggerSchema.prefault({}),
  log: z
    .strictObject({
      /** Deprecated alias of logger.level (see configSchema). */
      level: logLevel.optional(),
      file: z.string().min(1).optional(),
      /** Rotation size of log.file. */
      max_size: sizeSchema(2 ** 10, 2 ** 40).default('10m'),
      /** Files of log.file kept, the live one included; older ones are deleted at rotation. */
      max_files: whole(1, 1_000).default(5),
      /** Captured proxy output lines per second per proxy; the rest is counted and dropped. */
      output_rate: ranged(0.1, 10_000).default(50),
    })
    .prefault({}),
});

/**
 * `log.level`, this project's first name for the level, is still read: it becomes `logger.level`
 * (the loader warns that it is deprecated). Set both, and the file is refused rather than one
 * silently winning.
 */
export const configSchema = configShape
  .superRefine((c, ctx) => {
    if (c.log.level !== undefined && c.logger.level !== undefined && c.logger.level !== c.log.level) {
      ctx.issues.push({
        code: 'custom',
        path: ['log', 'level'],
        input: c.log.level,
        message: `deprecated alias of logger.level, which is set too (to ${c.logger.level}): keep only logger.level`,
      });
    }
  })
  .transform(({ log: { level, ...log }, ...c }) => ({ ...c, logger: { level: c.logger.level ?? level ?? 'info' }, log }));

export type Config = z.output<typeof configSchema>;
export type MonitorSettings = z.output<typeof monitorSettingsSchema>;
export type PartialMonitorSettings = z.output<typeof partialMonitorSettingsSchema>;
