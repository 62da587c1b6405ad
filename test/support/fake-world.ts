// A world for the machines that runs on a SimulatedClock: processes that start and die on command,
// probes whose answers the test sets. Every effect the machines ask for is recorded. Like the real
// world it honours the stop timeout (a stubborn process dies only at its end, and stopAll resolves
// only then), the check concurrency (probes beyond it queue), and takes the time the test gives it
// to start a process and to answer a probe, so durations are real numbers on the simulated clock.
import { SimulatedClock } from 'xstate';
import { createLimiter } from '../../src/health/limiter.ts';
import type { HealthSpec, ProxySpec } from '../../src/proxy-spec.ts';
import type { ProbeResult, ProbeTarget } from '../../src/health/result.ts';
import type { Driver, ProcessEvents, ProcessHandle, Prober, World } from '../../src/supervisor/ports.ts';

interface FakeProcess {
  id: string;
  pid: number;
  events: Pick<ProcessEvents, 'onExit'>;
  handle: ProcessHandle & { exited: boolean };
}

export interface FakeWorld extends World {
  clock: SimulatedClock;
  /** Effects in the order they happened: `spawn ss-1`, `kill ss-1`, `adopt ss-1 4242`, ... */
  log: string[];
  running: Map<string, FakeProcess>;
  /** Ids whose next spawns fail (ENOENT), until set to false. */
  spawnFails: Set<string>;
  /** Ids whose next spawns fail for want of the daemon's own file descriptors (EMFILE). */
  daemonShort: Set<string>;
  /** Ids whose probes fail. */
  unhealthy: Set<string>;
  /** Ids whose processes ignore SIGTERM (a stop only ends them after the stop timeout). */
  stubborn: Set<string>;
  /** Simulated ms a spawn of this id takes before the process reports its pid (default 0). */
  startupMs: Map<string, number>;
  /** Simulated ms every probe takes to answer (default 0). */
  probeMs: number;
  /** The check-concurrency limit the prober was last given, and the most probes seen at once. */
  probes: { concurrency: number; inFlight: number; peak: number };
  /** Kill the proxy's process from outside, as `kill -9` would. */
  crash(id: string, signal?: string): void;
  advance(ms: number): Promise<void>;
  /** Let simulated time pass (in 100 ms steps, at most `maxMs`) until `promise` settles. */
  until<T>(promise: Promise<T>, maxMs?: number): Promise<T>;
}

/** Where the simulated clocks of the tests start. */
export const T0 = Date.UTC(2026, 0, 1);

