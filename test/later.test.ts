// The queue of what follows from events (src/later.ts): after the call, in order, a few ms per turn
// of the event loop, a throwing job reported without stopping the rest, and flush for shutdown.
import { describe, expect, it } from 'vitest';
import { createLater } from '../src/later.ts';

const turn = () => new Promise((resolve) => setImmediate(resolve));
const busy = (ms: number) => {
  const end = performance.now() + ms;
  while (performance.now() < end);
};

describe('later', () => {
  it('runs jobs after the call, in the order asked, jobs queued by jobs included', async () => {
    const errors: unknown[] = [];
    const later = createLater((e) => errors.push(e));
    const ran: number[] = [];
    later(() => ran.push(1));
    later(() => {
      ran.push(2);
      later(() => ran.push(4));
    });
    later(() => ran.push(3));
    expect(ran).toEqual([]);
    await turn();
    await turn();
    expect(ran).toEqual([1, 2, 3, 4]);
    expect(errors).toEqual([]);
  });

  it('reports a job that throws and runs the rest', async () => {
    const errors: unknown[] = [];
    const later = createLater((e) => errors.push(e));
    const ran: string[] = [];
    later(() => {
      throw new Error('bug');
    });
    later(() => ran.push('next'));
    await turn();
    expect((errors[0] as Error).message).toBe('bug');
    expect(ran).toEqual(['next']);
  });

  it('lets the event loop turn between slices: a timer due meanwhile runs before the queue is done', async () => {
    const later = createLater(() => {});
    const order: string[] = [];
    let timer: Promise<void> | undefined;
    for (let i = 0; i < 20; i++)
      later(() => {
        // Set from inside the first slice: due before that slice ends (a timer set from the test's
        // own turn may run before the first slice or after it, as Node's loop happens to start).
        timer ??= new Promise<void>((resolve) =>
          setTimeout(() => {
            order.push('timer');
            resolve();
          }, 0),
        );
        busy(2);
        order.push(`job ${i}`);
      });
    await new Promise((resolve) => setImmediate(resolve));
    await timer;
    while (order.length < 21) await turn();
    const at = order.indexOf('timer');
    // The first slice runs 3 jobs (5 ms of 2 ms jobs); the timer runs at the next turn, long before the 20th.
    expect(at).toBeGreaterThan(0);
    expect(at).toBeLessThan(10);
  });

  it('flush runs everything queued now; a storm-sized queue keeps its order', async () => {
    const later = createLater(() => {});
    const ran: number[] = [];
    for (let i = 0; i < 5000; i++) later(() => ran.push(i));
    later.flush();
    expect(ran).toHaveLength(5000);
    expect(ran.every((v, i) => v === i)).toBe(true);
    await turn(); // the slice scheduled before the flush finds nothing to do
    expect(ran).toHaveLength(5000);
  });
});
