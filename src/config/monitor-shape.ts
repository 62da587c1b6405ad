// The value rules of the proxy.monitor settings, without defaults: one definition shared by the
// global block (schema.ts), its runtime PATCH and the per-proxy overrides (proxy-schema.ts).
import { z } from 'zod';

export const positive = z.number().positive(); // z.number() already rejects NaN and .inf
export const seconds = positive;
export const count = z.int().min(1);

/**
 * What a proxy does after its process exits on its own, in systemd's `Restart=` words: `always`
 * restarts it whatever the exit; `on-failure` leaves a clean exit (code 0, or SIGHUP, SIGINT,
 * SIGTERM, SIGPIPE) stopped and restarts the rest.
 */
export const RESTART_MODES = ['always', 'on-failure'] as const;

export const backoffShape = { initial: seconds, factor: z.number().min(1), max: seconds };

export const monitorShape = {
  enable: z.boolean(),
  check_interval: seconds,
  restart_cooldown: z.number().min(0),
  /** Restart attempts per sliding hour. */
  max_restarts: count,
  health_timeout: seconds,
  check_concurrency: count,
  /** Consecutive failed checks that turn a running proxy into a crashed one. */
  failure_threshold: count,
  /** Seconds a restarted proxy has to pass its first check. */
  start_grace: seconds,
  /** Seconds between SIGTERM and SIGKILL. */
  stop_timeout: seconds,
  /** Seconds of uptime after which the failure backoff starts over. */
  stable_uptime: seconds,
  restart: z.enum(RESTART_MODES),
};

/** The settings a proxy entry may set for itself; the global proxy.monitor values are their defaults. */
export const PROXY_OVERRIDES = ['stop_timeout', 'health_timeout', 'failure_threshold', 'start_grace', 'restart'] as const;

export const proxyOverridesShape = Object.fromEntries(PROXY_OVERRIDES.map((key) => [key, monitorShape[key].optional()])) as {
  [K in (typeof PROXY_OVERRIDES)[number]]: z.ZodOptional<(typeof monitorShape)[K]>;
};
