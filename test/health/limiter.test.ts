import { describe, expect, it } from 'vitest';
import { createLimiter } from '../../src/health/limiter.ts';

const tick = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

describe('createLimiter', () => {
  it('never runs more than N tasks at once, and starts them in order', async () => {
    const limiter = createLimiter(3);
    let running = 0;
    let peak = 0;
    const started: number[] = [];
    const results = await Promise.all(
      Array.from({ length: 20 }, (_, i) =>
        limiter.run(async () => {
          started.push(i);
          peak = Math.max(peak, ++running);
          await tick(1 + (i % 4));
          running--;
          return i * 2;
        }),
      ),
    );
    expect(peak).toBe(3);
    expect(started).toEqual(Array.from({ length: 20 }, (_, i) => i));
    expect(results).toEqual(Array.from({ length: 20 }, (_, i) => i * 2));
    expect(limiter.active).toBe(0);
  });

  it('passes rejections through and keeps going', async () => {
    const limiter = createLimiter(1);
    await expect(limiter.run(() => Promise.reject(new Error('boom')))).rejects.toThrow('boom');
    await expect(
      limiter.run(() => {
        throw new Error('sync boom');
      }),
    ).rejects.toThrow('sync boom');
    expect(await limiter.run(async () => 'next')).toBe('next');
  });

  it('applies a new concurrency at run time', async () => {
    const limiter = createLimiter(1);
    const gates: (() => void)[] = [];
    const tasks = Array.from({ length: 4 }, () => limiter.run(() => new Promise<void>((resolve) => gates.push(resolve))));
    await tick(5);
    expect([limiter.active, limiter.pending]).toEqual([1, 3]);
    limiter.setConcurrency(3);
    await tick(5);
    expect([limiter.active, limiter.pending]).toEqual([3, 1]);
    limiter.setConcurrency(1);
    for (const open of gates.splice(0)) open();
    await tick(5);
    // Lowering the bound lets running tasks finish; only then does the next one start.
    expect([limiter.active, limiter.pending]).toEqual([1, 0]);
    for (const open of gates.splice(0)) open();
    await Promise.all(tasks);
    expect(() => limiter.setConcurrency(0)).toThrow(RangeError);
  });
});
