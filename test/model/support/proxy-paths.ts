// Chooses, from the model's graph, a few short paths that together take every transition: for each
// transition not yet taken, the shortest path to a state from which one event takes it.
import type { ProxyMemory } from '../../../machines/proxy/context.ts';
import type { ProxyEvent } from '../../../machines/proxy/events.ts';
import { proxyTestModel, serializeState, statePath, type Environment } from './proxy-model.ts';
import { shortestPaths } from './graph-paths.ts';
import { replay, transitionsFrom, type Expected } from './proxy-replay.ts';

export interface ModelPath {
  boot: string;
  memory: Partial<ProxyMemory>;
  events: ProxyEvent[];
  expected: Expected[];
}

/** A cheap filter before running the machine: an eventless transition may follow any event; another needs its event and its source state active. */
function mayTake(snapshot: { value: unknown }, event: ProxyEvent, key: string): boolean {
  const [source, rest] = key.split(' ');
  const type = rest.split('#')[0];
  const path = source.split('.').slice(1).join('.');
  const where = statePath(snapshot.value);
  if (type === 'always') return true;
  return type === event.type && (path === '' || where === path || where.startsWith(`${path}.`));
}

/** Paths (shortest first) covering every transition in `wanted` that this boot can reach; covered keys are added to `covered`. */
export function coveringPaths(
  boot: string,
  memory: Partial<ProxyMemory>,
  wanted: string[],
  covered: Set<string>,
  events?: Environment,
): ModelPath[] {
  const chosen: ModelPath[] = [];
  for (const path of shortestPaths(proxyTestModel(memory, events).getAdjacencyMap(), serializeState)) {
    if (wanted.every((key) => covered.has(key))) break;
    const open = wanted.filter((key) => !covered.has(key));
    for (const { event } of path.edges) {
      if (!open.some((key) => mayTake(path.state, event, key))) continue;
      if (transitionsFrom(memory, path.state, event).every((key) => covered.has(key))) continue;
      const events = [...path.events, event];
      const expected = replay(memory, events);
      for (const step of expected) for (const key of step.transitions) covered.add(key);
      chosen.push({ boot, memory, events, expected });
    }
  }
  return chosen;
}

/** Every state the model can reach from this boot (for invariants that must hold in all of them). */
export function reachableStates(memory: Partial<ProxyMemory>) {
  return Object.values(proxyTestModel(memory).getAdjacencyMap()).map((v) => v.state);
}

/** The shortest path to every state of the model's graph. */
export function statePaths(boot: string, memory: Partial<ProxyMemory>, events?: Environment): ModelPath[] {
  return shortestPaths(proxyTestModel(memory, events).getAdjacencyMap(), serializeState)
    .filter((p) => p.events.length > 0)
    .map((p) => ({ boot, memory, events: p.events, expected: replay(memory, p.events) }));
}

/** Every edge of the model's graph: a state, an event the environment offers there, the state it leads to. */
export function modelEdges(memory: Partial<ProxyMemory>) {
  return shortestPaths(proxyTestModel(memory).getAdjacencyMap(), serializeState).flatMap((p) =>
    p.edges.map((e) => ({ from: p.state, ...e })),
  );
}
