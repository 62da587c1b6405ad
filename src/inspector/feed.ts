// What the inspector page streams, in batches: at most one message every FLUSH_MS whatever the event
// rate, so a storm of restarts costs the page and the daemon a few messages a second. An inspection
// event only marks its proxy as changed (and notes a state change for the log); the cards are read
// from the actors when the batch goes out, and only those that changed are sent. It listens to the
// actor system only while a page is connected: with nobody watching, nothing observes the actors.
import type { AnyActorRef, InspectedMicrostepEvent, InspectedSnapshotEvent, InspectionEvent, Subscription } from 'xstate';
import { statePath, type ProxyView } from '../../machines/monitor/status.ts';
import type { ProxyContext } from '../../machines/proxy/context.ts';
import { attemptsInWindow } from '../../machines/proxy/policy.ts';
import type { ProxyReply, RestartRecordReply } from '../api/schemas.ts';
import { iso, livenessReply, proxyState } from '../api/views.ts';
import type { Clock } from '../clock.ts';
import type { Liveness } from '../metrics/liveness.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';
import type { Recent } from './recent.ts';

/** A batch at most this often. */
export const FLUSH_MS = 250;
/** With nothing changing, the summary (health, last round) still goes out this often. */
export const SUMMARY_MS = 2_000;
/** State changes per batch; more are counted, not sent (the page's log keeps 500 rows anyway). */
export const MAX_TRANSITIONS = 300;

/** One table row: the API's view of the proxy (ISO times), cut to what the page shows. */
export interface ProxyCard {
  id: string;
  type: string;
  /** The full state path, e.g. "crashed.waiting". */
  state: string;
  phase: ProxyReply['state'];
  pid: number | null;
  started_at: string | null;
  /** The proxy's own monitoring flag; `monitoring_active`: and the monitor is watching. */
  enabled: boolean;
  monitoring_active: boolean;
  wanted: ProxyReply['wanted'];
  restarts_in_window: number;
  max_restarts: number;
  cooldown_ends_at: string | null;
  next_attempt_at: string | null;
  last_check: { time: string; ok: boolean; error: string | null } | null;
  /** Consecutive failed checks of the running process. */
  check_failures: number;
  last_crash: { time: string; reason: string; exit_code: number | null; signal: string | null } | null;
  last_restart: Pick<RestartRecordReply, 'time' | 'success' | 'reason' | 'manual' | 'duration_ms'> | null;
  decision: string | null;
}

export interface Summary {
  monitor: string;
  running: boolean;
  total: number;
  enabled: number;
  status_count: Record<string, number>;
  /** Restart attempts in each proxy's sliding hour, summed: what the caps count. */
  restarts_last_hour: number;
  total_checks: number;
  round: { time: string; duration_ms: number; checked: number } | null;
  health: { ok: boolean; state: string; message: string; last_tick: string | null };
}

export interface Transition {
  at: number;
  actor: string;
  event: string;
  from: string;
  to: string;
}

export interface Batch {
  type: 'batch';
  now: number;
  /** The first message of a connection: every card, the page drops what it had. */
  reset?: true;
  summary?: Summary;
  cards: ProxyCard[];
  removed: string[];
  transitions: Transition[];
  /** State changes left out of this batch (over MAX_TRANSITIONS). */
  dropped: number;
}

export interface FeedSources {
  supervisor: Supervisor;
  clock: Clock;
  liveness: Pick<Liveness, 'report'>;
  recent: Pick<Recent, 'crash' | 'lastRound'>;
}

type Listener = (batch: Batch) => void;

interface ActorSnapshot {
  status: string;
  value?: unknown;
  context?: ProxyContext;
}

function cardOf(view: ProxyView, type: string, recent: FeedSources['recent'], now: number): ProxyCard {
  const reply = proxyState(view, now);
  const crash = recent.crash(view.id);
  const { last_check: check, last_restart: restart } = reply;
  return {
    id: reply.id,
    type,
    state: reply.sub_state,
    phase: reply.state,
    pid: reply.pid,
    started_at: reply.uptime_s === null ? null : iso(now - reply.uptime_s * 1000),
    enabled: reply.enabled,
    monitoring_active: reply.monitoring_active,
    wanted: reply.wanted,
    restarts_in_window: reply.restarts_in_window,
    max_restarts: reply.max_restarts,
    cooldown_ends_at: reply.cooldown_ends_at,
    next_attempt_at: reply.next_attempt_at,
    last_check: check && { time: check.time, ok: check.ok, error: check.error },
    check_failures: view.context.checkFailures,
    last_crash: crash ? { time: iso(crash.at), reason: crash.reason, exit_code: crash.exitCode, signal: crash.signal } : null,
    last_restart: restart && {
      time: restart.time,
      success: restart.success,
      reason: restart.reason,
      manual: restart.manual,
      duration_ms: restart.duration_ms,
    },
    decision: view.context.decision?.message ?? null,
  };
}

/** The event a step took; an eventless (`always`) step runs on the event of its macrostep. */
function eventName(event: InspectedSnapshotEvent | InspectedMicrostepEvent): string {
  const eventless = event.type === '@xstate.microstep' && event._transitions.length > 0 && event._transitions.every((t) => !t.eventType);
  return eventless ? `always (${event.event.type})` : event.event.type;
}

