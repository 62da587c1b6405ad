// `proxy-monitor show ID`: everything the daemon knows about one proxy now.
import type { ProxyReply } from '../../api/schemas.ts';
import { count, duration, fields, memory, milliseconds, relative } from '../format.ts';
import { json, proxyPath, type ClientCommand } from './command.ts';

export const show: ClientCommand = {
  usage: 'show ID [--json]',
  args: { min: 1, max: 1 },
  async run({ client, args: [id], json: asJson, out }) {
    const p = await client.get<ProxyReply>(proxyPath(id));
    if (asJson) return out(json(p));
    const check = p.last_check;
    const restart = p.last_restart;
    out(`${p.id} (${p.proxy_type}): ${p.sub_state} (${p.reason})\n`);
    const own = new Set<string>(p.own_settings);
    const settings = Object.entries(p.settings).map(([key, value]) => `${key}=${value}${own.has(key) ? ' (own)' : ''}`);
    out(
      fields([
        ['pid', p.pid === null ? '-' : String(p.pid)],
        ['uptime', p.uptime_s === null ? '-' : duration(p.uptime_s)],
        ['monitoring', `${p.enabled ? 'enabled' : 'disabled'}${p.enabled && !p.monitoring_active ? ' (monitor paused)' : ''}`],
        ['wanted', p.wanted],
        [
          'last check',
          check
            ? `${check.ok ? 'ok' : `failed: ${check.error}`} in ${milliseconds(check.duration_ms)}, ${relative(check.time, p.as_of)}`
            : '-',
        ],
        [
          'last restart',
          restart
            ? `${restart.success ? 'succeeded' : `failed: ${restart.error}`} (${restart.reason}) in ${milliseconds(restart.duration_ms)}, ${relative(restart.time, p.as_of)}`
            : '-',
        ],
        ['restarts', `${p.restarts_in_window}/${p.max_restarts} in the last ${duration(p.window_s)}`],
        ['cooldown', p.cooldown_ends_at ? `ends ${relative(p.cooldown_ends_at, p.as_of)}` : 'none'],
        ['next attempt', relative(p.next_attempt_at, p.as_of)],
        ['memory', memory(p.memory, p.pid !== null)],
        ['runs as', p.privileges?.user ?? (p.privileges?.uid != null ? `uid ${p.privileges.uid}` : "the daemon's user")],
        [
          'totals',
          `${count(p.stats.checks, 'check')}, ${count(p.stats.restarts, 'restart')} (${p.stats.successes} ok, ${p.stats.failures} failed)`,
        ],
        ['settings', settings.join(', ')],
      ]),
    );
  },
};
