// Gauges that describe the present, read from the supervisor when Prometheus scrapes: nothing is
// copied per event, so they cannot drift from what `status` and `proxies` report. The fleet's here;
// the per-proxy ones are kept as text per proxy (proxy-gauges.ts).
import { Gauge } from './prom.ts';
import type { Clock } from '../clock.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import type { Exposition } from './exposition.ts';
import type { Liveness } from './liveness.ts';
import { createProxyGauges } from './proxy-gauges.ts';

export interface GaugeSources {
  supervisor: Pick<Supervisor, 'states' | 'status' | 'settings' | 'revision'>;
  liveness: Liveness;
  clock: Pick<Clock, 'now'>;
}

export function registerGauges(registry: Exposition, { supervisor, liveness, clock }: GaugeSources): void {
  const registers = [registry];
  registry.append(createProxyGauges(supervisor, clock).render);

  new Gauge({
    name: 'proxy_monitor_max_restarts',
    help: 'The default cap of automatic restart attempts per proxy per hour (proxy.monitor.max_restarts; a proxy may set its own).',
    registers,
    collect() {
      this.set(supervisor.settings().max_restarts);
    },
  });
  new Gauge({
    name: 'proxy_monitor_check_interval_seconds',
    help: 'The configured check_interval: seconds between check rounds (the stalled-monitor alert compares against it).',
    registers,
    collect() {
      this.set(supervisor.settings().check_interval);
    },
  });
  new Gauge({
    name: 'proxy_monitor_running',
    help: '1 while the monitor is watching (checking and restarting), 0 while paused or disabled.',
    registers,
    collect() {
      this.set(supervisor.status().running ? 1 : 0);
    },
  });
  new Gauge({
    name: 'proxy_monitor_last_tick_timestamp_seconds',
    help: 'Unix time of the last check round (0 before the first one).',
    registers,
    collect() {
      this.set((liveness.lastTickAt() ?? 0) / 1000);
    },
  });
  new Gauge({
    name: 'proxy_monitor_seconds_since_last_tick',
    help: 'Seconds since the last check round, or since the monitor started watching if none ran since; 0 while paused or disabled (no round is due).',
    registers,
    collect() {
      const report = liveness.report();
      this.set(report.state === 'ticking' || report.state === 'stalled' ? report.secondsSinceTick : 0);
    },
  });
}
