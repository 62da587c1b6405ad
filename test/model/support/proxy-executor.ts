// Runs one model path against the real system: the supervisor with its real monitor and proxy
// actors, on a SimulatedClock, over the scripted in-memory world. Each model event becomes the one
// thing in the world that causes it; after each step the real proxy must be where the model is,
// have taken the same transitions, done the same effects and said the same things.
import { expect } from 'vitest';
import type { AnyTransitionDefinition, InspectionEvent } from 'xstate';
import type { ProxyContext, ProxyMemory } from '../../../machines/proxy/context.ts';
import type { ProxyEmitted, ProxyEvent } from '../../../machines/proxy/events.ts';
import { createSupervisor, monitorActorOf } from '../../../src/supervisor/supervisor.ts';
import { fakeSpec } from '../../support/fake-world.ts';
import { isRetired, MEMORY, modelSettings, PROXY_ID, statePath } from './proxy-model.ts';
import type { Expected } from './proxy-replay.ts';
import { flush } from '../../support/fake-world.ts';
import { createScriptedWorld } from './scripted-world.ts';
import { seedLogger } from './seed-log.ts';
import { transitionKey } from './transitions.ts';
import { restartBegins } from './invariants.ts';

/** What is compared between model and real: the state and the context the machine decides on. */
export function observe(value: unknown, c: ProxyContext) {
  return {
    state: statePath(value),
    wanted: c.wanted,
    retiring: c.retiring,
    override: c.override,
    monitored: c.monitored,
    supervised: c.supervised,
    checkFailures: c.checkFailures,
    memoryStrikes: c.memoryStrikes,
    stats: c.stats,
    consecutiveFailures: c.consecutiveFailures,
    attempts: c.attempts.length,
    manual: c.restart?.manual ?? null,
    outdated: c.outdated,
    verdict: c.decision?.verdict ?? null,
    guard: c.decision?.blocker ?? null,
    hasPid: c.pid !== null,
    lastCheckOk: c.lastCheck?.ok ?? null,
  };
}

/** Reports without their times (model time and clock time differ by the ticks a check waits for). */
export function normalize(r: ProxyEmitted): string {
  const mask = (s: string | undefined) => (s ?? '').replace(/\d{4}-\d\d-\d\dT[\d:.]+Z/g, '<time>');
  switch (r.type) {
    case 'state_change':
      return `state_change ${r.from}->${r.to}: ${mask(r.reason)}`;
    case 'crash_detected':
      return `crash_detected code=${r.exitCode} signal=${r.signal}: ${mask(r.reason)}`;
    case 'restart_started':
      return `restart_started ${r.reason} manual=${r.manual}`;
    case 'restart_finished':
      return `restart_finished ${r.record.reason} manual=${r.record.manual} success=${r.record.success} ${mask(r.record.error)}`;
    case 'restart_withheld':
      return `restart_withheld ${r.decision.verdict} ${r.decision.blocker}: ${mask(r.decision.message)}`;
    case 'check_finished':
      return `check_finished ok=${r.ok}`;
    case 'retired':
      return 'retired';
  }
}

export const describeEvent = (e: ProxyEvent) =>
  e.type === 'SUPERVISE' ? `SUPERVISE(${e.active})` : e.type === 'CONFIGURE' ? `CONFIGURE(monitored=${e.monitored})` : e.type;

