// Time as the machines' effects see it. XState's SimulatedClock satisfies this interface, so the
// same effects run under a simulated clock in tests and under the real one in the daemon.
import { clearLongTimeout, setLongTimeout, type LongTimeout } from './timers.ts';

export interface Clock {
  now(): number;
  setTimeout(fn: () => void, ms: number): unknown;
  clearTimeout(handle: unknown): void;
}

/** The real clock; its timers take any delay (src/timers.ts). */
export const systemClock: Clock = {
  now: () => Date.now(),
  setTimeout: (fn, ms) => setLongTimeout(fn, ms),
  clearTimeout: (handle) => clearLongTimeout(handle as LongTimeout | undefined),
};
