// A proxy's states over a span of time, rebuilt from what the store keeps: its restarts (each one
// `restarting` from its start to its end, then `running` or, when it failed, `crashed`) and the
// operator's stops and starts from the audit log, ending in the state the proxy is in now. The store
// does not keep when a past crash happened, only when its restart began, so the time a proxy waited
// in `crashed` before an earlier restart is drawn as part of the state before it; the current wait
// (a proxy in `crashed` now) is drawn from its crash.
import type { ProxyPhase } from '../../machines/proxy/context.ts';

/** `none`: nothing is known (before the daemon first ran the proxy within the span). */
export type TimelineState = ProxyPhase | 'none';

export interface Segment {
  state: TimelineState;
  from: number;
  to: number;
}

export type TimelineEvent =
  | { kind: 'restart'; at: number; end: number; success: boolean; manual: boolean }
  | { kind: 'stop' | 'start'; at: number };

export interface CurrentState {
  phase: ProxyPhase;
  /** When it entered that phase, where known. */
  since: number | null;
}

/** What the proxy was doing before its first recorded event. */
function stateBefore(first: TimelineEvent | undefined, current: CurrentState, from: number): TimelineState {
  if (first) return first.kind === 'start' ? 'stopped' : 'running';
  if (current.since === null || current.since <= from) return current.phase;
  // Crashed or restarting with no restart recorded yet: it was running until then.
  return current.phase === 'crashed' || current.phase === 'restarting' ? 'running' : 'none';
}

export interface Span {
  from: number;
  to: number;
  /** When this daemon started: before it, and before any record, nothing is known. */
  bootedAt: number;
}

/** `events` in any order; the segments cover [from, to], in order, neighbours in different states. */
export function timelineOf(events: TimelineEvent[], current: CurrentState, { from, to, bootedAt }: Span): Segment[] {
  const sorted = [...events].sort((a, b) => a.at - b.at);
  const segments: Segment[] = [];
  const before = stateBefore(sorted[0], current, from);
  // Before this daemon started, only records tell: nothing is known until the first of them (the
  // proxy may not have existed yet), or until the boot when there is none before it.
  const knownFrom = bootedAt > from ? Math.min(bootedAt, sorted[0]?.at ?? bootedAt) : from;
  let state: TimelineState = knownFrom > from ? 'none' : before;
  let at = from;
  const enter = (next: TimelineState, when: number) => {
    const until = Math.min(Math.max(when, at), to);
    if (until > at) {
      const last = segments.at(-1);
      if (last?.state === state) last.to = until;
      else segments.push({ state, from: at, to: until });
      at = until;
    }
    state = next;
  };
  if (knownFrom > from) enter(before, knownFrom);
  for (const event of sorted) {
    if (event.kind === 'restart') {
      enter('restarting', event.at);
      enter(event.success ? 'running' : 'crashed', event.end);
    } else {
      enter(event.kind === 'stop' ? 'stopped' : 'running', event.at);
    }
  }
  if (state !== current.phase) enter(current.phase, current.since ?? at);
  enter(state, to);
  return segments;
}
