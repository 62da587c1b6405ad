// `proxy-monitor history [ID]`: restart records, newest first, and their analysis.
import { historyQuery, type HistoryReply } from '../../api/schemas.ts';
import { count, milliseconds, table } from '../format.ts';
import { json, proxyPath, type ClientCommand } from './command.ts';

function analysis(a: HistoryReply['analysis'], truncated: boolean): string {
  if (a.total === 0) return 'no restarts recorded\n';
  const of = truncated ? ` (the newest ${a.total} only: more matched, raise --limit for all)` : '';
  const reasons = Object.entries(a.by_reason)
    .map(([reason, n]) => `${reason} ${n}`)
    .join(', ');
  const hours = a.by_hour
    .map((n, hour) => [hour, n])
    .filter(([, n]) => n > 0)
    .map(([hour, n]) => `${String(hour).padStart(2, '0')}h ${n}`)
    .join(', ');
  const d = a.duration_ms!;
  return (
    `${count(a.total, 'restart')}, ${Math.round(a.success_rate! * 100)}% succeeded (${a.failures} failed)${of}\n` +
    `by reason: ${reasons}\nby hour (UTC): ${hours}\n` +
    `duration: p50 ${milliseconds(d.p50)}, p95 ${milliseconds(d.p95)}, max ${milliseconds(d.max)}\n`
  );
}

export const history: ClientCommand = {
  usage: 'history [ID] [--since 24h|ISO-TIME] [--limit N] [--json]',
  args: { min: 0, max: 1 },
  options: ['since', 'limit'],
  query: historyQuery,
  async run({ client, args: [id], options, json: asJson, out }) {
    const query = new URLSearchParams();
    if (options.since !== undefined) query.set('since', options.since);
    if (options.limit !== undefined) query.set('limit', options.limit);
    const path = `${id === undefined ? '' : proxyPath(id)}/history${query.size ? `?${query}` : ''}`;
    const h = await client.get<HistoryReply>(path);
    if (asJson) return out(json(h));
    if (h.records.length) {
      const rows = h.records.map((r) => [
        r.time,
        r.proxy_id,
        r.reason,
        r.success ? 'ok' : 'FAILED',
        milliseconds(r.duration_ms),
        r.error ?? '',
      ]);
      out(table(['TIME', 'PROXY', 'REASON', 'RESULT', 'DURATION', 'ERROR'], rows));
    }
    out(analysis(h.analysis, h.truncated));
  },
};
