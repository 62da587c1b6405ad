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
        ? goneOrUnread(target.pid)
        : isDeadState(state)
          ? `process ${target.pid} is a zombie`
          : undefined;
  const durationMs = performance.now() - began;
  return error === undefined ? { ok: true, durationMs } : { ok: false, durationMs, error };
}

/** Its stat unread: gone, unless the daemon could not open the file (EMFILE), which says nothing of the process. */
function goneOrUnread(pid: number): string {
  try {
    process.kill(pid, 0); // needs no file descriptor
  } catch {
    return `process ${pid} is gone`;
  }
  return `process ${pid}: its /proc/${pid}/stat could not be read (EMFILE or ENFILE: the daemon is out of file descriptors)`;
}