export async function runProxyPath(memory: Partial<ProxyMemory>, expected: Expected[]): Promise<Set<string>> {
  const world = createScriptedWorld();
  const taken = new Set<string>();
  let transitions: string[] = [];
  const reports: ProxyEmitted[] = [];
  const log = seedLogger();
  const errors: unknown[] = [];
  const supervisor = createSupervisor({
    world,
    settings: modelSettings,
    specs: [fakeSpec(PROXY_ID)],
    memory: () => memory,
    hooks: { onReport: (r) => void reports.push(r), onError: (e) => void errors.push(e) },
    inspect: (e: InspectionEvent) => {
      if (e.type !== '@xstate.microstep' || e.actorRef === monitor) return;
      transitions.push(...(e as unknown as { _transitions: AnyTransitionDefinition[] })._transitions.map(transitionKey));
    },
  });
  const monitor = monitorActorOf(supervisor);
  if (memory.adoptPid) world.leftRunning(memory.adoptPid, PROXY_ID);
  // Started but not booted: the model may send commands before BOOT.
  monitor.start();
  const send = (type: 'START' | 'STOP' | 'RESTART' | 'ENABLE' | 'DISABLE') => expect(supervisor.command(PROXY_ID, type)).toBe(true);
  const context = () => supervisor.proxy(PROXY_ID)!.context;
  // A restart record names the attempt that began it: the last entry into `restarting`.
  let attempt: { at: number; manual: boolean } | undefined;

  async function act(event: ProxyEvent) {
    const at = () => world.clock.now();
    switch (event.type) {
      case 'BOOT':
        monitor.send({ type: 'BOOT', at: at() });
        break;
      case 'START':
      case 'STOP':
      case 'RESTART':
      case 'ENABLE':
      case 'DISABLE':
        send(event.type);
        break;
      case 'SUPERVISE':
        if (event.active && monitor.getSnapshot().matches('booting')) monitor.send({ type: 'BOOT', at: at() });
        if (event.active) supervisor.startMonitor();
        else supervisor.stopMonitor();
        break;
      case 'CONFIGURE':
        // A reload whose file toggles the proxy's own `monitor:` and agrees with the operator's monitor
        // stop or start (a reload's `enable` wins over those: test/supervisor/monitor-reload.test.ts).
        monitor.send({
          type: 'CONFIGURE',
          at: at(),
          settings: { ...modelSettings, enable: supervisor.status().running },
          monitored: { [PROXY_ID]: event.monitored },
        });
        break;
      case 'RETIRE':
        monitor.send({ type: 'REMOVE_PROXY', at: at(), id: PROXY_ID });
        break;
      case 'REPLACE':
        supervisor.replace(PROXY_ID);
        break;
      case 'SPAWNED':
        world.spawned(PROXY_ID);
        break;
      case 'SPAWN_FAILED':
        world.spawnFailed(PROXY_ID);
        break;
      case 'EXITED':
        world.exited(PROXY_ID, event.signal, event.code);
        break;
      case 'READY':
      case 'NOT_READY':
        world.ready(PROXY_ID, event.type === 'READY');
        break;
      case 'CHECK_PASSED':
      case 'CHECK_FAILED': {
        if (event.type === 'CHECK_FAILED') world.unhealthy.add(PROXY_ID);
        else world.unhealthy.delete(PROXY_ID);
        if (event.memory === MEMORY.above) world.bloated.add(PROXY_ID);
        else world.bloated.delete(PROXY_ID);
        await world.runUntil(world.timers()[0]); // the next tick probes the proxy
        break;
      }
      case 'WAKE': {
        // The wake-up is the proxy's own timer: it must be armed for the time its "why" names.
        const decision = context().decision!;
        expect(world.timers()).toContain(decision.nextAttemptAt);
        expect(decision.message).toContain(new Date(decision.nextAttemptAt!).toISOString());
        await world.runUntil(decision.nextAttemptAt!);
        break;
      }
    }
    await flush();
  }

  for (const [i, step] of expected.entries()) {
    transitions = [];
    reports.length = 0;
    const logFrom = world.log.length;
    await act(step.event);
    const where = `step ${i + 1} (${describeEvent(step.event)})`;
    expect(errors, `${where}: actor errors`).toEqual([]);
    expect(transitions, `${where}: transitions`).toEqual(step.transitions);
    for (const t of transitions) taken.add(t);
    const probes = step.event.type.startsWith('CHECK_') ? ['probe'] : [];
    expect(
      world.log.slice(logFrom).map((l) => l.effect),
      `${where}: effects`,
    ).toEqual([...probes, ...step.effects]);
    expect(reports.map(normalize), `${where}: reports`).toEqual(step.reports.map(normalize));
    for (const r of reports) {
      expect(log.check(r), `${where}: seed log fields`).toEqual([]);
      attempt = restartBegins(r) ?? attempt;
      if (r.type === 'restart_finished') expect(r.record, `${where}: restart record`).toMatchObject(attempt!);
      else
        expect(r.type === 'restart_withheld' ? r.decision.at : r.at, `${where}: ${r.type} is stamped with the clock`).toBe(
          world.clock.now(),
        );
    }
    const view = supervisor.proxy(PROXY_ID);
    if (isRetired(step.snapshot)) {
      // Retired: the monitor stopped the actor and kept its counters.
      expect(view, `${where}: retired proxy still present`).toBeUndefined();
      expect(supervisor.status().stats.total_restarts).toBe(step.snapshot.context.stats.restarts);
    } else {
      expect(view, `${where}: proxy missing`).toBeDefined();
      expect(observe(view!.state, view!.context), `${where}: state`).toEqual(observe(step.snapshot.value, step.snapshot.context));
    }
  }
  await supervisor.shutdown();
  return taken;
}
