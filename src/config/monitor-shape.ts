// The value rules of the proxy.monitor settings, without defaults: one definition shared by the
// global block (schema.ts), its runtime PATCH and the per-proxy overrides (proxy-schema.ts).
// Ranges: README "Ranges"; seconds unless said otherwise.
import * as z from 'zod';
import { DAY, HOUR, ranged, seconds, whole } from './ranges.ts';
import { sizeSchema } from './size.ts';

/**
 * What a proxy does after its process exits on its own, in systemd's `Restart=` words: `always`
 * restarts it whatever the exit; `on-failure` leaves a clean exit (code 0, or SIGHUP, SIGINT,
 * SIGTERM, SIGPIPE) stopped and restarts the rest.
 */
export const RESTART_MODES = ['always', 'on-failure'] as const;

/** The memory watchdog's limit: 1 MiB to 1 TiB. */
export const maxMemorySchema = sizeSchema(2 ** 20, 2 ** 40);

export const backoffShape = { initial: seconds(0.01, DAY), factor: ranged(1, 100), max: seconds(0.01, DAY) };

export const monitorShape = {
  enable: z.boolean(),
  check_interval: seconds(1, DAY),
  restart_cooldown: seconds(0, DAY),
  /** Restart attempts per sliding hour. */
  max_restarts: whole(1, 1_000_000),
  health_timeout: seconds(0.1, 300),
  check_concurrency: whole(1, 10_000),
  /** Consecutive failed checks that turn a running proxy into a crashed one. */
  failure_threshold: whole(1, 1_000),
  /** Seconds a started or restarted proxy has to pass its first check. */
  start_grace: seconds(0.1, HOUR),
  /** Seconds a restarted process must stay up for the restart to count as a success (0: off). */
  min_uptime: seconds(0, HOUR),
  /** Seconds between SIGTERM and SIGKILL. */
  stop_timeout: seconds(0.1, HOUR),
  /** Seconds of uptime after which the failure backoff starts over. */
  stable_uptime: seconds(1, DAY),
  restart: z.enum(RESTART_MODES),
  /** Memory watchdog limit of every proxy without a max_memory of its own (none by default). */
  max_memory: maxMemorySchema,
};

/** The settings a proxy entry may set for itself; the global proxy.monitor values are their defaults. */
export const PROXY_OVERRIDES = [
  'stop_timeout',
  'health_timeout',
  'failure_threshold',
  'start_grace',
  'min_uptime',
  'restart',
  'restart_cooldown',
  'max_restarts',
  'stable_uptime',
] as const;

export const proxyOverridesShape = Object.fromEntries(PROXY_OVERRIDES.map((key) => [key, monitorShape[key].optional()])) as {
  [K in (typeof PROXY_OVERRIDES)[number]]: z.ZodOptional<(typeof monitorShape)[K]>;
};
