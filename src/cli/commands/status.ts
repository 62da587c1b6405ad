// `proxy-monitor status`: the monitor's summary and one line per proxy.
import type { ProxyReply, StatusReply } from '../../api/schemas.ts';
import { count, duration, milliseconds, relative, table } from '../format.ts';
import { json, type ClientCommand } from './command.ts';

function summary(s: StatusReply, asOf: string): string {
  const mode = s.running
    ? `watching, checks every ${s.config.check_interval}s`
    : s.config.enable
      ? 'paused by the operator'
      : 'disabled (enable: false)';
  const { stats } = s;
  // The total counts the daemon's earlier runs too; the last round's time is this run's.
  const last =
    stats.last_check_time === null
      ? stats.total_checks > 0
        ? 'none yet since the daemon started'
        : '-'
      : relative(stats.last_check_time, asOf);
  return (
    `monitor: ${mode}; ${count(s.total_proxies, 'proxy', 'proxies')}, ${s.enabled_proxies} monitored; ` +
    `${count(stats.total_checks, 'check')}, last ${last}; ` +
    `${count(stats.total_restarts, 'restart')} (${stats.success_restarts} ok, ${stats.failed_restarts} failed)\n`
  );
}

function row(p: ProxyReply): string[] {
  const check = p.last_check
    ? `${p.last_check.ok ? 'ok' : 'FAIL'} ${milliseconds(p.last_check.duration_ms)} ${relative(p.last_check.time, p.as_of)}`
    : '-';
  return [
    p.id,
    p.sub_state,
    p.pid === null ? '-' : String(p.pid),
    p.uptime_s === null ? '-' : duration(p.uptime_s),
    p.monitoring_active ? 'on' : p.enabled ? 'on (paused)' : 'off',
    `${p.restarts_in_window}/${p.max_restarts}`,
    check,
    relative(p.next_attempt_at, p.as_of),
  ];
}

export const status: ClientCommand = {
  usage: 'status [--json]',
  args: { min: 0, max: 0 },
  async run({ client, json: asJson, out }) {
    const [monitor, { as_of, proxies }] = await Promise.all([
      client.get<StatusReply>('/status'),
      client.get<{ as_of: string; proxies: ProxyReply[] }>('/proxies'),
    ]);
    if (asJson) return out(json({ ...monitor, proxies }));
    out(summary(monitor, as_of));
    if (proxies.length === 0) return out('no proxies configured\n');
    out(table(['ID', 'STATE', 'PID', 'UPTIME', 'MONITOR', 'RESTARTS/H', 'LAST CHECK', 'NEXT ATTEMPT'], proxies.map(row)));
  },
};
