// Chooses, from the monitor model's graph, short paths that together take every transition.
import type { MonitorEvent } from '../../../machines/monitor/events.ts';
import { shortestPaths } from './graph-paths.ts';
import { monitorTestModel, serializeState } from './monitor-model.ts';
import { replayMonitor, type MonitorExpected } from './monitor-replay.ts';

export interface MonitorPath {
  events: MonitorEvent[];
  expected: MonitorExpected[];
}

export function monitorCoveringPaths(wanted: string[], covered: Set<string>): MonitorPath[] {
  const chosen: MonitorPath[] = [];
  for (const path of shortestPaths(monitorTestModel().getAdjacencyMap(), serializeState)) {
    for (const { event } of path.edges) {
      if (wanted.every((key) => covered.has(key))) return chosen;
      const events = [...path.events, event];
      const expected = replayMonitor(events);
      if (expected.at(-1)!.transitions.every((key) => covered.has(key))) continue;
      for (const step of expected) for (const key of step.transitions) covered.add(key);
      chosen.push({ events, expected });
    }
  }
  return chosen;
}

/** The shortest path to every state of the monitor model's graph. */
export function monitorStatePaths(): MonitorPath[] {
  return shortestPaths(monitorTestModel().getAdjacencyMap(), serializeState)
    .filter((p) => p.events.length > 0)
    .map((p) => ({ events: p.events, expected: replayMonitor(p.events) }));
}
