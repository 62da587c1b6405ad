// Jumps a SimulatedClock from one pending timer to the next, letting effects run in between, so a
// test can move hours ahead without crawling through them in small steps. SimulatedClock keeps its
// timers private; this reads them.
import type { SimulatedClock } from 'xstate';

type Timeouts = Map<number, { start: number; timeout: number }>;

/** Times at which the clock's pending timers are due, earliest first. */
export function pendingTimers(clock: SimulatedClock): number[] {
  const timeouts = (clock as unknown as { timeouts: Timeouts }).timeouts;
  return [...timeouts.values()].map((t) => t.start + t.timeout).sort((a, b) => a - b);
}

export async function runUntil(clock: SimulatedClock, until: number, settle: () => Promise<void>): Promise<void> {
  for (let next = pendingTimers(clock)[0]; next !== undefined && next <= until; next = pendingTimers(clock)[0]) {
    clock.set(Math.max(next, clock.now()));
    await settle();
  }
  if (clock.now() < until) clock.set(until);
  await settle();
}
