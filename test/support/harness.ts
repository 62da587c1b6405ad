// The supervisor as the daemon builds it, on a fake world: tests drive it with events and time.
import type { MonitorSettings } from '../../machines/monitor/context.ts';
import type { ProxyMemory, ProxyStats } from '../../machines/proxy/context.ts';
import type { ProxyEmitted } from '../../machines/proxy/events.ts';
import { createSupervisor, type SupervisorHooks } from '../../src/supervisor/supervisor.ts';
import type { ProxySpec } from '../../src/proxy-spec.ts';
import { createFakeWorld, fakeSpec, flush, type FakeWorld } from './fake-world.ts';
import { statePath } from '../../machines/monitor/status.ts';

export const testSettings: MonitorSettings = {
  enable: true,
  check_interval: 30,
  restart_cooldown: 60,
  max_restarts: 10,
  health_timeout: 5,
  check_concurrency: 8,
  failure_threshold: 3,
  start_grace: 5,
  min_uptime: 0,
  stop_timeout: 10,
  stable_uptime: 60,
  restart: 'always',
  backoff: { initial: 1, factor: 2, max: 300 },
};

export interface HarnessOptions {
  settings?: Partial<MonitorSettings>;
  specs?: ProxySpec[];
  memory?: Record<string, Partial<ProxyMemory>>;
  /** The stored counters of every proxy (the store's `stats()`). */
  stats?: Record<string, ProxyStats>;
  /** More listeners (metrics, store), called after the harness has recorded the report. */
  hooks?: Partial<SupervisorHooks>;
  /** Changes to the world before the supervisor is built (a test watching what it is asked to do). */
  world?: (world: FakeWorld) => void;
}

export async function startHarness(options: HarnessOptions = {}) {
  const world = createFakeWorld();
  options.world?.(world);
  const reports: ProxyEmitted[] = [];
  const errors: unknown[] = [];
  const settings = { ...testSettings, ...options.settings };
  const supervisor = createSupervisor({
    world,
    settings,
    specs: options.specs ?? [fakeSpec('ss-1')],
    memory: (id) => options.memory?.[id],
    stats: options.stats,
    hooks: {
      ...options.hooks,
      onReport: (r) => {
        reports.push(r);
        options.hooks?.onReport?.(r);
      },
      onError: (e) => errors.push(e),
    },
  });
  supervisor.start();
  await flush();
  const proxy = (id = 'ss-1') => {
    const view = supervisor.proxy(id);
    if (!view) throw new Error(`no proxy ${id}`);
    return view;
  };
  return {
    world,
    supervisor,
    reports,
    errors,
    proxy,
    /** The proxy's state as a dotted path, e.g. `crashed.waiting`. */
    state: (id = 'ss-1') => statePath(proxy(id).state),
    phase: (id = 'ss-1') => proxy(id).phase,
    reportsOf: <T extends ProxyEmitted['type']>(type: T) => reports.filter((r): r is Extract<ProxyEmitted, { type: T }> => r.type === type),
    advance: (ms: number) => world.advance(ms),
    /** Shut the supervisor down, letting simulated time pass for stubborn processes' stop timeout. */
    shutdown: () => world.until(supervisor.shutdown()),
    settle: flush,
  };
}

export { statePath };
