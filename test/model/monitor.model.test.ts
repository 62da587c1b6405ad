// Model-based test of the monitor machine: paths from its own graph that together take every
// transition it defines, each run against the real supervisor and its real proxy children.
import { describe, expect, it } from 'vitest';
import { monitorMachine } from '../../machines/monitor.machine.ts';
import { describeMonitorEvent, runMonitorPath } from './support/monitor-executor.ts';
import { monitorCoveringPaths, monitorStatePaths } from './support/monitor-paths.ts';
import { allTransitionKeys, reportCoverage } from './support/transitions.ts';

const all = allTransitionKeys(monitorMachine);
const predicted = new Set<string>();
const paths = monitorCoveringPaths(all, predicted);
const taken = new Set<string>();

describe('monitor machine, model-based', () => {
  it('the model paths take every transition the machine defines', () => {
    expect(all.filter((key) => !predicted.has(key))).toEqual([]);
  });

  it.each(paths.map((p) => [p.events.map(describeMonitorEvent).join(' '), p] as const))('%s', async (_name, path) => {
    for (const key of await runMonitorPath(path.expected)) taken.add(key);
  });

  it('the shortest path to every model state', async () => {
    for (const path of monitorStatePaths()) {
      try {
        for (const key of await runMonitorPath(path.expected)) taken.add(key);
      } catch (error) {
        throw new Error(`${path.events.map(describeMonitorEvent).join(' ')}: ${(error as Error).message}`);
      }
    }
  });

  it('the real actors took every transition', () => {
    expect(reportCoverage('monitor machine', monitorMachine, taken)).toEqual([]);
  });
});
