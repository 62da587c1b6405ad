// Aggregate status, computed on demand from the children's snapshots. Copying every child's state
// into the parent on each change would cost a pass over all proxies per event (quadratic in a crash
// storm); reading is linear, and only when asked.
import type { AnyActorRef, SnapshotFrom } from 'xstate';
import type { ProxyEvent } from '../proxy/events.ts';
import { emptyStats, monitoringActive, proxyEnabled, type ProxyContext, type ProxyPhase } from '../proxy/context.ts';
import type { MonitorContext } from './context.ts';
import { addStats } from './context.ts';

export interface ProxyView {
  id: string;
  /** Sends the proxy's actor an event (the actor itself stays inside the supervisor). */
  send(event: ProxyEvent): void;
  phase: ProxyPhase;
  /** The full state value, sub-states included (e.g. { crashed: 'waiting' }). */
  state: unknown;
  context: ProxyContext;
}

export interface MonitorStatus {
  running: boolean;
  total_proxies: number;
  enabled_proxies: number;
  status_count: Record<Exclude<ProxyPhase, never>, number>;
  stats: {
    total_checks: number;
    total_restarts: number;
    success_restarts: number;
    failed_restarts: number;
    last_check_time: string | null;
  };
}

interface MonitorLikeSnapshot {
  context: MonitorContext;
  children: Record<string, AnyActorRef | undefined>;
  matches(state: 'watching'): boolean;
}

/** A state value as a dotted path: `{ crashed: 'waiting' }` -> "crashed.waiting". */
export function statePath(value: unknown): string {
  if (typeof value === 'string') return value;
  const [key, inner] = Object.entries(value as Record<string, unknown>)[0];
  return `${key}.${statePath(inner)}`;
}

export function proxyViews(snapshot: MonitorLikeSnapshot): ProxyView[] {
  const views: ProxyView[] = [];
  for (const child of Object.values(snapshot.children)) {
    if (!child) continue;
    const s = child.getSnapshot() as SnapshotFrom<typeof import('../proxy.machine.ts').proxyMachine>;
    if (s.status !== 'active') continue;
    views.push({ id: s.context.id, send: (event) => child.send(event), phase: s.context.phase, state: s.value, context: s.context });
  }
  return views;
}

/** Running proxies whose monitoring is on: the ones a check tick probes. */
export function proxiesDueForCheck(snapshot: MonitorLikeSnapshot): ProxyView[] {
  return proxyViews(snapshot).filter(
    (view) => monitoringActive(view.context) && typeof view.state === 'object' && (view.state as { running?: string }).running === 'up',
  );
}

/** `views`: the proxies to count, the snapshot's own unless given (the supervisor adds those yet to start). */
export function summarize(snapshot: MonitorLikeSnapshot, views: ProxyView[] = proxyViews(snapshot)): MonitorStatus {
  const status_count = { unknown: 0, running: 0, stopped: 0, crashed: 0, restarting: 0 };
  let stats = Object.values(snapshot.context.retiredStats).reduce(addStats, emptyStats);
  let enabled = 0;
  for (const view of views) {
    status_count[view.phase] += 1;
    stats = addStats(stats, view.context.stats);
    if (proxyEnabled(view.context)) enabled += 1;
  }
  const { lastCheckAt } = snapshot.context;
  return {
    running: snapshot.matches('watching'),
    total_proxies: views.length,
    enabled_proxies: enabled,
    status_count,
    stats: {
      // As the design document counts them: one per proxy checked. The proxies' counters are stored,
      // so the total carries over a daemon restart like the restart counts do.
      total_checks: stats.checks,
      total_restarts: stats.restarts,
      success_restarts: stats.successes,
      failed_restarts: stats.failures,
      last_check_time: lastCheckAt === null ? null : new Date(lastCheckAt).toISOString(),
    },
  };
}
