// The seed allows eight edges between the five states; we add one, crashed -> stopped (an operator
// stop of a crashed proxy is a normal stop, not a crash waiting for its restart). Sub-states and
// `always` transitions are how the machine refines a state: they must not add another edge.
import { describe, expect, it } from 'vitest';
import { proxyMachine } from '../../machines/proxy.machine.ts';
import { topLevelEdges } from './support/transitions.ts';

const SEED_EDGES = [
  'unknown->running',
  'unknown->stopped',
  'running->crashed',
  'running->stopped',
  'stopped->running',
  'crashed->restarting',
  'restarting->running',
  'restarting->crashed',
];
const OPERATOR_STOP_OF_A_CRASH = 'crashed->stopped';

describe('proxy machine: top-level edges', () => {
  it("are exactly the seed's eight and the operator's stop of a crash, none missing, none extra", () => {
    expect([...topLevelEdges(proxyMachine)].sort()).toEqual([...SEED_EDGES, OPERATOR_STOP_OF_A_CRASH].sort());
  });
});

describe('topLevelEdges', () => {
  it('sees edges declared on sub-states and in `always`, and ignores moves inside one state', async () => {
    const { createMachine } = await import('xstate');
    const m = createMachine({
      id: 'm',
      initial: 'a',
      states: {
        a: { initial: 'x', states: { x: { always: { target: '#m.b.y' } }, z: { on: { E: 'x' } } } },
        b: { initial: 'y', states: { y: { on: { F: '#m.a' } } } },
      },
    });
    expect([...topLevelEdges(m)].sort()).toEqual(['a->b', 'b->a']);
  });
});
