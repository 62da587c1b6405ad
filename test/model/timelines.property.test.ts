// Property-based tests: random timelines of crashes, hangs, failed spawns, operator commands,
// runtime config changes and clock jumps over many hours; the invariants hold after every step.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { timelineArb } from './support/timeline.ts';
import { runTimeline } from './support/timeline-run.ts';

// The mutation run (vitest.mutation.config.ts) asks for fewer timelines from a fixed seed.
const runs = Number(process.env.TIMELINE_RUNS ?? 200);
const seed = process.env.TIMELINE_SEED === undefined ? {} : { seed: Number(process.env.TIMELINE_SEED) };

describe('random timelines', () => {
  it('keep the restart cap, the cooldown, the schedule of every crashed proxy and the counters', async () => {
    await fc.assert(fc.asyncProperty(timelineArb, runTimeline), { numRuns: runs, ...seed });
  }, 60_000);
});
