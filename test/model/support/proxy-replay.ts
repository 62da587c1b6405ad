// Runs model events through the proxy machine itself, with its effects recorded instead of done:
// what each step should do (transitions, effects, reports, resulting state) in the real system.
import { createActor, type AnyTransitionDefinition, type InspectionEvent, type SnapshotFrom } from 'xstate';
import type { ProxyMemory } from '../../../machines/proxy/context.ts';
import type { ProxyEmitted, ProxyEvent } from '../../../machines/proxy/events.ts';
import { modelInput, modelMachine, statePath } from './proxy-model.ts';
import { transitionKey } from './transitions.ts';

export interface Expected {
  event: ProxyEvent;
  transitions: string[];
  effects: string[];
  reports: ProxyEmitted[];
  snapshot: SnapshotFrom<typeof modelMachine>;
}

/**
 * What the machine receives for one model event. Booting the (paused) monitor first tells each proxy
 * it is unsupervised; SUPERVISE(true) is starting the monitor, which is booted first if it was not.
 */
export function delivered(event: ProxyEvent, booted: boolean): ProxyEvent[] {
  const release: ProxyEvent = { type: 'SUPERVISE', at: event.at, active: false };
  if (event.type === 'BOOT') return [release, event];
  if (event.type === 'SUPERVISE' && event.active && !booted) return [release, event];
  return [event];
}

function recordingActor(memory: Partial<ProxyMemory>, snapshot?: SnapshotFrom<typeof modelMachine>) {
  const effects: string[] = [];
  const transitions: string[] = [];
  const reports: ProxyEmitted[] = [];
  const record = (name: string) => () => void effects.push(name);
  const machine = modelMachine.provide({
    actions: {
      spawnProcess: record('spawn'),
      adoptProcess: record('adopt'),
      stopProcess: record('kill'),
      verifyReadiness: record('ready?'),
      cancelReadiness: record('ready cancelled'),
    },
  });
  const inspect = (e: InspectionEvent) => {
    if (e.type === '@xstate.microstep') {
      for (const t of (e as unknown as { _transitions: AnyTransitionDefinition[] })._transitions) transitions.push(transitionKey(t));
    }
  };
  const actor = createActor(machine, { input: modelInput(memory), snapshot, inspect });
  actor.on('*', (r) => void reports.push(r as ProxyEmitted));
  actor.start();
  // Whether the monitor has booted: the proxy cannot tell (it may leave `unknown` by a command first).
  let booted = snapshot !== undefined && statePath(snapshot.value) !== 'unknown';
  return {
    step(event: ProxyEvent): Expected {
      effects.length = transitions.length = reports.length = 0;
      for (const e of delivered(event, booted)) actor.send(e);
      booted ||= event.type === 'BOOT' || event.type === 'SUPERVISE';
      return { event, transitions: [...transitions], effects: [...effects], reports: [...reports], snapshot: actor.getSnapshot() };
    },
  };
}

export function replay(memory: Partial<ProxyMemory>, events: ProxyEvent[]): Expected[] {
  const actor = recordingActor(memory);
  return events.map((event) => actor.step(event));
}

/** The transitions one event takes from a given model state. */
export function transitionsFrom(memory: Partial<ProxyMemory>, snapshot: SnapshotFrom<typeof modelMachine>, event: ProxyEvent): string[] {
  return recordingActor(memory, snapshot).step(event).transitions;
}
