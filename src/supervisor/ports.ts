// The real world as the supervisor sees it. src/process and src/health implement these for the
// daemon; tests implement them with fakes driven by a SimulatedClock.
import type { Clock } from '../clock.ts';
import type { HealthSpec, ProxySpec } from '../proxy-spec.ts';

export interface ProcessEvents {
  onSpawn(pid: number): void;
  onSpawnError(error: string): void;
  onExit(code: number | null, signal: string | null): void;
  onOutput(stream: 'stdout' | 'stderr', line: string): void;
}

export interface ProcessHandle {
  readonly pid: number | undefined;
  stop(timeoutMs: number): void;
  readonly exited: boolean;
}

export interface Driver {
  start(spec: ProxySpec, events: ProcessEvents): ProcessHandle;
  /** Watch a live process from an earlier run of the daemon (not our child). */
  adopt(pid: number, events: Pick<ProcessEvents, 'onExit'>): ProcessHandle;
  /** Stop these processes and resolve once all of them are gone. */
  stopAll(handles: ProcessHandle[], timeoutMs: number): Promise<void>;
}

export type ProbeResult = { ok: true; durationMs: number } | { ok: false; durationMs: number; error: string };

export interface ProbeTarget {
  pid?: number;
  timeoutMs: number;
}

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
}
