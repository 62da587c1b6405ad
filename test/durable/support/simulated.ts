// One run of the daemon on a SimulatedClock with the real SQLite store: what the daemon wires (memory
// from the store, reports recorded before anyone else hears them), with fake processes.
import { afterEach } from 'vitest';
import type { MonitorSettings } from '../../../machines/monitor/context.ts';
import type { ProxyEmitted } from '../../../machines/proxy/events.ts';
import { HOUR_MS } from '../../../machines/proxy/policy.ts';
import { createRecorder } from '../../../src/store/recorder.ts';
import { openStore } from '../../../src/store/sqlite.ts';
import type { Store } from '../../../src/store/types.ts';
import { createSupervisor, type Supervisor } from '../../../src/supervisor/supervisor.ts';
import { createFakeWorld, fakeSpec, flush, type FakeWorld } from '../../support/fake-world.ts';
import { statePath, testSettings } from '../../support/harness.ts';

const retention = { maxAgeMs: 24 * HOUR_MS, maxRecords: 1000 };

type Run = { supervisor: Supervisor; store: Store; world: FakeWorld };
const running = new Set<Run>();
afterEach(async () => {
  for (const run of running) await stop(run);
});

async function stop(run: Run) {
  running.delete(run);
  await run.world.until(run.supervisor.shutdown());
  run.store.close();
}

/** One run of the daemon: its store opened in `stateDir`, its clock starting at `at`. */
export async function bootSimulated(stateDir: string, at: number, options: { settings?: Partial<MonitorSettings>; ids?: string[] } = {}) {
  const world = createFakeWorld();
  world.clock.set(at);
  const store = openStore(stateDir, retention);
  store.finishInterruptedRestarts();
  const reports: ProxyEmitted[] = [];
  const { record } = createRecorder(store, (text) => text);
  const supervisor = createSupervisor({
    world,
    settings: { ...testSettings, ...options.settings },
    specs: (options.ids ?? ['ss-1']).map((id) => fakeSpec(id)),
    memory: (id) => store.memory(id, world.clock.now()),
    hooks: {
      onReport: (report) => {
        record(report);
        reports.push(report);
      },
    },
  });
  supervisor.start();
  await flush();
  const run = { supervisor, store, world };
  running.add(run);
  const view = (id = 'ss-1') => supervisor.proxy(id)!;
  return {
    world,
    store,
    supervisor,
    view,
    state: (id = 'ss-1') => statePath(view(id).state),
    restarts: () => reports.filter((r) => r.type === 'restart_finished'),
    stop: () => stop(run),
  };
}
