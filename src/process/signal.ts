// Signals go to the whole process group (the proxy leads its own), so helpers it forked stop with it.
import { readdirSync } from 'node:fs';
import { clearLongTimeout, setLongTimeout, type LongTimeout } from '../timers.ts';
import { isDeadState, PROCESS_GROUP, STATE, statFields } from './proc.ts';

export function signalGroup(pgid: number, signal: NodeJS.Signals): void {
  try {
    process.kill(-pgid, signal);
  } catch {
    // ESRCH: the group is already gone. EPERM: not ours to signal. Either way nothing is left to do.
  }
}

/** Is any process still in the group (signal 0 checks without sending)? */
function groupExists(pgid: number): boolean {
  try {
    process.kill(-pgid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM'; // there, but not ours to signal
  }
}

/**
 * Is anything but its exited leader left in the group? An adopted leader (watched in /proc, another
 * process's child) may still be a zombie when its exit is seen, and signal 0 finds the group by it:
 * then only a look at /proc tells (a single-process proxy was said to have left processes behind).
 */
function groupOutlivesLeader(pgid: number): boolean {
  if (!groupExists(pgid)) return false;
  const leader = statFields(pgid);
  if (leader === undefined || !isDeadState(leader[STATE])) return true;
  return readdirSync('/proc').some((entry) => {
    const pid = Number(entry);
    if (!Number.isInteger(pid) || pid === pgid) return false;
    const fields = statFields(pid);
    return fields !== undefined && !isDeadState(fields[STATE]) && Number(fields[PROCESS_GROUP]) === pgid;
  });
}

/**
 * TERM and CONT (as s6 does, so a stopped process can act on TERM), KILL if the leader has not
 * exited by the deadline, and KILL once more when it has, for whatever it left behind.
 */
export function createGroupStopper(pgid: number, onKill?: (timeoutMs: number) => void) {
  let killTimer: LongTimeout | undefined;
  let killAt = Infinity;
  let leaderGone = false;
  return {
    stop(timeoutMs: number): void {
      if (leaderGone) return;
      signalGroup(pgid, 'SIGTERM');
      signalGroup(pgid, 'SIGCONT');
      // A second stop may shorten the grace period, never lengthen it.
      if (Date.now() + timeoutMs >= killAt) return;
      killAt = Date.now() + timeoutMs;
      clearLongTimeout(killTimer);
      killTimer = setLongTimeout(() => {
        onKill?.(timeoutMs);
        signalGroup(pgid, 'SIGKILL');
      }, timeoutMs);
    },
    /** Kills what the leader left in its group; true when it left anything (a fork that outlived it). */
    leaderExited(): boolean {
      leaderGone = true;
      clearLongTimeout(killTimer);
      const left = groupOutlivesLeader(pgid);
      signalGroup(pgid, 'SIGKILL');
      return left;
    },
  };
}
