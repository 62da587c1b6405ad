// The monitor: parent of one proxy actor per configured proxy (systemId = proxy id). It drives the
// check ticks, tells its children whether they are supervised, and passes runtime settings down.
// Status is not copied up: `summarize()` reads the children's snapshots when asked.
//
//   booting --BOOT--> watching | paused      watching <--START/STOP--> paused
//
// Like the proxy machine it holds no timers: the tick timer and the probes are effects provided by
// src/supervisor, and TICK comes back as an event carrying its time.
import { assign, enqueueActions, setup, stopChild, type AnyActorRef } from 'xstate';
import { initialContext, policyFrom, type MonitorContext, type MonitorInput, type ProxyEntry } from './monitor/context.ts';
import type { MonitorEvent } from './monitor/events.ts';
import type { ProxyEvent } from './proxy/events.ts';
import { proxyMachine } from './proxy.machine.ts';

type EffectArgs = { context: MonitorContext; self: AnyActorRef };

/** The monitor's effects: declared here as stubs, implemented by src/supervisor/effects.ts, which `satisfies` this. */
export interface MonitorEffects {
  /** Sends TICK at `context.nextTickAt`. */
  armTick(args: EffectArgs): void;
  cancelTick(args: EffectArgs): void;
  /** Probes the proxies `proxiesDueForCheck()` names and sends each its result. */
  checkProxies(args: EffectArgs): void;
}

const effectStubs: MonitorEffects = { armTick: () => {}, cancelTick: () => {}, checkProxies: () => {} };

