// An in-memory world that does nothing on its own: a spawn stays pending, a killed process stays
// alive, a readiness wait stays open, until the test says what happens. So every event a model
// path names maps to exactly one world action, in any interleaving the path asks for.
// (test/support/fake-world.ts answers at once instead, which suits random timelines.)
import { SimulatedClock } from 'xstate';
import { flush, T0 } from '../../support/fake-world.ts';
import { pendingTimers, runUntil } from './clock.ts';
import type { ProbeResult } from '../../../src/health/result.ts';
import type { Driver, ProcessEvents, ProcessHandle, Prober, World } from '../../../src/supervisor/ports.ts';

interface Process {
  id: string;
  pid: number | undefined;
  phase: 'spawning' | 'up' | 'gone';
  events: Pick<ProcessEvents, 'onExit'> & Partial<ProcessEvents>;
}

export interface ScriptedWorld extends World {
  clock: SimulatedClock;
  /** World effects in order, one word each: spawn, adopt, kill, ready?, ready cancelled, probe. */
  log: Array<{ id: string; effect: string }>;
  /** Ids whose probes fail. */
  unhealthy: Set<string>;
  /** Ids whose processes measure above modelSettings.max_memory (the others below it). */
  bloated: Set<string>;
  /** Answer spawns and kills at once (for tests that are not about them). */
  auto: { spawn: boolean; exit: boolean };
  spawned(id: string): void;
  spawnFailed(id: string): void;
  /** The process exits (crash or end of a stop); a still pending spawn completes first. */
  exited(id: string, signal: string | null, code?: number | null): void;
  ready(id: string, ok: boolean): void;
  killPending(id: string): boolean;
  /** A process left running by an earlier run of the daemon, for `adopt`. */
  leftRunning(pid: number, id: string): void;
  /** Times at which the clock's pending timers are due. */
  timers(): number[];
  /** Fire the clock's timers one at a time, in order, up to `until`, letting effects run in between. */
  runUntil(until: number): Promise<void>;
}

export function createScriptedWorld(): ScriptedWorld {
  const clock = new SimulatedClock();
  clock.set(T0);
  const log: ScriptedWorld['log'] = [];
  const current = new Map<string, Process>();
  const killed = new Set<Process>();
  const readiness = new Map<string, (result: ProbeResult) => void>();
  const idOfPid = new Map<number, string>();
  const unhealthy = new Set<string>();
  const bloated = new Set<string>();
  const auto = { spawn: false, exit: false };
  let nextPid = 1000;

  const proc = (id: string, what: string) => {
    const p = current.get(id);
    if (!p || p.phase === 'gone') throw new Error(`${what}: ${id} has no live process`);
    return p;
  };
  function spawned(id: string) {
    const p = proc(id, 'spawned');
    if (p.phase !== 'spawning') throw new Error(`spawned: ${id} is not spawning`);
    p.pid = nextPid++;
    p.phase = 'up';
    idOfPid.set(p.pid, id);
    p.events.onSpawn!(p.pid);
  }
  function exited(id: string, signal: string | null, code: number | null = null) {
    const p = proc(id, 'exited');
    if (p.phase === 'spawning') spawned(id);
    p.phase = 'gone';
    killed.delete(p);
    p.events.onExit(code, signal);
  }
  function handle(p: Process): ProcessHandle {
    return {
      get pid() {
        return p.pid;
      },
      get exited() {
        return p.phase === 'gone';
      },
      stop: () => {
        log.push({ id: p.id, effect: 'kill' });
        if (p.phase === 'gone') return;
        killed.add(p);
        if (auto.exit) queueMicrotask(() => p.phase !== 'gone' && exited(p.id, 'SIGTERM'));
      },
    };
  }

  const driver: Driver = {
    start(spec, events) {
      log.push({ id: spec.id, effect: 'spawn' });
      const p: Process = { id: spec.id, pid: undefined, phase: 'spawning', events };
      current.set(spec.id, p);
      if (auto.spawn) queueMicrotask(() => p.phase === 'spawning' && spawned(spec.id));
      return handle(p);
    },
    adopt(pid, events) {
      const id = idOfPid.get(pid) ?? `pid-${pid}`;
      log.push({ id, effect: 'adopt' });
      const p: Process = { id, pid, phase: 'up', events };
      current.set(id, p);
      return handle(p);
    },
    async stopAll(handles) {
      for (const h of handles) h.stop(0);
    },
    measure: (pids) => new Map(pids.map((pid) => [pid, { memoryBytes: bloated.has(idOf(pid)) ? 2 ** 21 : 2 ** 19, cpuSeconds: 0 }])),
  };

  const idOf = (pid: number | undefined) => (pid === undefined ? '?' : (idOfPid.get(pid) ?? `pid-${pid}`));
  const prober: Prober = {
    async probe(_spec, target) {
      const id = idOf(target.pid);
      log.push({ id, effect: 'probe' });
      return unhealthy.has(id) ? { ok: false, durationMs: 5, error: 'connection refused' } : { ok: true, durationMs: 5 };
    },
    waitUntilReady(_spec, target, _deadline, signal) {
      const id = idOf(target.pid);
      log.push({ id, effect: 'ready?' });
      signal.addEventListener('abort', () => log.push({ id, effect: 'ready cancelled' }));
      return new Promise((resolve) => readiness.set(id, resolve));
    },
    limit: (task) => task(),
    setConcurrency: () => {},
  };

  return {
    clock,
    driver,
    prober,
    log,
    unhealthy,
    bloated,
    auto,
    spawned,
    spawnFailed(id) {
      const p = proc(id, 'spawnFailed');
      p.phase = 'gone';
      p.events.onSpawnError!(`spawn /opt/${id} ENOENT`);
    },
    exited,
    ready(id, ok) {
      const resolve = readiness.get(id);
      if (!resolve) throw new Error(`ready: nothing waits for ${id}`);
      readiness.delete(id);
      resolve(ok ? { ok: true, durationMs: 5 } : { ok: false, durationMs: 5, error: 'connection refused' });
    },
    leftRunning: (pid, id) => void idOfPid.set(pid, id),
    killPending: (id) => [...killed].some((p) => p.id === id),
    timers: () => pendingTimers(clock),
    runUntil: (until) => runUntil(clock, until, flush),
  };
}
