// What follows from events runs after them. One read of the spawn helper can carry a hundred exits:
// each reaches its proxy's actor at once, and what follows (starting the restart, the readiness
// probe, the history rows, the log lines, the metrics) is queued here and run afterwards, in the
// order asked, a few milliseconds per turn of the event loop. Between turns the loop reads the next
// exits and serves the API, so neither waits behind a storm's records (bench/README.md, "Exits
// first").
//
// A slice is also the unit of the daemon's writes (`batch`): its jobs' history rows and journal
// entries are committed together when it ends, and their log lines are written after that commit
// (src/daemon/daemon.ts). A storm's seven commits per restart became one per slice.

/** A run of queued work holds the event loop for about this long, then lets it turn. */
export const SLICE_MS = 5;

export interface Later {
  /** Run `job` after the events at hand (never during the call). */
  (job: () => void): void;
  /** Run every queued job now (shutdown: nothing asked for is lost). */
  flush(): void;
}

/** Runs a slice of jobs (given as one function): the daemon's commits them as one transaction. */
export type Batch = (slice: () => void) => void;

/** `onError`: a job that throws (a bug) is reported and the queue goes on. */
export function createLater(onError: (error: unknown) => void, options: { batch?: Batch } = {}): Later {
  const { batch = (slice) => slice() } = options;
  let queue: (() => void)[] = [];
  let head = 0;
  let scheduled = false;

  const runNext = () => {
    const job = queue[head];
    queue[head++] = undefined as never; // let it go: a storm's closures are not kept until the queue empties
    try {
      job();
    } catch (error) {
      onError(error);
    }
  };
  // The queue's run jobs are dropped now and then, not one by one (Array.shift is linear).
  const compact = () => {
    if (head < 1024 && head < queue.length) return;
    queue = queue.slice(head);
    head = 0;
  };
  const slice = () => {
    scheduled = false;
    const end = performance.now() + SLICE_MS;
    batch(() => {
      while (head < queue.length) {
        runNext();
        if (performance.now() >= end) break;
      }
    });
    compact();
    if (head < queue.length) schedule();
  };
  const schedule = () => {
    if (scheduled) return;
    scheduled = true;
    setImmediate(slice);
  };

  const later = ((job: () => void) => {
    queue.push(job);
    schedule();
  }) as Later;
  later.flush = () => {
    batch(() => {
      while (head < queue.length) runNext();
    });
    compact();
  };
  return later;
}
