// The real world as the supervisor sees it. src/process and src/health implement these for the
// daemon; tests implement them with fakes driven by a SimulatedClock.
import type { Clock } from '../clock.ts';
import type { Later } from '../later.ts';
import type { HealthSpec, ProxySpec } from '../proxy-spec.ts';

export interface ProcessEvents {
  onSpawn(pid: number): void;
  /**
   * The process could not be started (ENOENT, EACCES...): no onExit follows. `daemonFault`: for want
   * of the daemon's own resources (EMFILE, ENOMEM...), not because of the proxy.
   */
  onSpawnError(error: string, daemonFault?: boolean): void;
  /** `escaped`: what the proxy left running in its group or outside it (it daemonizes itself), already killed. */
  onExit(code: number | null, signal: string | null, escaped?: string): void;
  /** One call per line, lines cut at 4096 characters; may still arrive shortly after onExit. */
  onOutput(stream: 'stdout' | 'stderr', line: string): void;
  /** Lines dropped before they reached the daemon (the spawn helper's output budget). */
  onOutputDropped?(stream: 'stdout' | 'stderr', lines: number): void;
  /** A stop's TERM went unheeded for its `timeoutMs`: KILL is being sent to the group. */
  onKilled?(timeoutMs: number): void;
}

export interface ProcessHandle {
  readonly pid: number | undefined;
  /** TERM+CONT to the group, KILL after timeoutMs if the leader is still there. Never throws. */
  stop(timeoutMs: number): void;
  readonly exited: boolean;
}

/** What a proxy uses now: all its processes together. */
export interface ProcessUsage {
  memoryBytes: number;
  cpuSeconds: number;
}

export interface Driver {
  start(spec: ProxySpec, events: ProcessEvents): ProcessHandle;
  /** Watch a live process of `proxy` from an earlier run of the daemon (not our child). */
  adopt(pid: number, events: Pick<ProcessEvents, 'onExit' | 'onKilled'>, proxy: Pick<ProxySpec, 'id'> & Partial<ProxySpec>): ProcessHandle;
  /** Stop these processes and resolve once all of them are gone. */
  stopAll(handles: ProcessHandle[], timeoutMs: number): Promise<void>;
  /** Usage of the proxies led by these pids (those still there); absent: nothing is measured. */
  measure?(pids: number[]): Map<number, ProcessUsage>;
}

import type { ProbeResult, ProbeTarget } from '../health/result.ts';

export interface Prober {
  probe(spec: HealthSpec, target: ProbeTarget): Promise<ProbeResult>;
  /** Probe until one passes or the deadline (epoch ms) is reached. */
  waitUntilReady(spec: HealthSpec, target: ProbeTarget, deadline: number, signal: AbortSignal): Promise<ProbeResult>;
  /** Run a probe under the check-concurrency limit. */
  limit<T>(task: () => Promise<T>): Promise<T>;
  setConcurrency(n: number): void;
}

export interface World {
  clock: Clock;
  driver: Driver;
  prober: Prober;
  /**
   * Where what follows from events is queued (src/later.ts): the machines' effects and the reports
   * to the supervisor's listeners. Absent (the tests' worlds): each runs at once, inside the event.
   */
  later?: Later;
}