export function createFeed({ supervisor, clock, liveness, recent }: FeedSources) {
  const listeners = new Set<Listener>();
  /** Each actor's last state path, to log its changes. */
  const paths = new Map<string, string>();
  /** What the pages were last sent: a card or summary goes out again only when it changed. */
  const sentCards = new Map<string, string>();
  let sentSummary = '';
  const dirty = new Set<string>();
  const removed = new Set<string>();
  let transitions: Transition[] = [];
  let dropped = 0;
  let watching: Subscription | undefined;
  let timer: unknown;
  let timerDue = Infinity;
  let lastFlush = -Infinity;
  let lastSummary = -Infinity;

  const typeOf = (id: string) => supervisor.typeOf(id);

  function summary(views: ProxyView[], now: number): Summary {
    const status = supervisor.status();
    const report = liveness.report();
    const round = recent.lastRound();
    return {
      monitor: supervisor.monitorState(),
      running: status.running,
      total: status.total_proxies,
      enabled: status.enabled_proxies,
      status_count: status.status_count,
      restarts_last_hour: views.reduce((sum, view) => sum + attemptsInWindow(view.context, view.context.policy, now).length, 0),
      total_checks: status.stats.total_checks,
      round: round && { time: iso(round.at), duration_ms: round.durationMs, checked: round.checked },
      health: livenessReply(report),
    };
  }

  /** The next flush: soon after a change, else when the summary is due. */
  function schedule() {
    if (!listeners.size) return;
    const changed = dirty.size || removed.size || transitions.length || dropped;
    const due = changed ? lastFlush + FLUSH_MS : lastSummary + SUMMARY_MS;
    if (timer !== undefined) {
      if (due >= timerDue) return;
      clock.clearTimeout(timer);
    }
    timerDue = due;
    timer = clock.setTimeout(flush, Math.max(0, due - clock.now()));
  }

  function flush() {
    timer = undefined;
    const now = clock.now();
    lastFlush = now;
    const views = supervisor.proxies();
    const cards: ProxyCard[] = [];
    for (const view of views) {
      if (!dirty.has(view.id)) continue;
      removed.delete(view.id);
      const card = cardOf(view, typeOf(view.id), recent, now);
      const json = JSON.stringify(card);
      if (sentCards.get(view.id) === json) continue;
      sentCards.set(view.id, json);
      cards.push(card);
    }
    for (const id of removed) sentCards.delete(id);
    const batch: Batch = { type: 'batch', now, cards, removed: [...removed], transitions, dropped };
    const next = summary(views, now);
    const json = JSON.stringify(next);
    if (json !== sentSummary || now - lastSummary >= SUMMARY_MS) {
      sentSummary = json;
      lastSummary = now;
      batch.summary = next;
    }
    dirty.clear();
    removed.clear();
    transitions = [];
    dropped = 0;
    if (batch.summary || cards.length || batch.removed.length || batch.transitions.length || batch.dropped) {
      for (const listener of listeners) listener(batch);
    }
    schedule();
  }

  // Microsteps too: a crash passes through crashed.deciding within one macrostep, and the log must
  // show that pass, not only where the actor came to rest.
  function onInspection(event: InspectionEvent) {
    if (event.type !== '@xstate.snapshot' && event.type !== '@xstate.microstep') return;
    const actor = event.actorRef as AnyActorRef;
    const snapshot = event.snapshot as ActorSnapshot;
    const isMonitor = supervisor.isMonitor(actor);
    if ((!isMonitor && actor.src !== 'proxy') || snapshot.value === undefined) return;
    const name = isMonitor ? 'monitor' : snapshot.context!.id;
    if (!isMonitor && snapshot.status !== 'active') {
      paths.delete(name);
      dirty.delete(name);
      removed.add(name);
    } else {
      const path = statePath(snapshot.value);
      const from = paths.get(name);
      if (from !== path) {
        paths.set(name, path);
        if (from !== undefined) {
          if (transitions.length < MAX_TRANSITIONS)
            transitions.push({ at: clock.now(), actor: name, event: eventName(event), from, to: path });
          else dropped += 1;
        }
      }
      if (!isMonitor) dirty.add(name);
    }
    schedule();
  }

  /** Everything as it is now, for a page that just connected. */
  function current(): Batch {
    const now = clock.now();
    const views = supervisor.proxies();
    const cards = views.map((view) => cardOf(view, typeOf(view.id), recent, now));
    return { type: 'batch', now, reset: true, summary: summary(views, now), cards, removed: [], transitions: [], dropped: 0 };
  }

  return {
    current,
    subscribe(listener: Listener): () => void {
      listeners.add(listener);
      if (!watching) {
        paths.set('monitor', supervisor.monitorState());
        for (const view of supervisor.proxies()) paths.set(view.id, statePath(view.state));
        watching = supervisor.inspect(onInspection);
        lastSummary = clock.now();
        schedule();
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size || !watching) return;
        watching.unsubscribe();
        watching = undefined;
        clock.clearTimeout(timer);
        timer = undefined;
        for (const state of [paths, sentCards, dirty, removed]) state.clear();
        transitions = [];
        dropped = 0;
        sentSummary = '';
      };
    },
  };
}

export type Feed = ReturnType<typeof createFeed>;
