// What the inspector page streams: a card per proxy whenever what it shows changes, and a log line
// per state change of any actor. It listens to the actor system's inspection events only while a
// page is connected: with nobody watching, the supervisor runs without this observer at all.
import type { AnyActorRef, InspectedMicrostepEvent, InspectedSnapshotEvent, InspectionEvent, Subscription } from 'xstate';
import { statePath, type ProxyView } from '../../machines/monitor/status.ts';
import type { ProxyContext } from '../../machines/proxy/context.ts';
import { proxyReply } from '../api/views.ts';
import type { Clock } from '../clock.ts';
import type { Supervisor } from '../supervisor/supervisor.ts';

/** Only these fields leave the daemon: the proxy context holds no secret, but the page needs no more. */
export interface ProxyCard {
  id: string;
  state: string;
  phase: string;
  pid: number | null;
  started_at: number | null;
  enabled: boolean;
  restarts_in_window: number;
  max_restarts: number;
  cooldown_ends_at: string | null;
  next_attempt_at: string | null;
  decision: string | null;
}

export type FeedMessage =
  | { type: 'clock'; now: number }
  | { type: 'monitor'; state: string }
  | { type: 'proxy'; card: ProxyCard }
  | { type: 'removed'; id: string }
  | { type: 'transition'; at: number; actor: string; event: string; from: string; to: string };

type Listener = (message: FeedMessage) => void;

interface ActorSnapshot {
  status: string;
  value?: unknown;
  context?: ProxyContext;
}

function cardOf(view: ProxyView, now: number): ProxyCard {
  const reply = proxyReply(view, now);
  return {
    id: view.id,
    state: reply.sub_state,
    phase: view.phase,
    pid: reply.pid,
    started_at: view.phase === 'running' ? view.context.startedAt : null,
    enabled: reply.enabled,
    restarts_in_window: reply.restarts_in_window,
    max_restarts: reply.max_restarts,
    cooldown_ends_at: reply.cooldown_ends_at,
    next_attempt_at: reply.next_attempt_at,
    decision: view.context.decision?.message ?? null,
  };
}

/** The event a step took; an eventless (`always`) step runs on the event of its macrostep. */
function eventName(event: InspectedSnapshotEvent | InspectedMicrostepEvent): string {
  const eventless = event.type === '@xstate.microstep' && event._transitions.length > 0 && event._transitions.every((t) => !t.eventType);
  return eventless ? `always (${event.event.type})` : event.event.type;
}

export function createFeed(supervisor: Supervisor, clock: Pick<Clock, 'now'>) {
  const listeners = new Set<Listener>();
  const paths = new Map<string, string>();
  const cards = new Map<string, string>();
  let watching: Subscription | undefined;

  const send = (message: FeedMessage) => {
    for (const listener of listeners) listener(message);
  };
  const monitorState = () => statePath(supervisor.actor.getSnapshot().value);

  // Microsteps too: a crash passes through crashed.deciding within one macrostep, and the page
  // must show that pass, not only where the actor came to rest.
  function onInspection(event: InspectionEvent) {
    if (event.type !== '@xstate.snapshot' && event.type !== '@xstate.microstep') return;
    const actor = event.actorRef as AnyActorRef;
    const snapshot = event.snapshot as ActorSnapshot;
    const isMonitor = actor === supervisor.actor;
    const isProxy = actor.src === 'proxy';
    if ((!isMonitor && !isProxy) || snapshot.value === undefined) return;
    const name = isMonitor ? 'monitor' : snapshot.context!.id;
    if (isProxy && snapshot.status !== 'active') {
      paths.delete(name);
      cards.delete(name);
      send({ type: 'removed', id: name });
      return;
    }
    const path = statePath(snapshot.value);
    const from = paths.get(name);
    if (from !== path) {
      paths.set(name, path);
      if (from !== undefined) send({ type: 'transition', at: clock.now(), actor: name, event: eventName(event), from, to: path });
      if (isMonitor) send({ type: 'monitor', state: path });
    }
    if (isProxy) {
      const context = snapshot.context!;
      const card = cardOf({ id: name, ref: actor, phase: context.phase, state: snapshot.value, context }, clock.now());
      const json = JSON.stringify(card);
      if (cards.get(name) === json) return;
      cards.set(name, json);
      send({ type: 'proxy', card });
    }
  }

  return {
    /** The daemon's time and the current state of everything, for a page that just connected. */
    current(): FeedMessage[] {
      const now = clock.now();
      const cards = supervisor.proxies().map((view) => ({ type: 'proxy' as const, card: cardOf(view, now) }));
      return [{ type: 'clock', now }, { type: 'monitor', state: monitorState() }, ...cards];
    },
    subscribe(listener: Listener): () => void {
      listeners.add(listener);
      if (!watching) {
        paths.set('monitor', monitorState());
        for (const view of supervisor.proxies()) paths.set(view.id, statePath(view.state));
        watching = supervisor.actor.system.inspect(onInspection);
      }
      return () => {
        listeners.delete(listener);
        if (listeners.size || !watching) return;
        watching.unsubscribe();
        watching = undefined;
        paths.clear();
        cards.clear();
      };
    },
  };
}

export type Feed = ReturnType<typeof createFeed>;
