// Builds the running system: the monitor machine with the real (or fake) world provided, one proxy
// actor per proxy, and the hooks through which logs, history and metrics hear what happens.
import { type ActorRefFrom, createActor, type AnyActorRef, type InspectionEvent, type Observer, type Subscription } from 'xstate';
import { policyFrom, type MonitorSettings, type ProxyEntry, type ProxySettings } from '../../machines/monitor/context.ts';
import { proxyViews, statePath, summarize, type ProxyView } from '../../machines/monitor/status.ts';
import { monitorMachine } from '../../machines/monitor.machine.ts';
import { initialContext, monitoringActive, type ProxyMemory, type ProxyStats } from '../../machines/proxy/context.ts';
import type { ProxyEmitted, ProxyEvent } from '../../machines/proxy/events.ts';
import { proxyMachine } from '../../machines/proxy.machine.ts';
import { PROXY_OVERRIDES } from '../config/monitor-shape.ts';
import type { ProxySpec, ProxyType } from '../proxy-spec.ts';
import { createEffects, memoryLimitOf, type EffectHooks } from './effects.ts';
import { canonicalJson, executedFingerprint, healthChanged } from './executed.ts';
import type { ProxyReport } from './reports.ts';
import type { World } from './ports.ts';

/** A proxy as the API and the inspector show it: its actor's view, its type and the settings in effect for it. */
export interface SupervisedProxy extends ProxyView {
  type: ProxyType;
  settings: Required<ProxySettings>;
  /** The settings its config entry sets itself (the rest are the monitor's). */
  ownSettings: (keyof ProxySettings)[];
}

export interface SupervisorHooks extends EffectHooks {
  /** Everything a proxy machine reports: state changes, crashes, restarts, withheld restarts, checks. */
  onReport(report: ProxyReport): void;
  /** An actor failed (a bug): the daemon logs it and keeps the processes it can. */
  onError(error: unknown): void;
}

export interface SupervisorOptions {
  world: World;
  settings: MonitorSettings;
  specs: ProxySpec[];
  /** What the store remembers of each proxy from earlier runs. */
  memory?: (id: string) => Partial<ProxyMemory> | undefined;
  /** The stored counters of every proxy earlier runs knew (those no longer configured count in the totals). */
  stats?: Record<string, ProxyStats>;
  hooks?: Partial<SupervisorHooks>;
  /** An extra inspection observer (the inspector), called for every actor event. */
  inspect?: (event: InspectionEvent) => void;
}

export type ProxyCommand = Extract<ProxyEvent['type'], 'START' | 'STOP' | 'RESTART' | 'ENABLE' | 'DISABLE'>;

/** The monitor's loop as liveness sees it: is it watching, and when did its last check round start. */
export interface MonitorLoop {
  watching: boolean;
  lastCheckAt: number | null;
}

const noop = () => {};

// The actor stays inside the supervisor; the model tests, which drive the monitor machine event by
// event, reach it through monitorActorOf().
const monitorActors = new WeakMap<object, ActorRefFrom<typeof monitorMachine>>();

/** The monitor actor itself: for the model tests only (src/ uses the supervisor's methods). */
export function monitorActorOf(supervisor: Supervisor): ActorRefFrom<typeof monitorMachine> {
  return monitorActors.get(supervisor)!;
}