export function createFakeWorld(): FakeWorld {
  const clock = new SimulatedClock();
  clock.set(T0);
  const log: string[] = [];
  const running = new Map<string, FakeProcess>();
  const spawnFails = new Set<string>();
  const daemonShort = new Set<string>();
  const unhealthy = new Set<string>();
  const stubborn = new Set<string>();
  const startupMs = new Map<string, number>();
  const exits = new Map<ProcessHandle, () => void>();
  const idOfPid = new Map<number, string>();
  let nextPid = 1000;

  function exit(process: FakeProcess, code: number | null, signal: string | null) {
    if (process.handle.exited) return;
    process.handle.exited = true;
    if (running.get(process.id) === process) running.delete(process.id);
    log.push(`exit ${process.id} ${signal ?? code}`);
    process.events.onExit(code, signal);
    exits.get(process.handle)?.();
  }

  function track(id: string, pid: number, events: Pick<ProcessEvents, 'onExit'>): ProcessHandle {
    const process: FakeProcess = {
      id,
      pid,
      events,
      handle: {
        pid,
        exited: false,
        stop: (timeoutMs) => {
          log.push(`kill ${id}`);
          if (stubborn.has(id)) clock.setTimeout(() => exit(process, null, 'SIGKILL'), timeoutMs);
          else queueMicrotask(() => exit(process, null, 'SIGTERM'));
        },
      },
    };
    running.set(id, process);
    idOfPid.set(pid, id);
    return process.handle;
  }

  const driver: Driver = {
    start(spec: ProxySpec, events: ProcessEvents) {
      log.push(`spawn ${spec.id}`);
      if (spawnFails.has(spec.id)) {
        queueMicrotask(() => events.onSpawnError(`spawn ${spec.command} ENOENT`));
        return { pid: undefined, exited: true, stop: () => {} };
      }
      if (daemonShort.has(spec.id)) {
        queueMicrotask(() => events.onSpawnError(`spawn ${spec.command} EMFILE`, true));
        return { pid: undefined, exited: true, stop: () => {} };
      }
      const pid = nextPid++;
      const handle = track(spec.id, pid, events);
      const delay = startupMs.get(spec.id) ?? 0;
      if (delay === 0) queueMicrotask(() => events.onSpawn(pid));
      else clock.setTimeout(() => events.onSpawn(pid), delay);
      return handle;
    },
    adopt(pid, events) {
      const id = idOfPid.get(pid) ?? `pid-${pid}`;
      log.push(`adopt ${id} ${pid}`);
      return track(id, pid, events);
    },
    async stopAll(handles, timeoutMs) {
      const gone = handles.map((handle) => (handle.exited ? Promise.resolve() : new Promise<void>((done) => exits.set(handle, done))));
      for (const handle of handles) handle.stop(timeoutMs);
      await Promise.all(gone);
    },
  };

  const result = (id: string | undefined): ProbeResult =>
    id !== undefined && unhealthy.has(id)
      ? { ok: false, durationMs: world.probeMs || 5, error: 'connection refused' }
      : { ok: true, durationMs: world.probeMs || 5 };
  const idOf = (target: ProbeTarget) => (target.pid === undefined ? undefined : idOfPid.get(target.pid));

  const limiter = createLimiter(1);
  const probes = { concurrency: 1, inFlight: 0, peak: 0 };
  const answer = (id: string | undefined) =>
    world.probeMs === 0
      ? Promise.resolve(result(id))
      : new Promise<ProbeResult>((done) => clock.setTimeout(() => done(result(id)), world.probeMs));

  const prober: Prober = {
    async probe(_spec: HealthSpec, target) {
      const id = idOf(target);
      log.push(`probe ${id}`);
      probes.peak = Math.max(probes.peak, ++probes.inFlight);
      try {
        return await answer(id);
      } finally {
        probes.inFlight--;
      }
    },
    async waitUntilReady(_spec, target) {
      const id = idOf(target);
      log.push(`ready? ${id}`);
      return result(id);
    },
    limit: (task) => limiter.run(task),
    setConcurrency: (n) => {
      probes.concurrency = n;
      limiter.setConcurrency(n);
    },
  };

  const world: FakeWorld = {
    clock,
    driver,
    prober,
    log,
    running,
    spawnFails,
    daemonShort,
    unhealthy,
    stubborn,
    startupMs,
    probeMs: 0,
    probes,
    crash(id, signal = 'SIGKILL') {
      const process = running.get(id);
      if (!process) throw new Error(`${id} has no running process`);
      exit(process, null, signal);
    },
    async advance(ms) {
      // Step through time so timers armed by events in between fire at their own moment.
      const end = clock.now() + ms;
      while (clock.now() < end) {
        clock.increment(Math.min(100, end - clock.now()));
        await flush();
      }
      await flush();
    },
    async until(promise, maxMs = 3_600_000) {
      let settled = false;
      const watched = promise.finally(() => (settled = true));
      await flush();
      for (let waited = 0; !settled && waited < maxMs; waited += 100) await world.advance(100);
      if (!settled) throw new Error(`still pending after ${maxMs} simulated ms`);
      return watched;
    },
  };
  return world;
}

/** Let queued microtasks (fake process and probe results, and the effects they trigger) run. */
export async function flush(): Promise<void> {
  for (let i = 0; i < 20; i++) await Promise.resolve();
}

export function fakeSpec(id: string, overrides: Partial<ProxySpec> = {}): ProxySpec {
  return {
    id,
    type: 'exec',
    command: `/opt/${id}`,
    args: [],
    env: {},
    health: { kind: 'tcp', host: '127.0.0.1', port: 1 },
    monitor: true,
    secrets: [],
    files: [],
    ...overrides,
  };
}
