// The machines' effect stubs, implemented against the real world (or a fake one in tests). Every
// result goes back to the machine as an event stamped with the clock's time. Nothing here decides a
// transition: it only does what an action names and reports what happened.
import type { AnyActorRef } from 'xstate';
import type { MonitorContext, MonitorSettings } from '../../machines/monitor/context.ts';
import { proxiesDueForCheck } from '../../machines/monitor/status.ts';
import type { ProxyContext } from '../../machines/proxy/context.ts';
import type { MemoryReading, ProxyEvent } from '../../machines/proxy/events.ts';
import type { MonitorEffects } from '../../machines/monitor.machine.ts';
import type { ProxyEffects } from '../../machines/proxy.machine.ts';
import { sizeBytes } from '../config/size.ts';
import type { ProxySpec } from '../proxy-spec.ts';
import { executedFingerprint } from './executed.ts';
import type { ProcessHandle, ProcessUsage, World } from './ports.ts';

/** A probe's error that is the daemon's want of file descriptors, not the proxy's failure. */
const DAEMON_OUT_OF_FILES = /\bE[MN]FILE\b/;

export interface EffectHooks {
  /** A line of a proxy's stdout/stderr. */
  onOutput(id: string, stream: 'stdout' | 'stderr', line: string): void;
  /** Lines of a proxy's output dropped before they reached the daemon. */
  onOutputDropped(id: string, stream: 'stdout' | 'stderr', lines: number): void;
  /** A proxy's main process outlived its stop_timeout after TERM: its group is being sent KILL. */
  onKilled(id: string, timeoutMs: number): void;
  /** A proxy process was started or adopted (the store records it) or is gone. */
  onProcess(id: string, pid: number, event: 'started' | 'adopted' | 'exited'): void;
  /** One check round finished. */
  onCheckRound(durationMs: number, checked: number): void;
}

export interface EffectDeps extends Omit<World, 'later'> {
  specs: Map<string, ProxySpec>;
  settings(): MonitorSettings;
  hooks: EffectHooks;
  /** Where what follows events is queued: the World's `later`, or at once without one (the supervisor's). */
  later(job: () => void): void;
}

type ProxyArgs = { context: ProxyContext; self: AnyActorRef };

/** The memory watchdog's limit for a proxy: its own max_memory, else proxy.monitor.max_memory, else none. */
export function memoryLimitOf(spec: ProxySpec, settings: MonitorSettings): number | null {
  return spec.maxMemory ?? (settings.max_memory === undefined ? undefined : sizeBytes(settings.max_memory)) ?? null;
}

