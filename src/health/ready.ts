// After a (re)start the proxy needs a moment before it answers: poll its check until it passes,
// so "running" means serving, not merely spawned.
import type { HealthSpec } from '../proxy-spec.ts';
import { probe, type Probe } from './probe.ts';
import type { ProbeResult } from './result.ts';

/** A probe that fails is tried again this long after (README: "then every 50 ms"). */
const READY_POLL_MS = 50;

function sleep(ms: number, signal: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal.addEventListener('abort', done);
    function done() {
      clearTimeout(timer);
      signal.removeEventListener('abort', done);
      resolve();
    }
  });
}

/** Resolves the first passing probe, or the last failure once deadlineMs (epoch ms) has passed. */
export async function waitUntilReady(
  spec: HealthSpec,
  target: { pid?: number; timeoutMs: number },
  deadlineMs: number,
  signal: AbortSignal,
  check: Probe = probe,
): Promise<ProbeResult> {
  let last: ProbeResult | undefined;
  while (!signal.aborted) {
    const remaining = deadlineMs - Date.now();
    if (remaining <= 0) break;
    // No single probe may carry the wait past the deadline.
    last = await check(spec, { ...target, timeoutMs: Math.min(target.timeoutMs, remaining), signal });
    if (last.ok) return last;
    await sleep(Math.min(READY_POLL_MS, Math.max(0, deadlineMs - Date.now())), signal);
  }
  const error = signal.aborted ? 'aborted' : 'deadline passed before a probe';
  return last ?? { ok: false, durationMs: 0, error };
}
