// The invariants every step of a random timeline must keep. Restart attempts are judged from the
// `restart_finished` reports (the whole history), not from the context, which forgets old attempts.
import { monitoringActive } from '../../../machines/proxy/context.ts';
import type { ProxyEmitted } from '../../../machines/proxy/events.ts';
import { HOUR_MS } from '../../../machines/proxy/policy.ts';
import type { startHarness } from '../../support/harness.ts';
import { pendingTimers } from './clock.ts';
import { mayRestartAutomatically, type Reference } from './reference.ts';
import { IDS, type Id } from './timeline.ts';

type Harness = Awaited<ReturnType<typeof startHarness>>;

/** One automatic attempt, with the limits in force when it was made. */
export interface Attempt {
  id: string;
  at: number;
  maxRestarts: number;
  cooldownMs: number;
}

export function checkStep(h: Harness, ref: Reference, fresh: ProxyEmitted[], attempts: Attempt[]): string[] {
  const problems: string[] = [];
  const now = h.world.clock.now();
  const iso = (ms: number) => new Date(ms).toISOString();
  if (h.errors.length) problems.push(`actor errors: ${h.errors.map(String).join('; ')}`);

  for (const r of fresh) {
    if (r.type !== 'restart_finished' || r.record.manual) continue;
    const id = r.proxyId as Id;
    if (!mayRestartAutomatically(ref, id))
      problems.push(`${id} restarted automatically while stopped or disabled (attempt at ${iso(r.record.at)})`);
    const attempt = { id, at: r.record.at, maxRestarts: ref.settings.max_restarts, cooldownMs: ref.settings.restart_cooldown * 1000 };
    const previous = attempts.filter((a) => a.id === id);
    const inWindow = previous.filter((a) => a.at > attempt.at - HOUR_MS).length + 1;
    if (inWindow > attempt.maxRestarts)
      problems.push(`${id}: ${inWindow} automatic attempts in the hour up to ${iso(attempt.at)} (max ${attempt.maxRestarts})`);
    const last = previous.at(-1);
    if (last && attempt.at - last.at < attempt.cooldownMs) {
      problems.push(
        `${id}: automatic attempts ${(attempt.at - last.at) / 1000}s apart at ${iso(attempt.at)} (cooldown ${attempt.cooldownMs / 1000}s)`,
      );
    }
    attempts.push(attempt);
  }

  for (const id of IDS) {
    const view = h.proxy(id);
    const c = view.context;
    const state = h.state(id);
    const allowed = mayRestartAutomatically(ref, id);
    if (allowed !== (c.wanted === 'up' && monitoringActive(c)))
      problems.push(`${id}: context disagrees with what was asked (allowed=${allowed})`);
    if (view.phase !== 'crashed') continue;
    if (state === 'crashed.reaping') {
      if (!h.world.running.has(id)) problems.push(`${id}: reaping a process that is gone`);
    } else if (allowed) {
      const d = c.decision;
      const scheduled = state === 'crashed.waiting' && d?.verdict === 'withheld' && d.nextAttemptAt !== null && d.nextAttemptAt > now;
      if (!scheduled || !pendingTimers(h.world.clock).includes(d!.nextAttemptAt!))
        problems.push(`${id}: crashed (${state}) with no next attempt scheduled`);
      else if (!d!.message.includes(iso(d!.nextAttemptAt!))) problems.push(`${id}: the decision does not say when: ${d!.message}`);
    } else if (state !== 'crashed.held' || c.decision?.verdict !== 'held')
      problems.push(`${id}: crashed, not allowed to restart, but ${state}`);
  }

  const status = h.supervisor.status();
  const { total_restarts, success_restarts, failed_restarts } = status.stats;
  if (total_restarts !== success_restarts + failed_restarts)
    problems.push(`total_restarts ${total_restarts} != ${success_restarts} + ${failed_restarts}`);
  const finished = h.reportsOf('restart_finished').length;
  if (total_restarts !== finished) problems.push(`total_restarts ${total_restarts}, but ${finished} restarts reported`);
  const counted = Object.values(status.status_count).reduce((a, b) => a + b, 0);
  if (counted !== status.total_proxies) problems.push(`status_count sums to ${counted}, total_proxies is ${status.total_proxies}`);
  return problems;
}

/**
 * Where a restart begins: an entry into `restarting`, or the stop of a live process that the
 * operator (or a changed config) restarts.
 */
export function restartBegins(r: ProxyEmitted): { at: number; manual: boolean } | undefined {
  if (r.type !== 'state_change') return undefined;
  if (r.to === 'restarting') return { at: r.at, manual: r.reason === 'restart requested by the operator' };
  if (r.from === 'running' && r.to === 'stopped' && r.reason.startsWith('restart')) return { at: r.at, manual: true };
  return undefined;
}

/** A restart record names the attempt that began it: the proxy's last entry into `restarting`. */
export function checkRecords(reports: ProxyEmitted[]): string[] {
  const began = new Map<string, { at: number; manual: boolean }>();
  const problems: string[] = [];
  for (const r of reports) {
    const begins = restartBegins(r);
    if (begins) began.set(r.proxyId, begins);
    if (r.type !== 'restart_finished') continue;
    const b = began.get(r.proxyId);
    if (!b || b.at !== r.record.at || b.manual !== r.record.manual)
      problems.push(`${r.proxyId}: restart record ${JSON.stringify(r.record)} does not match its start ${JSON.stringify(b)}`);
  }
  return problems;
}
