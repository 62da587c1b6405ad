// Starts that wait while the previous run's unwanted processes are being stopped: one of them (a
// proxy removed or renamed while the daemon was down) may still hold the port or the files a new
// process needs, so a proxy started beside it would fail and be charged for it, as a reload's
// added proxies wait for its removed ones (src/supervisor/supervisor.ts).
import type { Driver, ProcessHandle } from '../supervisor/ports.ts';

/** The driver, with every start held until `gone` settles (undefined: nothing to wait for). */
export function startsAfter(driver: Driver, gone: Promise<void> | undefined): Driver {
  if (gone === undefined) return driver;
  let open = false;
  void gone.then(() => (open = true));
  /** A held start's handle, by the process it became. */
  const real = new WeakMap<ProcessHandle, ProcessHandle>();
  return {
    ...driver,
    start(spec, events) {
      if (open) return driver.start(spec, events);
      let cancelled = false;
      const held: ProcessHandle = {
        get pid() {
          return real.get(held)?.pid;
        },
        get exited() {
          return real.get(held)?.exited ?? cancelled;
        },
        stop(timeoutMs) {
          const started = real.get(held);
          if (started) return started.stop(timeoutMs);
          if (cancelled) return;
          // Stopped before it started: there is no process to wait for (as a start that failed).
          cancelled = true;
          events.onSpawnError('stopped before it was started');
        },
      };
      void gone.then(() => {
        if (!cancelled) real.set(held, driver.start(spec, events));
      });
      return held;
    },
    stopAll: (handles, timeoutMs) =>
      driver.stopAll(
        [...handles].map((handle) => real.get(handle) ?? handle),
        timeoutMs,
      ),
  };
}
