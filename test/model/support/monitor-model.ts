// The monitor machine as its own test model. Its actions that only message the children read the
// children from `self`, which the graph's mock actor does not have: for the graph they become no-ops
// (applySettings keeps its own context update). Transitions, guards and context are unchanged, and
// the executor checks what the messages do to the real children.
import { assign, enqueueActions, type SnapshotFrom } from 'xstate';
import { createTestModel } from 'xstate/graph';
import { policyFrom, type MonitorSettings } from '../../../machines/monitor/context.ts';
import type { MonitorEvent } from '../../../machines/monitor/events.ts';
import { emptyStats } from '../../../machines/proxy/context.ts';
import { monitorMachine } from '../../../machines/monitor.machine.ts';
import { testSettings } from '../../support/harness.ts';
import { T0 } from '../../support/fake-world.ts';

export const POOL = ['p1', 'p2'];
export const monitorSettings: MonitorSettings = { ...testSettings, enable: true, check_interval: 1 };
export const monitorInput = { settings: monitorSettings, proxies: POOL.map((id) => ({ id, monitored: true })) };

const noop = () => {};
export const monitorModelMachine = monitorMachine.provide({
  actions: {
    bootProxies: noop,
    superviseProxies: noop,
    releaseProxies: noop,
    retireProxy: noop,
    applySettings: assign(({ event }) => (event.type === 'CONFIGURE' ? { settings: event.settings } : {})),
    // Spawn only (no system id: the mock system never forgets one, and re-adding a removed id would clash).
    addProxy: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'ADD_PROXY') return;
      const input = { id: event.proxy.id, policy: policyFrom(context.settings), monitored: event.proxy.monitored };
      enqueue.spawnChild('proxy', { id: event.proxy.id, input });
    }),
  },
});
type Snapshot = SnapshotFrom<typeof monitorModelMachine>;

export const presentIds = (s: Snapshot) => Object.keys(s.children).sort();

/** What the operator, the tick timer and the children can send the monitor in this state. */
export function environment(s: Snapshot): MonitorEvent[] {
  const at = s.context.lastCheckAt ?? T0; // time does not drive the monitor's decisions
  const { settings } = s.context;
  const events: MonitorEvent[] = [
    { type: 'CONFIGURE', at, settings: { ...settings, enable: !settings.enable } },
    { type: 'CONFIGURE', at, settings: { ...settings, check_interval: settings.check_interval === 1 ? 2 : 1 } },
    // A change of any other setting: the monitor passes it down and stays where it is.
    { type: 'CONFIGURE', at, settings: { ...settings, max_restarts: settings.max_restarts + 1 } },
  ];
  if (s.matches('booting')) return [{ type: 'BOOT', at }, ...events];
  events.push(s.matches('watching') ? { type: 'TICK', at } : { type: 'START', at });
  if (s.matches('watching')) events.push({ type: 'STOP', at });
  for (const id of POOL) {
    if (presentIds(s).includes(id)) events.push({ type: 'REMOVE_PROXY', at, id }, { type: 'PROXY_RETIRED', at, id, stats: emptyStats });
    else events.push({ type: 'ADD_PROXY', at, proxy: { id, monitored: true } });
  }
  return events;
}

export function serializeState(s: Snapshot): string {
  const { settings, checkRounds } = s.context;
  return JSON.stringify([s.value, settings.enable, settings.check_interval, presentIds(s), checkRounds > 0]);
}

export const monitorTestModel = () =>
  createTestModel(monitorModelMachine, {
    input: monitorInput,
    events: environment,
    filterEvents: (_s, event) => 'at' in event,
    serializeState,
  });
