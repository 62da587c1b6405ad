// A sample of the model paths, run against real processes (the demo echo server, the real driver
// and probes), so that the model and the real driver cannot drift apart.
import { describe, expect, it } from 'vitest';
import { proxyMachine } from '../../machines/proxy.machine.ts';
import { boots } from './support/proxy-model.ts';
import { describeEvent } from './support/proxy-executor.ts';
import { coveringPaths } from './support/proxy-paths.ts';
import { realEnvironment, sample } from './support/real-sample.ts';
import { runOnRealProcesses } from './support/real-run.ts';
import { allTransitionKeys } from './support/transitions.ts';

// Paths of the graph as far as real processes can be steered, taking every transition they can reach.
const reachable = coveringPaths('fresh', boots.fresh, allTransitionKeys(proxyMachine), new Set(), realEnvironment);
const paths = sample(reachable, 8);

describe('model paths on real processes', () => {
  it('there is a sample to run', () => expect(paths.length).toBeGreaterThan(2));

  it.each(paths.map((p) => [p.events.map(describeEvent).join(' '), p] as const))(
    '%s',
    async (_name, path) => {
      await runOnRealProcesses(path);
    },
    60_000,
  );
});