export function createSupervisor(options: SupervisorOptions) {
  const { world } = options;
  const { clock } = world;
  const hooks: SupervisorHooks = {
    onReport: noop,
    onError: noop,
    onOutput: noop,
    onOutputDropped: noop,
    onKilled: noop,
    onProcess: noop,
    onCheckRound: noop,
    ...options.hooks,
  };
  // The spec of every proxy with an actor (a removed one's until its process is gone) and of every
  // configured one. `configured` is the config's ids; `waiting`, ids a reload added while a proxy it
  // (or an earlier one) removed was still stopping: they start once every removed one is gone, so
  // that neither the same id put back nor a renamed proxy starts beside the old process, which may
  // still hold its port and files.
  const specs = new Map(options.specs.map((spec) => [spec.id, spec]));
  let configured = new Set(specs.keys());
  const waiting = new Set<string>();
  // A removed proxy's spec is kept until its process is gone (settleRemoved), so its last reports still have a type.
  const typeOf = (id: string): ProxyType => specs.get(id)?.type ?? 'exec';
  // The settings in effect are the monitor's: a reload, a runtime change and the operator's monitor
  // start all reach it as events, and it keeps the one copy.
  const settings = (): MonitorSettings => actor.getSnapshot().context.settings;
  // Bumped whenever any actor's snapshot (the settings are the monitor's) or a spec changes: readers
  // that keep views of the proxies (the API's replies, the metrics) know from one number whether
  // anything moved.
  let revision = 0;
  world.prober.setConcurrency(options.settings.check_concurrency);
  // Events reach the machines first: what follows from them, the effects the machines ask for and
  // every report to the listeners, runs after the events at hand (src/later.ts), in order, and no
  // effect runs once the supervisor has shut down.
  const later = world.later ?? ((job: () => void) => job());
  let shutDown = false;
  const afterEvents = <T extends Record<string, (...args: never[]) => void>>(fns: T): T =>
    Object.fromEntries(Object.entries(fns).map(([name, fn]) => [name, (...args: never[]) => later(() => shutDown || fn(...args))])) as T;
  const heard =
    <A extends unknown[]>(hook: (...args: A) => void) =>
    (...args: A) =>
      later(() => guarded(() => hook(...args)));
  const effects = createEffects({
    ...world,
    later,
    specs,
    settings,
    hooks: {
      // A proxy's output is passed on as it is read, not queued: a proxy writing without pause
      // (under child_process nothing limits its rate) would fill the queue faster than it empties.
      onOutput: hooks.onOutput,
      onOutputDropped: hooks.onOutputDropped,
      onKilled: heard(hooks.onKilled),
      onProcess: heard(hooks.onProcess),
      onCheckRound: heard(hooks.onCheckRound),
    },
  });

  const machine = monitorMachine.provide({
    actions: afterEvents(effects.monitor),
    actors: { proxy: proxyMachine.provide({ actions: afterEvents(effects.proxy) }) },
  });

  const entry = (spec: ProxySpec): ProxyEntry => ({
    id: spec.id,
    monitored: spec.monitor,
    settings: spec.settings,
    memory: options.memory?.(spec.id),
  });

  const bump = () => {
    revision++;
  };
  // Every proxy actor's reports are heard from the moment it is created (before its first event),
  // and each of its snapshots counts in `revision`.
  const hearProxy = (proxy: AnyActorRef) => {
    proxy.on('*', (report: ProxyEmitted) => {
      const typed = { ...report, proxyType: typeOf(report.proxyId) };
      later(() => guarded(() => hooks.onReport(typed)));
    });
    // With `error` (ignored here): an observer without it would make xstate report the actor's
    // errors as unhandled; they reach the monitor as before.
    proxy.subscribe({ next: bump, error: noop, complete: bump });
  };
  // XState tells of an actor created later (ADD_PROXY) only to an inspection observer, and while one
  // is attached it copies every inspection event of every actor for it (5 % of an idle daemon's
  // thread, profiled): this one is attached from an ADD_PROXY's sending until the actors it adds
  // have been heard (sent from an observer of the monitor, an event is processed after the send
  // returns, so the observer cannot be taken off when the send returns).
  let adding = 0;
  let hearing: Subscription | undefined;
  const hear: Observer<InspectionEvent> = {
    next: (event) => {
      if (event.type !== '@xstate.actor' || event.actorRef === actor) return;
      hearProxy(event.actorRef as AnyActorRef);
      if (--adding > 0) return;
      hearing?.unsubscribe();
      hearing = undefined;
    },
  };
  const actor = createActor(machine, {
    input: { settings: options.settings, proxies: options.specs.map(entry), retired: options.stats },
    clock,
    ...(options.inspect && { inspect: options.inspect }),
  });
  // The configured proxies' actors are created with the monitor's (its initial state spawns them),
  // and start with it: heard from now on, before any of them has reported.
  for (const proxy of Object.values(actor.getSnapshot().children)) hearProxy(proxy as AnyActorRef);
  actor.subscribe({
    next: () => {
      bump();
      guarded(settleRemoved);
    },
    error: (error) => hooks.onError(error),
  });
  const addProxy = (id: string) => {
    adding++;
    hearing ??= actor.system.inspect(hear);
    actor.send({ type: 'ADD_PROXY', at: clock.now(), proxy: entry(specs.get(id)!) });
  };

  /** Once a removed proxy's actor is gone (its process exited): forget it; once all are, start the waiting ones. */
  function settleRemoved() {
    if (specs.size === configured.size && waiting.size === 0) return;
    const actors = proxyViews(actor.getSnapshot());
    const live = new Set(actors.map((v) => v.id));
    for (const id of specs.keys()) if (!live.has(id) && !configured.has(id)) specs.delete(id);
    if (stoppingIds(actors).length > 0) return;
    for (const id of waiting) addProxy(id);
    waiting.clear();
    revision++;
  }

  function guarded(fn: () => void) {
    try {
      fn();
    } catch (error) {
      hooks.onError(error);
    }
  }

  const supervised = (v: ProxyView, inherited: Required<ProxySettings>): SupervisedProxy => {
    const own = specs.get(v.id)?.settings ?? {};
    return { ...v, type: typeOf(v.id), settings: { ...inherited, ...own }, ownSettings: Object.keys(own) as (keyof ProxySettings)[] };
  };
  const inherited = () => Object.fromEntries(PROXY_OVERRIDES.map((key) => [key, settings()[key]])) as Required<ProxySettings>;
  /** Proxies still stopping that the waiting ones wait for: removed ones, and the old actor of one put back. */
  function stoppingIds(live: ProxyView[]): string[] {
    return live.filter((v) => !configured.has(v.id) || waiting.has(v.id)).map((v) => v.id);
  }
  /**
   * A proxy a reload added that waits for removed ones to stop has no actor yet: it is shown as
   * `unknown` meanwhile, and the operator's commands on it go to the store (the API persists them),
   * where its actor reads them when it is created: a stop holds, an enable or disable applies.
   */
  function waitingViews(live: ProxyView[]): ProxyView[] {
    const liveIds = new Set(live.map((v) => v.id));
    const stopping = stoppingIds(live);
    return [...waiting].flatMap((id) => {
      const spec = specs.get(id);
      if (!spec || liveIds.has(id)) return []; // the same id put back: its old actor is what shows
      const context = initialContext({
        id,
        policy: policyFrom(settings(), spec.settings),
        monitored: spec.monitor,
        memory: options.memory?.(id),
        added: true,
      });
      const explanation =
        context.wanted === 'down'
          ? 'added to the configuration, and stopped by the operator before it started'
          : `added to the configuration: starts once the process of ${stopping.join(', ')} (removed) has ended`;
      // A command on it changes what it shows (its intent, in the store): readers' views are redone.
      const supervised = actor.getSnapshot().matches('watching');
      return [{ id, send: bump, phase: 'unknown' as const, state: 'unknown', context: { ...context, supervised, explanation } }];
    });
  }
  const allViews = () => {
    const live = proxyViews(actor.getSnapshot());
    return waiting.size === 0 ? live : [...live, ...waitingViews(live)];
  };
  const views = (): SupervisedProxy[] => {
    const defaults = inherited();
    return allViews().map((v) => supervised(v, defaults));
  };
  const view = (id: string): SupervisedProxy | undefined => {
    const found = allViews().find((v) => v.id === id);
    return found && supervised(found, inherited());
  };

  /**
   * How `next` differs from the configured proxies. Only a change to what is executed restarts
   * (executed.ts); any other (its own settings, its check, `monitor:`) applies in place.
   */
  function changesTo(next: ProxySpec[]) {
    const nextIds = new Set(next.map((spec) => spec.id));
    const changes = { added: [] as string[], removed: [] as string[], changed: [] as string[], reconfigured: [] as string[] };
    for (const id of configured) if (!nextIds.has(id)) changes.removed.push(id);
    for (const spec of next) {
      const running = specs.get(spec.id);
      if (!configured.has(spec.id)) changes.added.push(spec.id);
      else if (executedFingerprint(running!) !== executedFingerprint(spec)) changes.changed.push(spec.id);
      else if (canonicalJson(running) !== canonicalJson(spec)) changes.reconfigured.push(spec.id);
    }
    return changes;
  }

  function configure(next: MonitorSettings) {
    world.prober.setConcurrency(next.check_concurrency);
    actor.send({ type: 'CONFIGURE', at: clock.now(), settings: next });
  }

  const supervisor = {
    start() {
      actor.start();
      actor.send({ type: 'BOOT', at: clock.now() });
    },
    status: () => ({ ...summarize(actor.getSnapshot(), allViews()), config: settings() }),
    /** Changes when any proxy's or the monitor's state or context does, or the settings do (compare with !==). */
    revision: () => revision,
    /** The monitor's state as a path: "watching", "paused", ... */
    monitorState: () => statePath(actor.getSnapshot().value),
    /** Calls `listener` now and on every change of the monitor; returns the unsubscribe. */
    watchMonitor(listener: (loop: MonitorLoop) => void): () => void {
      const note = (snapshot: ReturnType<typeof actor.getSnapshot>) =>
        listener({ watching: snapshot.matches('watching'), lastCheckAt: snapshot.context.lastCheckAt });
      note(actor.getSnapshot());
      // An observer without `error` would make xstate report every actor error as unhandled (and
      // Node crash); the supervisor's own observer reports errors, this one ignores them.
      const subscription = actor.subscribe({ next: note, error: noop });
      return () => subscription.unsubscribe();
    },
    /** Every inspection event of every actor (the inspector feed), until unsubscribed. */
    inspect: (observer: (event: InspectionEvent) => void): Subscription => actor.system.inspect(observer),
    /** Is this actor (from an inspection event) the monitor? */
    isMonitor: (ref: AnyActorRef) => ref === actor,
    proxies: views,
    /** Each proxy actor's state and context, without the settings in effect (cheaper, for readers of state only). */
    states: () => proxyViews(actor.getSnapshot()),
    proxy: view,
    settings,
    /** The proxy's configured type (shadowsocks, exec, ...): the spec itself holds secrets. */
    typeOf,
    /** What each running proxy uses now (memory, CPU), by id; empty when the driver cannot measure. */
    usage: () => effects.usage(),
    /** The memory watchdog's limit for a proxy in bytes; null: none. */
    memoryLimit(id: string): number | null {
      const spec = specs.get(id);
      return spec ? memoryLimitOf(spec, settings()) : null;
    },
    /** What a proxy is started from (its command, account, limits), as configured. */
    spec: (id: string): ProxySpec | undefined => specs.get(id),
    /** Send an operator command to one proxy; false when there is no such proxy. */
    command(id: string, type: ProxyCommand): boolean {
      const target = view(id);
      if (!target) return false;
      target.send({ type, at: clock.now() });
      return true;
    },
    /** Resume the monitor. Off in the config, it is on now: `enable` says so (until the next reload). */
    startMonitor: () => actor.send({ type: 'START', at: clock.now() }),
    stopMonitor: () => actor.send({ type: 'STOP', at: clock.now() }),
    configure,
    /** What the proxy executes changed: replace its process; `why` says where the change came from. */
    replace(id: string, why?: string) {
      view(id)?.send({ type: 'REPLACE', at: clock.now(), ...(why !== undefined && { reason: why }) });
    },
    /** The proxies a reconcile to `next` would start or restart (added, or what they execute changed), unless stopped by the operator. */
    wouldStart(next: ProxySpec[]): string[] {
      const { added, changed } = changesTo(next);
      const wantedUp = (id: string) => (view(id)?.context.wanted ?? options.memory?.(id)?.wanted) !== 'down';
      return [...added, ...changed].filter(wantedUp);
    },
    /**
     * Bring the proxies in line with a new configuration: added ones start, removed ones stop, ones
     * whose executed spec changed (executed.ts) are replaced; any other change (health check,
     * `monitor:`, own settings) applies in place from the next check (`reconfigured`), except that a
     * proxy crashed by its health check is replaced when that check changed. Unchanged ones keep
     * their process and counters.
     */
    reconcile(next: ProxySpec[], nextSettings: MonitorSettings) {
      const changes = changesTo(next);
      for (const id of changes.removed) {
        waiting.delete(id);
        actor.send({ type: 'REMOVE_PROXY', at: clock.now(), id });
      }
      const monitored: Record<string, boolean> = {};
      const proxySettings: Record<string, ProxySettings> = {};
      for (const spec of next) {
        monitored[spec.id] = spec.monitor;
        proxySettings[spec.id] = spec.settings ?? {};
      }
      world.prober.setConcurrency(nextSettings.check_concurrency);
      actor.send({ type: 'CONFIGURE', at: clock.now(), settings: nextSettings, monitored, proxySettings });
      configured = new Set(next.map((spec) => spec.id));
      // A proxy crashed by its health check, whose check changed (fixed): its restart is not left to
      // wait out the backoff of the old check's failures (unless its restarts are held).
      const failedByItsCheck = (id: string) => {
        const proxy = view(id);
        const context = proxy?.phase === 'crashed' ? proxy.context : undefined;
        return context?.crashKind === 'health_check_failed' && context.wanted === 'up' && monitoringActive(context);
      };
      const recheck = next.filter(
        (spec) => changes.reconfigured.includes(spec.id) && failedByItsCheck(spec.id) && healthChanged(specs.get(spec.id), spec),
      );
      for (const spec of next) specs.set(spec.id, spec);
      for (const spec of recheck) this.replace(spec.id, 'restart: its health check changed in the configuration');
      for (const id of changes.added) waiting.add(id);
      bump();
      for (const id of changes.changed) this.replace(id);
      settleRemoved();
      return changes;
    },
    /**
     * Stop supervising and stop every proxy process (TERM, grace, KILL to each group). Operator
     * intent (wanted up/down) is not touched, so the next start brings the same proxies back.
     * `stopProcesses: false` leaves them running (another daemon took them over).
     */
    async shutdown({ stopProcesses = true } = {}): Promise<void> {
      actor.stop();
      shutDown = true;
      effects.dispose();
      if (stopProcesses) {
        const { handles, timeoutMs } = effects.stopEveryProcess();
        await world.driver.stopAll(handles, timeoutMs);
      }
      // The reports still queued reach the listeners before the daemon closes its store.
      world.later?.flush();
    },
  };
  monitorActors.set(supervisor, actor);
  return supervisor;
}

export type Supervisor = ReturnType<typeof createSupervisor>;
