// `proxy-monitor why ID`: the last restart decision, which guard decided it, with its inputs.
import type { WhyReply } from '../../api/schemas.ts';
import { duration, fields, memory, milliseconds, relative } from '../format.ts';
import { json, proxyPath, type ClientCommand } from './command.ts';

export const why: ClientCommand = {
  usage: 'why ID [--json]',
  args: { min: 1, max: 1 },
  async run({ client, args: [id], json: asJson, out }) {
    const w = await client.get<WhyReply>(`${proxyPath(id)}/why`);
    if (asJson) return out(json(w));
    out(
      `${w.proxy_id}: ${w.sub_state}\n${w.message}\n` +
        (w.last_exit ? `last exit: ${w.last_exit}\n` : '') +
        (w.last_restart_failure ? `last restart failed: ${w.last_restart_failure}\n` : '') +
        // What the server said of its own failure ("bind: Address already in use"), when it said
        // anything; not once it runs again (its lines are then the new process's).
        (w.last_output?.length && w.state !== 'running' && (w.last_exit || w.last_restart_failure)
          ? `last output:\n${w.last_output.map((l) => `  ${relative(l.time, w.remaining.now)} ${l.stream}: ${l.line}\n`).join('')}`
          : ''),
    );
    const d = w.decision;
    if (!d) return w.memory ? out(fields([['memory', memory(w.memory, w.state === 'running')]])) : undefined;
    const r = w.remaining;
    out(
      fields([
        ['verdict', d.verdict],
        ['guard', d.guard ?? 'none'],
        ['decided', relative(d.decided_at, r.now)],
        ['restarts in window', `${d.inputs.restarts_in_window}/${d.inputs.max_restarts} in ${duration(d.inputs.window_s)}`],
        ['cooldown', `${duration(d.inputs.cooldown_s)}, ${milliseconds(r.cooldown_ms)} remaining`],
        [
          'backoff',
          `${milliseconds(d.inputs.backoff_ms)} after ${d.inputs.consecutive_failures} restart(s) that failed or did not stay up stable_uptime, ${milliseconds(r.backoff_ms)} remaining`,
        ],
        ['next attempt', r.next_attempt_in_ms === null ? 'none scheduled' : `in ${milliseconds(r.next_attempt_in_ms)}`],
        ['memory', memory(w.memory, w.state === 'running')],
      ]),
    );
  },
};