export function createEffects(deps: EffectDeps) {
  const { clock, driver, prober, specs, hooks } = deps;
  const processes = new Map<string, ProcessHandle>();
  /**
   * The spec each proxy's current process was started from, while it runs. When what it executes
   * has changed since (a reload changed the password or port while a restart is verified), its
   * readiness is probed as it serves, with that spec's check: the change replaces it once it is up.
   * A change of the check alone applies at once, as it does to every check.
   */
  const startedFrom = new Map<string, ProxySpec>();
  const readinessCheck = (id: string) => {
    const started = startedFrom.get(id);
    const current = specOf(id);
    return started && executedFingerprint(started) !== executedFingerprint(current) ? started.health : current.health;
  };
  /** Each pending timer's cancel. */
  const wakeTimers = new Map<string, () => void>();
  const readiness = new Map<string, AbortController>();
  /** Proxies whose check waits for a slot of check_concurrency, those whose check holds one, and when each one's latest check began. */
  const waiting = new Set<string>();
  const holding = new Set<string>();
  const lastBegan = new Map<string, number>();
  let tickTimer: (() => void) | undefined; // its cancel

  // After shutdown the actors are stopped while processes still report their exits: drop those.
  const send = (self: AnyActorRef, event: ProxyEvent) => self.getSnapshot().status === 'active' && self.send(event);
  const specOf = (id: string): ProxySpec => {
    const spec = specs.get(id);
    if (!spec) throw new Error(`no process specification for proxy ${id}`);
    return spec;
  };
  /** A proxy's setting: its own if its entry sets one, else the monitor's. */
  const setting = <K extends 'health_timeout' | 'stop_timeout'>(id: string, key: K): number =>
    specs.get(id)?.settings?.[key] ?? deps.settings()[key];
  const timeoutMs = (id: string) => setting(id, 'health_timeout') * 1000;
  /**
   * Runs fn at `when` on the clock, never before; returns its cancel. Node's timers run on the
   * loop's own millisecond clock, not Date.now(): one may fire a millisecond early (9 of 400 here),
   * and a WAKE then would find the cooldown not over. A timer that fires early is armed again.
   */
  function runAt(when: number, fn: () => void): () => void {
    let timer: unknown;
    const fire = () => {
      const early = when - clock.now();
      if (early > 0) timer = clock.setTimeout(fire, early);
      else fn();
    };
    timer = clock.setTimeout(fire, Math.max(0, when - clock.now()));
    return () => clock.clearTimeout(timer);
  }

  const memoryLimit = (id: string) => memoryLimitOf(specOf(id), deps.settings());
  const measure = (pids: number[]) => (pids.length && driver.measure ? driver.measure(pids) : new Map<number, never>());

  /** Events from a process that is no longer the proxy's current one are stale: drop them. */
  function current(id: string, handle: () => ProcessHandle | undefined) {
    return () => processes.get(id) === handle();
  }

  const proxy = {
    spawnProcess: ({ context, self }: ProxyArgs) => {
      const { id } = context;
      let handle: ProcessHandle | undefined;
      const isCurrent = current(id, () => handle);
      const spec = specOf(id);
      startedFrom.set(id, spec);
      lastBegan.delete(id); // the new process's first check is not skipped for the old one's
      handle = driver.start(spec, {
        // The machine hears of it first: recording it (onProcess) must not delay or lose it.
        onSpawn: (pid) => {
          if (!isCurrent()) return;
          send(self, { type: 'SPAWNED', at: clock.now(), pid });
          hooks.onProcess(id, pid, 'started');
        },
        onSpawnError: (error, daemonFault) =>
          isCurrent() && send(self, { type: 'SPAWN_FAILED', at: clock.now(), error, ...(daemonFault && { daemonFault }) }),
        onExit: (code, signal, escaped) => {
          if (!isCurrent()) return;
          startedFrom.delete(id);
          send(self, { type: 'EXITED', at: clock.now(), code, signal, ...(escaped !== undefined && { escaped }) });
          if (handle?.pid !== undefined) hooks.onProcess(id, handle.pid, 'exited');
        },
        onOutput: (stream, line) => hooks.onOutput(id, stream, line),
        onOutputDropped: (stream, lines) => hooks.onOutputDropped(id, stream, lines),
        onKilled: (timeoutMs) => hooks.onKilled(id, timeoutMs),
      });
      processes.set(id, handle);
    },
    adoptProcess: ({ context, self }: ProxyArgs) => {
      const { id, pid } = context;
      if (pid === null) return;
      startedFrom.delete(id); // started by an earlier run: its checks are the current spec's
      let handle: ProcessHandle | undefined;
      const isCurrent = current(id, () => handle);
      handle = driver.adopt(
        pid,
        {
          onExit: (code, signal, escaped) => {
            if (!isCurrent()) return;
            send(self, { type: 'EXITED', at: clock.now(), code, signal, ...(escaped !== undefined && { escaped }) });
            hooks.onProcess(id, pid, 'exited');
          },
          onKilled: (timeoutMs) => hooks.onKilled(id, timeoutMs),
        },
        specOf(id),
      );
      processes.set(id, handle);
      hooks.onProcess(id, pid, 'adopted');
    },
    stopProcess: ({ context }: ProxyArgs) => {
      processes.get(context.id)?.stop(setting(context.id, 'stop_timeout') * 1000);
    },
    verifyReadiness: ({ context, self }: ProxyArgs, params: { deadline: number; notBefore: number }) => {
      const controller = new AbortController();
      const { signal } = controller;
      readiness.set(context.id, controller);
      const runAtUnlessAborted = (when: number, fn: () => void) => signal.addEventListener('abort', runAt(when, fn), { once: true });
      const ready = () => !signal.aborted && send(self, { type: 'READY', at: clock.now() });
      const target = { pid: context.pid ?? undefined, timeoutMs: timeoutMs(context.id) };
      const probe = () =>
        void prober.waitUntilReady(readinessCheck(context.id), target, params.deadline, signal).then((result) => {
          if (signal.aborted) return;
          if (!result.ok) return send(self, { type: 'NOT_READY', at: clock.now(), error: result.error });
          if (clock.now() >= params.notBefore) ready();
          else runAtUnlessAborted(params.notBefore, ready);
        });
      // A probe passed before min_uptime proves no more than one passed at min_uptime, so probing
      // starts then (a storm's servers are not probed every 50 ms while they start) unless
      // min_uptime reaches past start_grace, within which the probe must pass.
      if (params.notBefore > clock.now() && params.notBefore < params.deadline) runAtUnlessAborted(params.notBefore, probe);
      else probe();
    },
    cancelReadiness: ({ context }: ProxyArgs) => {
      readiness.get(context.id)?.abort();
      readiness.delete(context.id);
    },
    armWakeTimer: ({ context, self }: ProxyArgs, params: { at: number }) => {
      wakeTimers.set(
        context.id,
        runAt(params.at, () => send(self, { type: 'WAKE', at: clock.now() })),
      );
    },
    cancelWakeTimer: ({ context }: ProxyArgs) => {
      wakeTimers.get(context.id)?.();
      wakeTimers.delete(context.id);
    },
  } satisfies ProxyEffects;

  const monitor = {
    armTick: ({ context, self }: { context: MonitorContext; self: AnyActorRef }) => {
      tickTimer = runAt(context.nextTickAt, () => self.send({ type: 'TICK', at: clock.now() }));
    },
    cancelTick: () => tickTimer?.(),
    checkProxies: ({ self }: { self: AnyActorRef }) => {
      const started = clock.now();
      const intervalMs = deps.settings().check_interval * 1000;
      // A proxy whose check still waits for a slot, or began within half an interval (it waited for
      // one), has this round's check in that one: two checks side by side are not two failures an
      // interval apart.
      const checkedLately = (id: string) => started - (lastBegan.get(id) ?? Number.NEGATIVE_INFINITY) < intervalMs / 2;
      const due = proxiesDueForCheck(self.getSnapshot()).filter((view) => !waiting.has(view.id) && !checkedLately(view.id));
      // One measurement for the round, taken as it starts; the machine compares it with the limit.
      const usage = measure(due.flatMap((view) => view.context.pid ?? []));
      const rounds = due.map((view) => {
        const used = view.context.pid === null ? undefined : usage.get(view.context.pid);
        const memory: MemoryReading | undefined = used && { bytes: used.memoryBytes, limit: memoryLimit(view.id) };
        const { id } = view;
        const probe = () => {
          lastBegan.set(id, clock.now());
          return prober.probe(specOf(id).health, { pid: view.context.pid ?? undefined, timeoutMs: timeoutMs(id) });
        };
        // A check that outlasts the interval (a health_timeout longer than it, a hung exec check)
        // holds one slot of check_concurrency at most: the proxy's next checks run beside it,
        // outside the limit, so its pile never takes every slot and stalls the other proxies'
        // checks, and its failures still come once per interval (the hang detection's promise).
        const limited = () => {
          waiting.add(id);
          return prober.limit(() => {
            waiting.delete(id);
            holding.add(id);
            return probe().finally(() => holding.delete(id));
          });
        };
        return (holding.has(id) ? probe() : limited()).then((result) => {
          // The daemon out of file descriptors could not make the check: no verdict on the proxy
          // (its round says so: src/daemon/world.ts), rather than a failure that kills a working one.
          if (!result.ok && DAEMON_OUT_OF_FILES.test(result.error ?? '')) return;
          const at = clock.now();
          const event: ProxyEvent = result.ok
            ? { type: 'CHECK_PASSED', at, durationMs: result.durationMs, ...(memory && { memory }) }
            : { type: 'CHECK_FAILED', at, durationMs: result.durationMs, error: result.error, ...(memory && { memory }) };
          // Queued with what follows events, not sent from the probe's callback: a round's results
          // come back together (64 in one read of the spawn helper, ~0.3 ms each), and an exit
          // arriving meanwhile would wait for all of them; in the queue's slices it waits for one.
          return new Promise<void>((sent) =>
            deps.later(() => {
              try {
                view.send(event);
              } finally {
                sent(); // the round ends even if a send threw (a bug, reported by the queue)
              }
            }),
          );
        });
      });
      // After the round's results have reached their proxies, so the round's reports come first.
      void Promise.all(rounds).then(() => hooks.onCheckRound(clock.now() - started, due.length));
    },
  } satisfies MonitorEffects;

  /**
   * Shutdown: each process the supervisor holds is sent its stop with its own stop_timeout; the
   * driver's stopAll then waits for them all under the longest (a second stop never lengthens a grace).
   */
  function stopEveryProcess(): { handles: ProcessHandle[]; timeoutMs: number } {
    let timeoutMs = deps.settings().stop_timeout * 1000;
    const handles: ProcessHandle[] = [];
    for (const [id, handle] of processes) {
      if (handle.exited) continue;
      const own = setting(id, 'stop_timeout') * 1000;
      handle.stop(own);
      handles.push(handle);
      timeoutMs = Math.max(timeoutMs, own);
    }
    return { handles, timeoutMs };
  }

  /** What each proxy with a live process uses now, by proxy id. */
  function usage(): Map<string, ProcessUsage> {
    const pids = new Map([...processes].flatMap(([id, h]) => (h.exited || h.pid === undefined ? [] : [[h.pid, id] as const])));
    return new Map([...measure([...pids.keys()])].map(([pid, used]) => [pids.get(pid)!, used]));
  }

  /** Stopping the actors runs no exit actions: cancel every pending timer and probe here. */
  function dispose() {
    tickTimer?.();
    for (const cancel of wakeTimers.values()) cancel();
    wakeTimers.clear();
    for (const controller of readiness.values()) controller.abort();
    readiness.clear();
  }

  return { proxy, monitor, stopEveryProcess, usage, dispose };
}
