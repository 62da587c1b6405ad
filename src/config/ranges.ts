// Every number a user can set has a range (README, "Ranges"). Durations especially: Node clamps a
// timer delay above 2^31-1 ms (24.8 days) to 1 ms, so an unbounded setting would fire at once, and a
// tiny one would spin the daemon. Ranges are checked after the type, with one message naming both ends.
import * as z from 'zod';

const UNITS: Array<[number, string]> = [
  [86_400, 'day'],
  [3_600, 'h'],
  [60, 'min'],
];

/** 86400 -> "1 day", 300 -> "5 min", 0.1 -> "0.1 s": the readable form of a bound in seconds. */
export function readableSeconds(s: number): string {
  const unit = UNITS.find(([size]) => s >= size && s % size === 0);
  if (!unit) return `${s} s`;
  const n = s / unit[0];
  return `${n} ${unit[1]}${unit[1] === 'day' && n !== 1 ? 's' : ''}`;
}

const within = (min: number, max: number) => (v: number) => v >= min && v <= max;

/** A duration in seconds, min..max inclusive. */
export const seconds = (min: number, max: number) =>
  z
    .number()
    .refine(within(min, max), { error: `expected seconds from ${min} to ${max} (${readableSeconds(min)} to ${readableSeconds(max)})` });

/**
 * A whole number, min..max inclusive. Out of range, the message gives the range even far outside it
 * (zod's own int check would name 2^53-1 first, a bound no setting documents).
 */
export const whole = (min: number, max: number) =>
  z
    .number()
    .refine(within(min, max), { error: `expected a whole number from ${min} to ${max}`, abort: true })
    .refine(Number.isInteger, { error: 'expected an integer' });

/** Any number, min..max inclusive. */
export const ranged = (min: number, max: number) =>
  z.number().refine(within(min, max), { error: `expected a number from ${min} to ${max}` });

export const DAY = 86_400;
export const HOUR = 3_600;
