// A zombie still has a pid: "the pid exists" is not "the process runs".
import { isDeadState, processState } from '../process/proc.ts';
import type { ProbeResult, ProbeTarget } from './result.ts';

export function probeProcess(target: ProbeTarget): ProbeResult {
  const began = performance.now();
  const state = target.pid === undefined ? undefined : processState(target.pid);
  const error =
    target.pid === undefined
      ? 'no pid'
      : state === undefined
        ? `process ${target.pid} is gone`
        : isDeadState(state)
          ? `process ${target.pid} is a zombie`
          : undefined;
  const durationMs = performance.now() - began;
  return error === undefined ? { ok: true, durationMs } : { ok: false, durationMs, error };
}
