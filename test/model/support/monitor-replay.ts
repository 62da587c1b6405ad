// Runs model events through the monitor model machine with its effects recorded: what each step
// should do in the real system.
import { createActor, type AnyTransitionDefinition, type InspectionEvent, type SnapshotFrom } from 'xstate';
import type { MonitorEvent } from '../../../machines/monitor/events.ts';
import { monitorInput, monitorModelMachine } from './monitor-model.ts';
import { transitionKey } from './transitions.ts';

export interface MonitorExpected {
  event: MonitorEvent;
  /** What the machine receives: a child retires only after its removal, so PROXY_RETIRED may bring REMOVE_PROXY first. */
  delivered: MonitorEvent[];
  transitions: string[];
  effects: string[];
  snapshot: SnapshotFrom<typeof monitorModelMachine>;
}

export function replayMonitor(events: MonitorEvent[]): MonitorExpected[] {
  const effects: string[] = [];
  const transitions: string[] = [];
  const record = (name: string) => () => void effects.push(name);
  const machine = monitorModelMachine.provide({
    actions: { armTick: record('armTick'), cancelTick: record('cancelTick'), checkProxies: record('checkProxies') },
  });
  const inspect = (e: InspectionEvent) => {
    if (e.type !== '@xstate.microstep' || e.actorRef !== actor) return;
    for (const t of (e as unknown as { _transitions: AnyTransitionDefinition[] })._transitions) transitions.push(transitionKey(t));
  };
  const actor = createActor(machine, { input: monitorInput, inspect });
  actor.start();
  const removed = new Set<string>();
  return events.map((event) => {
    effects.length = transitions.length = 0;
    const delivered: MonitorEvent[] =
      event.type === 'PROXY_RETIRED' && !removed.has(event.id) ? [{ type: 'REMOVE_PROXY', at: event.at, id: event.id }, event] : [event];
    for (const e of delivered) {
      if (e.type === 'REMOVE_PROXY') removed.add(e.id);
      if (e.type === 'PROXY_RETIRED') removed.delete(e.id);
      actor.send(e);
    }
    return { event, delivered, transitions: [...transitions], effects: [...effects], snapshot: actor.getSnapshot() };
  });
}
