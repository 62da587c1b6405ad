// Property-based tests: random timelines of crashes, hangs, failed spawns, operator commands,
// runtime config changes and clock jumps over many hours; the invariants hold after every step.
import fc from 'fast-check';
import { describe, it } from 'vitest';
import { timelineArb } from './support/timeline.ts';
import { runTimeline } from './support/timeline-run.ts';

describe('random timelines', () => {
  it('keep the restart cap, the cooldown, the schedule of every crashed proxy and the counters', async () => {
    await fc.assert(fc.asyncProperty(timelineArb, runTimeline), { numRuns: 200 });
  }, 60_000);
});
