// Model-based test of the proxy machine: paths from its own graph that together take every
// transition it defines, each run against the real supervisor on the scripted world.
import { describe, expect, it } from 'vitest';
import { proxyMachine } from '../../machines/proxy.machine.ts';
import { boots } from './support/proxy-model.ts';
import { describeEvent, runProxyPath } from './support/proxy-executor.ts';
import { coveringPaths, statePaths, type ModelPath } from './support/proxy-paths.ts';
import { allTransitionKeys, reportCoverage } from './support/transitions.ts';

const all = allTransitionKeys(proxyMachine);
const predicted = new Set<string>();
const paths: ModelPath[] = Object.entries(boots).flatMap(([boot, memory]) => coveringPaths(boot, memory, all, predicted));
const taken = new Set<string>();

describe('proxy machine, model-based', () => {
  it('the model paths take every transition the machine defines', () => {
    expect(all.filter((key) => !predicted.has(key))).toEqual([]);
  });

  it.each(paths.map((p) => [`${p.boot}: ${p.events.map(describeEvent).join(' ')}`, p] as const))('%s', async (_name, path) => {
    for (const key of await runProxyPath(path.memory, path.expected)) taken.add(key);
  });

  // Beyond the transitions: every state the model reaches, by its shortest path, on the real actors.
  // (The other boots differ from this one only in their first transition.)
  it('the shortest path to every model state (fresh boot)', async () => {
    for (const path of statePaths('fresh', boots.fresh)) {
      try {
        for (const key of await runProxyPath(path.memory, path.expected)) taken.add(key);
      } catch (error) {
        throw new Error(`${path.events.map(describeEvent).join(' ')}: ${(error as Error).message}`);
      }
    }
  }, 120_000);

  it('the real actors took every transition', () => {
    expect(reportCoverage('proxy machine', proxyMachine, taken)).toEqual([]);
  });
});
