// Node clamps a timer delay above 2^31-1 ms (24.8 days) to 1 ms. The timer layer every setting-driven
// wait goes through must be safe for any delay: long waits are chained, never clamped.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { systemClock } from '../src/clock.ts';
import { clearLongTimeout, setLongTimeout } from '../src/timers.ts';

const DAY = 86_400_000;

afterEach(() => vi.useRealTimers());

describe('setLongTimeout', () => {
  it('does not fire a 25-day wait at once (a plain setTimeout would, after 1 ms)', async () => {
    const fired = vi.fn();
    const timers = [setLongTimeout(fired, 2 ** 31), setLongTimeout(fired, 3_000_000 * 1000)];
    const viaClock = systemClock.setTimeout(fired, 25 * DAY);
    await new Promise((r) => setTimeout(r, 100));
    expect(fired).not.toHaveBeenCalled();
    for (const timer of timers) clearLongTimeout(timer);
    systemClock.clearTimeout(viaClock);
  });

  it('fires a 60-day wait after 60 days, not before, and can be cancelled mid-chain', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    const cancelled = vi.fn();
    setLongTimeout(fired, 60 * DAY);
    const other = setLongTimeout(cancelled, 60 * DAY);
    vi.advanceTimersByTime(30 * DAY);
    clearLongTimeout(other);
    vi.advanceTimersByTime(30 * DAY - 1);
    expect(fired).not.toHaveBeenCalled();
    vi.advanceTimersByTime(1);
    expect(fired).toHaveBeenCalledOnce();
    vi.advanceTimersByTime(365 * DAY);
    expect(fired).toHaveBeenCalledOnce();
    expect(cancelled).not.toHaveBeenCalled();
  });

  it('treats a negative or NaN delay as 0 and fires short waits as setTimeout does', () => {
    vi.useFakeTimers();
    const fired = vi.fn();
    setLongTimeout(fired, -5);
    setLongTimeout(fired, Number.NaN);
    setLongTimeout(fired, 10);
    vi.advanceTimersByTime(0);
    expect(fired).toHaveBeenCalledTimes(2);
    vi.advanceTimersByTime(10);
    expect(fired).toHaveBeenCalledTimes(3);
  });
});
