// Bounds how many health checks run at once, so checking hundreds of proxies does not open
// hundreds of sockets or processes in the same instant. The bound can change at run time.

export interface Limiter {
  run<T>(task: () => Promise<T>): Promise<T>;
  /** Takes effect for the next start: running tasks are never interrupted. */
  setConcurrency(concurrency: number): void;
  readonly active: number;
  readonly pending: number;
}

function checked(concurrency: number): number {
  if (!Number.isInteger(concurrency) || concurrency < 1) {
    throw new RangeError(`concurrency must be a positive integer, got ${concurrency}`);
  }
  return concurrency;
}

export function createLimiter(concurrency: number): Limiter {
  let limit = checked(concurrency);
  let active = 0;
  const queue: (() => void)[] = [];

  const next = () => {
    while (active < limit && queue.length > 0) {
      active++;
      queue.shift()!();
    }
  };

  return {
    run<T>(task: () => Promise<T>): Promise<T> {
      return new Promise<T>((resolve, reject) => {
        queue.push(() => {
          Promise.resolve()
            .then(task)
            .then(resolve, reject)
            .finally(() => {
              active--;
              next();
            });
        });
        next();
      });
    },
    setConcurrency(concurrency: number): void {
      limit = checked(concurrency);
      next();
    },
    get active() {
      return active;
    },
    get pending() {
      return queue.length;
    },
  };
}
