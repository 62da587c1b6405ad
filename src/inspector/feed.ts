// What the inspector page streams, in batches: at most one message every FLUSH_MS whatever the event
// rate, so a storm of restarts costs the page and the daemon a few messages a second. An inspection
// event only marks its proxy as changed (and notes a state change for the log); the cards are read
// from the actors when the batch goes out, and only those that changed are sent. It listens to the
// actor system only while a page is connected: with nobody watching, nothing observes the actors.
import type { AnyActorRef, InspectedMicrostepEvent, InspectedSnapshotEvent, InspectionEvent, Subscription } from 'xstate';
import { statePath, type ProxyView } from '../../machines/monitor/status.ts';
import { monitoringEnabled, monitoringWanted, type ProxyContext } from '../../machines/proxy/context.ts';
import { attemptsInWindow, cooldownEndsAt } from '../../machines/proxy/policy.ts';
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

/** One table row. Times are epoch ms of the daemon's clock. Only these fields leave the daemon. */
export interface ProxyCard {
  id: string;
  type: string;
  /** The full state path, e.g. "crashed.waiting". */
  state: string;
  phase: string;
  pid: number | null;
  started_at: number | null;
  /** The proxy's own monitoring flag; `monitoring_active`: and the monitor is watching. */
  enabled: boolean;
  monitoring_active: boolean;
  wanted: 'up' | 'down';
  restarts_in_window: number;
  max_restarts: number;
  cooldown_ends_at: number | null;
  next_attempt_at: number | null;
  last_check: { at: number; ok: boolean; error: string | null } | null;
  /** Consecutive failed checks of the running process. */
  check_failures: number;
  last_crash: { at: number; reason: string; exit_code: number | null; signal: string | null } | null;
  last_restart: { at: number; success: boolean; reason: string; manual: boolean; duration_ms: number } | null;
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
  round: { at: number; duration_ms: number; checked: number } | null;
  health: { ok: boolean; state: string; message: string; last_tick: number | null };
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
  const c = view.context;
  const path = statePath(view.state);
  const cooldownEnd = cooldownEndsAt(c, c.policy);
  const crash = recent.crash(view.id);
  return {
    id: view.id,
    type,
    state: path,
    phase: view.phase,
    pid: c.pid,
    started_at: view.phase === 'running' ? c.startedAt : null,
    enabled: monitoringWanted(c),
    monitoring_active: monitoringEnabled(c),
    wanted: c.wanted,
    restarts_in_window: attemptsInWindow(c, c.policy, now).length,
    max_restarts: c.policy.maxRestarts,
    cooldown_ends_at: cooldownEnd > now ? cooldownEnd : null,
    next_attempt_at: path === 'crashed.waiting' ? (c.decision?.nextAttemptAt ?? null) : null,
    last_check: c.lastCheck && { at: c.lastCheck.at, ok: c.lastCheck.ok, error: c.lastCheck.error ?? null },
    check_failures: c.checkFailures,
    last_crash: crash ? { at: crash.at, reason: crash.reason, exit_code: crash.exitCode, signal: crash.signal } : null,
    last_restart: c.lastRestart && {
      at: c.lastRestart.at,
      success: c.lastRestart.success,
      reason: c.lastRestart.reason,
      manual: c.lastRestart.manual,
      duration_ms: c.lastRestart.durationMs,
    },
    decision: c.decision?.message ?? null,
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
  /** What each listener was last sent: a card or summary goes out again only when it changed. */
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

  const monitorState = () => statePath(supervisor.actor.getSnapshot().value);
  const typeOf = (id: string) => supervisor.typeOf(id) ?? 'unknown';

  function summary(views: ProxyView[], now: number): Summary {
    const status = supervisor.status();
    const report = liveness.report();
    const round = recent.lastRound();
    return {
      monitor: monitorState(),
      running: status.running,
      total: status.total_proxies,
      enabled: status.enabled_proxies,
      status_count: status.status_count,
      restarts_last_hour: views.reduce((sum, view) => sum + attemptsInWindow(view.context, view.context.policy, now).length, 0),
      total_checks: status.stats.total_checks,
      round: round && { at: round.at, duration_ms: round.durationMs, checked: round.checked },
      health: { ok: report.ok, state: report.state, message: report.message, last_tick: report.lastTickAt },
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
    const isMonitor = actor === supervisor.actor;
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
          if (transitions.length < MAX_TRANSITIONS) transitions.push({ at: clock.now(), actor: name, event: eventName(event), from, to: path });
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
        paths.set('monitor', monitorState());
        for (const view of supervisor.proxies()) paths.set(view.id, statePath(view.state));
        watching = supervisor.actor.system.inspect(onInspection);
        // A new page got every card from current(): send the next ones as changes to that.
        for (const card of current().cards) sentCards.set(card.id, JSON.stringify(card));
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