export const monitorMachine = setup({
  types: {
    context: {} as MonitorContext,
    events: {} as MonitorEvent,
    input: {} as MonitorInput,
  },
  actors: { proxy: proxyMachine },
  guards: {
    monitoringOn: ({ context }) => context.settings.enable,
    // A reload's file wins over the operator's monitor stop or start; a runtime change only changes.
    turnsMonitoringOff: ({ context, event }) =>
      event.type === 'CONFIGURE' && !event.settings.enable && (context.settings.enable || isReload(event)),
    turnsMonitoringOn: ({ context, event }) =>
      event.type === 'CONFIGURE' && event.settings.enable && (!context.settings.enable || isReload(event)),
    changesCheckInterval: ({ context, event }) =>
      event.type === 'CONFIGURE' && event.settings.check_interval !== context.settings.check_interval,
  },
  actions: {
    ...effectStubs,

    spawnInitialProxies: enqueueActions(({ context, enqueue }) => {
      for (const proxy of context.initialProxies) {
        enqueue.spawnChild('proxy', { id: proxy.id, systemId: proxy.id, input: proxyInput(context, proxy) });
      }
      enqueue.assign({ initialProxies: [] });
    }),
    bootProxies: enqueueActions(({ event, self, enqueue }) => {
      for (const child of children(self)) enqueue.sendTo(child, { type: 'BOOT', at: event.at });
    }),
    superviseProxies: enqueueActions(({ event, self, enqueue }) => {
      for (const child of children(self)) enqueue.sendTo(child, { type: 'SUPERVISE', at: event.at, active: true });
    }),
    releaseProxies: enqueueActions(({ event, self, enqueue }) => {
      for (const child of children(self)) enqueue.sendTo(child, { type: 'SUPERVISE', at: event.at, active: false });
    }),
    // The operator's monitor start enables it until the next reload: a runtime change to enable:
    // false then pauses it again (the guards above compare with this). A stop leaves `enable` as it
    // is: paused on purpose is not disabled (/healthz tells them apart).
    enableMonitoring: assign(({ context }) => ({ settings: { ...context.settings, enable: true } })),
    countCheckRound: assign(({ context, event }) => ({ checkRounds: context.checkRounds + 1, lastCheckAt: event.at })),
    startInterval: assign(({ event }) => ({ intervalStartedAt: event.at })),
    // The next round is due one check interval after the current one started.
    scheduleTick: assign(({ context }) => ({ nextTickAt: context.intervalStartedAt + context.settings.check_interval * 1000 })),
    applySettings: enqueueActions(({ context, event, self, enqueue }) => {
      if (event.type !== 'CONFIGURE') return;
      const proxySettings = { ...context.proxySettings, ...event.proxySettings };
      for (const child of children(self)) {
        const { id, monitored } = child.getSnapshot().context as { id: string; monitored: boolean };
        const policy = policyFrom(event.settings, proxySettings[id]);
        enqueue.sendTo(child, { type: 'CONFIGURE', at: event.at, policy, monitored: event.monitored?.[id] ?? monitored });
      }
      enqueue.assign({ settings: event.settings, proxySettings });
    }),
    addProxy: enqueueActions(({ context, event, enqueue, self }) => {
      if (event.type !== 'ADD_PROXY') return;
      const { id } = event.proxy;
      const { [id]: _back, ...retiredStats } = context.retiredStats;
      enqueue.assign({ proxySettings: { ...context.proxySettings, [id]: event.proxy.settings ?? {} }, retiredStats });
      enqueue.spawnChild('proxy', { id, systemId: id, input: { ...proxyInput(context, event.proxy), added: true } });
      // The new child is not in our snapshot yet: address it by system id once spawned.
      const supervise: ProxyEvent = { type: 'SUPERVISE', at: event.at, active: self.getSnapshot().matches('watching') };
      const boot: ProxyEvent = { type: 'BOOT', at: event.at };
      enqueue.sendTo(({ system }) => system.get(id), supervise);
      enqueue.sendTo(({ system }) => system.get(id), boot);
    }),
    retireProxy: enqueueActions(({ event, enqueue, system }) => {
      if (event.type !== 'REMOVE_PROXY') return;
      const child = system.get(event.id);
      const retire: ProxyEvent = { type: 'RETIRE', at: event.at };
      if (child) enqueue.sendTo(child, retire);
    }),
    forgetProxy: enqueueActions(({ context, event, enqueue }) => {
      if (event.type !== 'PROXY_RETIRED') return;
      const { [event.id]: _forgotten, ...proxySettings } = context.proxySettings;
      enqueue.assign({ retiredStats: { ...context.retiredStats, [event.id]: event.stats }, proxySettings });
      enqueue(stopChild(event.id));
    }),
  },
}).createMachine({
  id: 'monitor',
  context: ({ input }) => initialContext(input),
  entry: 'spawnInitialProxies',
  initial: 'booting',
  on: {
    ADD_PROXY: { actions: 'addProxy' },
    REMOVE_PROXY: { actions: 'retireProxy' },
    PROXY_RETIRED: { actions: 'forgetProxy' },
    CONFIGURE: { actions: 'applySettings' },
  },
  states: {
    booting: {
      on: {
        // Supervised (or not) before they boot: one booted down after a crash decides its restart
        // at once, as it would have without the daemon's restart, not first "held" by the monitor.
        BOOT: [
          { guard: 'monitoringOn', target: 'watching', actions: ['superviseProxies', 'bootProxies'] },
          { target: 'paused', actions: ['releaseProxies', 'bootProxies'] },
        ],
      },
    },
    watching: {
      entry: ['startInterval', 'scheduleTick', 'armTick'],
      exit: 'cancelTick',
      on: {
        TICK: {
          actions: ['countCheckRound', 'startInterval', 'scheduleTick', 'checkProxies', 'armTick'],
        },
        STOP: { target: 'paused', actions: 'releaseProxies' },
        CONFIGURE: [
          // Release first: the new settings must not reach a proxy that is still supervised, or a
          // crashed one would restart automatically on the very change that turns monitoring off.
          { guard: 'turnsMonitoringOff', target: 'paused', actions: ['releaseProxies', 'applySettings'] },
          // A new interval counts from the last round (a round already overdue runs at once). Any
          // other change leaves the pending tick alone: a stream of changes must not postpone checks.
          { guard: 'changesCheckInterval', actions: ['applySettings', 'scheduleTick', 'cancelTick', 'armTick'] },
          { actions: 'applySettings' },
        ],
      },
    },
    // Every way in releases the proxies, every way out supervises them (in the transition, so that
    // the order with the new settings and the boot is the transition's own).
    paused: {
      on: {
        START: { target: 'watching', actions: ['enableMonitoring', 'superviseProxies'] },
        CONFIGURE: [
          { guard: 'turnsMonitoringOn', target: 'watching', actions: ['applySettings', 'superviseProxies'] },
          { actions: 'applySettings' },
        ],
      },
    },
  },
});

/** A reload names every proxy; a runtime change (PATCH, `config set`) names none. */
function isReload(event: Extract<MonitorEvent, { type: 'CONFIGURE' }>): boolean {
  return event.monitored !== undefined;
}

function children(self: AnyActorRef): AnyActorRef[] {
  return Object.values((self.getSnapshot() as { children: Record<string, AnyActorRef | undefined> }).children).filter(
    (child): child is AnyActorRef => child !== undefined,
  );
}

function proxyInput(context: MonitorContext, proxy: ProxyEntry) {
  return { id: proxy.id, policy: policyFrom(context.settings, proxy.settings), monitored: proxy.monitored, memory: proxy.memory };
}
