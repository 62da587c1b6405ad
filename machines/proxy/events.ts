/** The proxy's memory (all its processes) measured with a check, and the watchdog's limit then (null: none). */
export interface MemoryReading {
  bytes: number;
  limit: number | null;
}

// Every event carries `at` (epoch ms): time is data here. The machine never reads a clock, so the
// same event sequence always gives the same decisions, under a simulated clock or a real one.

export type ProxyEvent =
  // From the monitor (boot, ticks, runtime changes)
  | { type: 'BOOT'; at: number }
  | { type: 'SUPERVISE'; at: number; active: boolean }
  | { type: 'CONFIGURE'; at: number; policy: import('./policy.ts').RestartPolicy; monitored: boolean }
  | { type: 'RETIRE'; at: number }
  // From the operator (API, CLI)
  | { type: 'START'; at: number }
  | { type: 'STOP'; at: number }
  | { type: 'RESTART'; at: number }
  | { type: 'ENABLE'; at: number }
  | { type: 'DISABLE'; at: number }
  /** From a reload (or adoption): what the proxy executes changed, so its process must be replaced; `reason` says where the change came from. */
  | { type: 'REPLACE'; at: number; reason?: string }
  // From the process driver
  | { type: 'SPAWNED'; at: number; pid: number }
  // `daemonFault`: the daemon lacked a resource of its own (file descriptors, memory, disk space):
  // not the proxy's failure, so it is not counted against the proxy's restart cap.
  | { type: 'SPAWN_FAILED'; at: number; error: string; daemonFault?: boolean }
  /** `whileAway`: it ended while the daemon was down (raised at boot): no status is known. */
  | { type: 'EXITED'; at: number; code: number | null; signal: string | null; escaped?: string; whileAway?: boolean }
  // From the health probes
  // (with the memory reading taken at the same time, when the process could be measured)
  | { type: 'CHECK_PASSED'; at: number; durationMs: number; memory?: MemoryReading }
  | { type: 'CHECK_FAILED'; at: number; durationMs: number; error: string; memory?: MemoryReading }
  | { type: 'READY'; at: number }
  | { type: 'NOT_READY'; at: number; error: string }
  // From the timer armed for the next restart attempt
  | { type: 'WAKE'; at: number };

/**
 * What the machine reports to the outside world: logs, history, store, metrics listen to these.
 * Each carries what its listeners need (the counters after the step that emitted it included), so
 * none reads an actor's context back. A state change to `crashed` carries the crash it is down
 * after (the store keeps it, for the next daemon start to carry over).
 */
export type ProxyEmitted = { proxyId: string; counters: import('./context.ts').ProxyCounters } & (
  | {
      type: 'state_change';
      at: number;
      from: import('./context.ts').ProxyPhase;
      to: import('./context.ts').ProxyPhase;
      reason: string;
      crash?: { kind: import('./context.ts').RestartReason; reason: string };
      /** A step of a daemon start's way back to the crash a proxy was down after (no new crash). */
      carriedOver?: true;
    }
  | { type: 'crash_detected'; at: number; reason: string; exitCode: number | null; signal: string | null }
  /** A restart through the `restarting` state began: it counts against the hourly cap from now. */
  | { type: 'restart_started'; at: number; reason: import('./context.ts').RestartReason; manual: boolean }
  | { type: 'restart_finished'; record: import('./context.ts').RestartOutcome }
  | { type: 'restart_withheld'; decision: import('./policy.ts').RestartDecision }
  | { type: 'check_finished'; at: number; ok: boolean; durationMs: number; error?: string; inStartGrace?: true; memory?: MemoryReading }
  /** Removed from the configuration, its process gone: it has no state to carry over any more. */
  | { type: 'retired'; at: number }
);
