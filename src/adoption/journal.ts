// Records the processes the daemon starts, so that the next run can adopt them. The spawn is
// recorded before it happens, with a token in the child's environment: a daemon killed between the
// fork and learning the pid still leaves enough behind to find the child. The pid and start time
// are recorded once the start time is read, off the event loop; until then (or if the daemon dies
// first) the token is what finds the child.
import { processStartTimeAsync } from '../process/proc.ts';
import { executedFingerprint } from '../supervisor/executed.ts';
import type { Driver } from '../supervisor/ports.ts';
import { SPAWN_TOKEN_ENV } from '../process/escape.ts';
import type { SpawnIntent, Store } from '../store/types.ts';
import { spawnToken } from './identity.ts';

/**
 * `storeOpen`: false once the store is closed; a start time read after that is not written.
 * `later`: where the write of a start time read is queued, to be committed with the rest of a slice.
 */
export function createProcessJournal(
  store: Store,
  now: () => number,
  storeOpen: () => boolean = () => true,
  later: (job: () => void) => void = (job) => job(),
) {
  const spawning = new Map<string, SpawnIntent>();
  /** Started processes whose start time is being read, by pid. */
  const reading = new Map<number, SpawnIntent>();
  return {
    /** The driver, recording each spawn before it happens. */
    wrap(driver: Driver): Driver {
      return {
        ...driver,
        start(spec, events) {
          // What the process was started from: a different one at the next boot means the config changed.
          const fingerprint = executedFingerprint(spec);
          const intent: SpawnIntent = {
            token: spawnToken(store.dir, spec.id, fingerprint),
            proxyId: spec.id,
            command: JSON.stringify([spec.command, ...spec.args]),
            fingerprint,
            at: now(),
          };
          store.recordSpawn(intent);
          spawning.set(spec.id, intent);
          return driver.start({ ...spec, env: { ...spec.env, [SPAWN_TOKEN_ENV]: intent.token } }, events);
        },
      };
    },
    /** The supervisor's onProcess hook. */
    onProcess(id: string, pid: number, event: 'started' | 'adopted' | 'exited') {
      if (event === 'exited') {
        const unread = reading.get(pid);
        reading.delete(pid);
        return unread ? store.forgetSpawn(unread.token) : store.forgetProcess(id, pid);
      }
      if (event !== 'started') return;
      const intent = spawning.get(id);
      spawning.delete(id);
      if (!intent) return;
      reading.set(pid, intent);
      void processStartTimeAsync(pid).then((startTime) =>
        later(() => {
          // Gone already: its exit forgot the spawn.
          if (reading.get(pid) !== intent || !storeOpen()) return;
          reading.delete(pid);
          if (startTime === undefined) store.forgetSpawn(intent.token);
          else store.recordProcess({ ...intent, pid, startTime });
        }),
      );
    },
  };
}
