// Runs one monitor model path against the real supervisor on the scripted world (spawns answered at
// once, stopped processes exit only when the path says their proxy retired) and checks each step.
import { expect } from 'vitest';
import type { AnyTransitionDefinition, InspectionEvent } from 'xstate';
import { policyFrom, type MonitorSettings } from '../../../machines/monitor/context.ts';
import type { MonitorEvent } from '../../../machines/monitor/events.ts';
import type { ProxyStats } from '../../../machines/proxy/context.ts';
import { createSupervisor, monitorActorOf } from '../../../src/supervisor/supervisor.ts';
import { fakeSpec } from '../../support/fake-world.ts';
import { monitorSettings, POOL, presentIds } from './monitor-model.ts';
import type { MonitorExpected } from './monitor-replay.ts';
import { statePath } from './proxy-model.ts';
import { flush } from '../../support/fake-world.ts';
import { createScriptedWorld } from './scripted-world.ts';
import { transitionKey } from './transitions.ts';

export const describeMonitorEvent = (e: MonitorEvent) =>
  e.type === 'CONFIGURE'
    ? `CONFIGURE(enable=${e.settings.enable},interval=${e.settings.check_interval})`
    : e.type === 'ADD_PROXY'
      ? `ADD_PROXY(${e.proxy.id})`
      : 'id' in e
        ? `${e.type}(${e.id})`
        : e.type;

export async function runMonitorPath(expected: MonitorExpected[]): Promise<Set<string>> {
  const world = createScriptedWorld();
  world.auto.spawn = true;
  const taken = new Set<string>();
  const errors: unknown[] = [];
  const rounds: number[] = [];
  let transitions: string[] = [];
  const supervisor = createSupervisor({
    world,
    settings: monitorSettings,
    specs: POOL.map((id) => fakeSpec(id)),
    hooks: { onError: (e) => void errors.push(e), onCheckRound: (_ms, checked) => void rounds.push(checked) },
    inspect: (e: InspectionEvent) => {
      if (e.type !== '@xstate.microstep' || e.actorRef !== monitor) return;
      transitions.push(...(e as unknown as { _transitions: AnyTransitionDefinition[] })._transitions.map(transitionKey));
    },
  });
  const monitor = monitorActorOf(supervisor);
  monitor.start();
  let settings: MonitorSettings = monitorSettings;
  // The counters of each removed proxy, until it is added back (its actor has them then).
  let retiredStats: Record<string, ProxyStats> = {};
  const send = (event: MonitorEvent) => monitor.send({ ...event, at: world.clock.now() } as MonitorEvent);

  async function act(event: MonitorEvent) {
    switch (event.type) {
      case 'TICK':
        await world.runUntil(world.timers()[0]);
        break;
      case 'START':
        supervisor.startMonitor();
        break;
      case 'STOP':
        supervisor.stopMonitor();
        break;
      case 'CONFIGURE':
        supervisor.configure(event.settings);
        settings = event.settings;
        break;
      case 'PROXY_RETIRED': {
        // The child says it retired once its process is gone; remove it first if the path did not.
        if (!world.killPending(event.id)) send({ type: 'REMOVE_PROXY', at: 0, id: event.id });
        await flush();
        retiredStats = { ...retiredStats, [event.id]: supervisor.proxy(event.id)!.context.stats };
        world.exited(event.id, 'SIGTERM');
        break;
      }
      case 'ADD_PROXY': {
        const { [event.proxy.id]: _back, ...rest } = retiredStats;
        retiredStats = rest;
        send(event);
        break;
      }
      default:
        send(event);
    }
    await flush();
  }

  for (const [i, step] of expected.entries()) {
    transitions = [];
    rounds.length = 0;
    const logFrom = world.log.length;
    const removingBefore = POOL.filter((id) => world.killPending(id));
    await act(step.event);
    const where = `step ${i + 1} (${describeMonitorEvent(step.event)})`;
    const effects = world.log.slice(logFrom);
    const model = step.snapshot;
    const snapshot = monitor.getSnapshot();
    const ids = presentIds(model);
    const watching = model.matches('watching');
    expect(errors, `${where}: actor errors`).toEqual([]);
    expect(transitions, `${where}: transitions`).toEqual(step.transitions);
    for (const t of transitions) taken.add(t);
    expect(snapshot.value, `${where}: state`).toEqual(model.value);
    expect(snapshot.context.settings, `${where}: settings`).toEqual(model.context.settings);
    expect(snapshot.context.checkRounds, `${where}: check rounds`).toBe(model.context.checkRounds);
    expect(
      supervisor
        .proxies()
        .map((p) => p.id)
        .sort(),
      `${where}: proxies`,
    ).toEqual(ids);
    expect(snapshot.context.retiredStats, `${where}: counters of retired proxies kept`).toEqual(retiredStats);

    // The tick timer: armed exactly one interval ahead when armed now, pending only while watching.
    const due = world.timers();
    if (step.effects.includes('armTick')) expect(due, `${where}: tick armed`).toEqual([world.clock.now() + settings.check_interval * 1000]);
    if (!watching) expect(due, `${where}: no tick while not watching`).toEqual([]);
    // A check round probes every proxy it watches, once.
    const probes = effects
      .filter((e) => e.effect === 'probe')
      .map((e) => e.id)
      .sort();
    const removing = ids.filter((id) => world.killPending(id));
    expect(probes, `${where}: probes`).toEqual(step.effects.includes('checkProxies') ? ids.filter((id) => !removing.includes(id)) : []);
    if (step.effects.includes('checkProxies')) expect(rounds, `${where}: round reported`).toEqual([probes.length]);
    // What the monitor told its children.
    for (const view of supervisor.proxies()) {
      const booted = !model.matches('booting') || step.delivered.some((e) => e.type === 'ADD_PROXY' && e.proxy.id === view.id);
      const expectedState = removing.includes(view.id) ? 'stopped.stopping' : booted ? 'running.up' : 'unknown';
      expect(statePath(view.state), `${where}: ${view.id} state`).toBe(expectedState);
      expect(view.context.supervised, `${where}: ${view.id} supervised`).toBe(watching);
      expect(view.context.policy, `${where}: ${view.id} policy`).toEqual(policyFrom(settings));
    }
    const spawned = effects
      .filter((e) => e.effect === 'spawn')
      .map((e) => e.id)
      .sort();
    if (step.event.type === 'BOOT') expect(spawned, `${where}: spawns`).toEqual(ids);
    if (step.event.type === 'ADD_PROXY') expect(spawned, `${where}: spawns`).toEqual([step.event.proxy.id]);
    if (step.event.type === 'REMOVE_PROXY' && !removingBefore.includes(step.event.id)) {
      expect(
        effects.map((e) => `${e.effect} ${e.id}`),
        `${where}: kill`,
      ).toEqual([`kill ${step.event.id}`]);
    }
  }
  await supervisor.shutdown();
  return taken;
}
