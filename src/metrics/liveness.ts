// Monitoring the monitor: is the check loop still ticking? A daemon whose timer died would otherwise
// look healthy while checking nothing. Read by /healthz and by the tick gauges of /metrics.
import type { Clock } from '../clock.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';

interface LivenessBase {
  ok: boolean;
  message: string;
  lastTickAt: number | null;
  checkInterval: number;
}

/** ticking: checks run on time; stalled: overdue; paused: stopped by the operator; disabled: enable is false. */
export type LivenessReport =
  | (LivenessBase & {
      state: 'ticking' | 'stalled';
      /** Since the last tick, or since the monitor began watching when it has not ticked since then. */
      secondsSinceTick: number;
    })
  | (LivenessBase & { state: 'paused' | 'disabled'; secondsSinceTick: number | null });

export type Liveness = ReturnType<typeof createLiveness>;

/** A tick is overdue after this many check intervals without one. */
const GRACE_INTERVALS = 2;

export function createLiveness(supervisor: Pick<Supervisor, 'watchMonitor' | 'settings'>, clock: Pick<Clock, 'now'>) {
  let watchingSince: number | null = null;
  let lastTickAt: number | null = null;
  supervisor.watchMonitor((loop) => {
    lastTickAt = loop.lastCheckAt;
    if (!loop.watching) watchingSince = null;
    else watchingSince ??= clock.now();
  });

  return {
    lastTickAt: () => lastTickAt,
    report(): LivenessReport {
      const checkInterval = supervisor.settings().check_interval;
      const base = { lastTickAt, checkInterval };
      if (watchingSince === null) {
        const disabled = !supervisor.settings().enable;
        return {
          ...base,
          ok: true,
          state: disabled ? 'disabled' : 'paused',
          secondsSinceTick: lastTickAt === null ? null : (clock.now() - lastTickAt) / 1000,
          message: disabled
            ? 'monitoring is disabled in the configuration (proxy.monitor.enable: false): no checks run'
            : 'the monitor was stopped by the operator: no checks run until it is started again',
        };
      }
      const secondsSinceTick = (clock.now() - Math.max(lastTickAt ?? -Infinity, watchingSince)) / 1000;
      const limit = GRACE_INTERVALS * checkInterval;
      if (secondsSinceTick <= limit) {
        return { ...base, ok: true, state: 'ticking', secondsSinceTick, message: `checks run every ${checkInterval}s` };
      }
      return {
        ...base,
        ok: false,
        state: 'stalled',
        secondsSinceTick,
        message: `no check round for ${secondsSinceTick.toFixed(1)}s, expected one every ${checkInterval}s (limit ${limit}s)`,
      };
    },
  };
}
