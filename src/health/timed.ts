// Network probes share one shape: start, then settle once on success, failure, deadline or abort,
// and always release the socket.
import { clearLongTimeout, setLongTimeout } from '../timers.ts';
import type { ProbeResult, ProbeTarget } from './result.ts';

/**
 * Runs a callback-style probe under a deadline. `start` begins the check, calls `done()` on success
 * or `done(error)` on failure, and returns a cleanup that releases its sockets; whichever of done,
 * the deadline or the abort comes first decides the result.
 */
export function timedProbe(target: ProbeTarget, start: (done: (error?: string) => void) => () => void): Promise<ProbeResult> {
  const began = performance.now();
  return new Promise((resolve) => {
    let cleanup = () => {};
    let settled = false;
    const done = (error?: string) => {
      if (settled) return;
      settled = true;
      clearLongTimeout(timer);
      target.signal?.removeEventListener('abort', onAbort);
      cleanup();
      const durationMs = performance.now() - began;
      resolve(error === undefined ? { ok: true, durationMs } : { ok: false, durationMs, error });
    };
    const onAbort = () => done('aborted');
    const timer = setLongTimeout(() => done(`timed out after ${target.timeoutMs} ms`), target.timeoutMs);
    target.signal?.addEventListener('abort', onAbort);
    if (target.signal?.aborted) return done('aborted');
    try {
      cleanup = start(done);
    } catch (error) {
      return done(error instanceof Error ? error.message : String(error));
    }
    if (settled) cleanup();
  });
}
