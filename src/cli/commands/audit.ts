// `proxy-monitor audit`: the audit trail (automatic restarts and every change made through the API),
// newest first.
import { auditQuery, type AuditReply } from '../../api/schemas.ts';
import { table } from '../format.ts';
import { json, type ClientCommand } from './command.ts';

export const audit: ClientCommand = {
  usage: 'audit [--since 24h|ISO-TIME] [--limit N] [--proxy ID] [--action ACTION] [--json]',
  args: { min: 0, max: 0 },
  options: ['since', 'limit', 'proxy', 'action'],
  query: auditQuery,
  async run({ client, options, json: asJson, out }) {
    const query = new URLSearchParams();
    for (const key of ['since', 'limit', 'proxy', 'action'] as const) if (options[key] !== undefined) query.set(key, options[key]);
    const reply = await client.get<AuditReply>(`/audit${query.size ? `?${query}` : ''}`);
    if (asJson) return out(json(reply));
    if (reply.records.length === 0) return out('no audit records\n');
    const rows = reply.records.map((r) => [r.time, r.user, r.action, r.proxy_id ?? '-', r.reason ?? '']);
    out(table(['TIME', 'USER', 'ACTION', 'PROXY', 'REASON'], rows));
  },
};
