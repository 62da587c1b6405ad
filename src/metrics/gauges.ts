// Gauges computed from the supervisor when Prometheus scrapes: nothing is copied per event, so they
// cannot drift from what `status` and `proxies` report.
import type { Registry } from 'prom-client';
import { Gauge } from 'prom-client';
import { monitoringWanted, type ProxyPhase } from '../../machines/proxy/context.ts';
import { attemptsInWindow } from '../../machines/proxy/policy.ts';
import type { Clock } from '../clock.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import type { Liveness } from './liveness.ts';

const PHASES = ['unknown', 'running', 'stopped', 'crashed', 'restarting'] as const satisfies readonly ProxyPhase[];

export interface GaugeSources {
  supervisor: Pick<Supervisor, 'proxies' | 'status' | 'settings'>;
  liveness: Liveness;
  clock: Pick<Clock, 'now'>;
}

export function registerGauges(registry: Registry, { supervisor, liveness, clock }: GaugeSources): void {
  const registers = [registry];
  const restartsInWindow = () => {
    const now = clock.now();
    return supervisor.proxies().map((view) => ({
      id: view.id,
      count: attemptsInWindow(view.context, view.context.policy, now).length,
      max: view.context.policy.maxRestarts,
    }));
  };

  new Gauge({
    name: 'proxy_monitor_proxy_state',
    help: 'The state each proxy is in: 1 for its current state, 0 for the others.',
    labelNames: ['proxy_id', 'state'] as const,
    registers,
    collect() {
      this.reset(); // proxies removed since the last scrape must disappear
      for (const view of supervisor.proxies()) {
        for (const state of PHASES) this.set({ proxy_id: view.id, state }, view.phase === state ? 1 : 0);
      }
    },
  });
  new Gauge({
    name: 'proxy_monitor_proxy_enabled',
    help: "1 while a proxy's own monitoring is on (the API's `enabled`: its config flag or the operator's enable/disable), else 0.",
    labelNames: ['proxy_id'] as const,
    registers,
    collect() {
      this.reset();
      for (const view of supervisor.proxies()) this.set({ proxy_id: view.id }, monitoringWanted(view.context) ? 1 : 0);
    },
  });
  new Gauge({
    name: 'proxy_monitor_proxy_wanted_up',
    help: '1 while the operator wants a proxy running, 0 after a stop through the API or the CLI (until a start).',
    labelNames: ['proxy_id'] as const,
    registers,
    collect() {
      this.reset();
      for (const view of supervisor.proxies()) this.set({ proxy_id: view.id }, view.context.wanted === 'up' ? 1 : 0);
    },
  });
  new Gauge({
    name: 'proxy_monitor_restarts_in_window',
    help: 'Automatic restart attempts of each proxy in the sliding hour that the cap counts.',
    labelNames: ['proxy_id'] as const,
    registers,
    collect() {
      this.reset();
      for (const { id, count } of restartsInWindow()) this.set({ proxy_id: id }, count);
    },
  });
  new Gauge({
    name: 'proxy_monitor_restart_cap_reached',
    help: '1 while a proxy has used every restart attempt the hourly cap allows.',
    labelNames: ['proxy_id'] as const,
    registers,
    collect() {
      this.reset();
      for (const { id, count, max } of restartsInWindow()) this.set({ proxy_id: id }, count >= max ? 1 : 0);
    },
  });
  new Gauge({
    name: 'proxy_monitor_max_restarts',
    help: 'The configured cap of automatic restart attempts per proxy per hour.',
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
