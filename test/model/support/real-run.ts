// Runs a model path against real processes: the supervisor over src/process and src/health, the
// demo echo server on a loopback port, the system clock. After each step that ends in a resting
// state, the real proxy must get there (generous time bounds); at the end, the real proxy must
// have taken the same transitions and reported the same things as the model, and no process of it
// may be left running.
import net from 'node:net';
import { expect } from 'vitest';
import type { AnyTransitionDefinition, InspectionEvent } from 'xstate';
import type { ProxyContext } from '../../../machines/proxy/context.ts';
import type { ProxyEmitted } from '../../../machines/proxy/events.ts';
import { createSupervisor, monitorActorOf } from '../../../src/supervisor/supervisor.ts';
import { testSettings } from '../../support/harness.ts';
import { isRetired, PROXY_ID, statePath } from './proxy-model.ts';
import type { ModelPath } from './proxy-paths.ts';
import { createPlannedWorld, echoSpec, freePort } from './real-world.ts';
import { happensByItself, planOf, RESTING } from './real-sample.ts';
import { transitionKey } from './transitions.ts';

// Short, but with the same order as the model's: a start grace below the cooldown, so a restart
// that failed its readiness is still inside the cooldown, as in the model.
export const realSettings = {
  ...testSettings,
  enable: false,
  check_interval: 1,
  health_timeout: 1,
  restart_cooldown: 8,
  max_restarts: 3,
  failure_threshold: 2,
  // Generous: a loaded 2-core machine may take seconds to start a node process.
  start_grace: 6,
  stop_timeout: 2,
  stable_uptime: 3600,
  backoff: { initial: 2, factor: 2, max: 30 },
};

/** What must agree once the proxy rests (checks run on their own here, so their counts are left out). */
const resting = (value: unknown, c: ProxyContext) => ({
  state: statePath(value),
  wanted: c.wanted,
  retiring: c.retiring,
  override: c.override,
  monitored: c.monitored,
  supervised: c.supervised,
  restarts: [c.stats.restarts, c.stats.successes, c.stats.failures],
  attempts: c.attempts.length,
  consecutiveFailures: c.consecutiveFailures,
  verdict: c.decision?.verdict ?? null,
});

/** Reports without times, durations and error texts, which real processes and probes decide. */
const coarse = (r: ProxyEmitted) =>
  r.type === 'state_change'
    ? `${r.from}->${r.to}`
    : r.type === 'restart_finished'
      ? `restart ${r.record.reason} manual=${r.record.manual} success=${r.record.success}`
      : r.type === 'restart_withheld'
        ? `${r.decision.verdict}`
        : r.type;
const spontaneousCheck = (key: string) => key.startsWith('proxy.running.up CHECK_PASSED');

async function until(what: string, condition: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

const alive = (pid: number) => {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
};

export async function runOnRealProcesses(path: ModelPath): Promise<Set<string>> {
  const [port, closedPort] = [await freePort(), await freePort()];
  const world = createPlannedWorld(planOf(path), closedPort);
  const reports: ProxyEmitted[] = [];
  const transitions: string[] = [];
  const pids = new Set<number>();
  const errors: unknown[] = [];
  const supervisor = createSupervisor({
    world,
    settings: realSettings,
    specs: [echoSpec(PROXY_ID, port)],
    hooks: {
      onReport: (r) => void reports.push(r),
      onError: (e) => void errors.push(e),
      onProcess: (_id, pid, event) => void (event === 'started' && pids.add(pid)),
    },
    inspect: (e: InspectionEvent) => {
      if (e.type !== '@xstate.microstep' || e.actorRef === monitor) return;
      transitions.push(...(e as unknown as { _transitions: AnyTransitionDefinition[] })._transitions.map(transitionKey));
    },
  });
  const monitor = monitorActorOf(supervisor);
  const view = () => supervisor.proxy(PROXY_ID);
  const context = () => view()!.context;
  monitor.start();
  let hung: number | null = null;
  try {
    let before = 'unknown';
    for (const [i, step] of path.expected.entries()) {
      const { event } = step;
      const where = `step ${i + 1} (${event.type} in ${before})`;
      if (!happensByItself(event, before)) {
        switch (event.type) {
          case 'BOOT':
            monitor.send({ type: 'BOOT', at: Date.now() });
            break;
          case 'START':
          case 'STOP':
          case 'RESTART':
          case 'ENABLE':
          case 'DISABLE':
            supervisor.command(PROXY_ID, event.type);
            break;
          case 'SUPERVISE':
            if (event.active && monitor.getSnapshot().matches('booting')) monitor.send({ type: 'BOOT', at: Date.now() });
            if (event.active) supervisor.startMonitor();
            else supervisor.stopMonitor();
            break;
          case 'CONFIGURE':
            monitor.send({
              type: 'CONFIGURE',
              at: Date.now(),
              settings: realSettings,
              monitored: { [PROXY_ID]: event.monitored },
            });
            break;
          case 'RETIRE':
            monitor.send({ type: 'REMOVE_PROXY', at: Date.now(), id: PROXY_ID });
            break;
          case 'REPLACE':
            supervisor.replace(PROXY_ID);
            break;
          case 'EXITED':
            process.kill(context().pid!, 'SIGKILL'); // a crash, from outside
            break;
          case 'CHECK_PASSED': {
            const checks = context().stats.checks;
            await until(`${where}: a passing check`, () => context().stats.checks > checks && context().lastCheck?.ok === true);
            break;
          }
          case 'CHECK_FAILED': {
            // A hang: the process stops answering (SIGSTOP) until the path has no more failed checks.
            const failures = context().checkFailures;
            if (hung === null) {
              hung = context().pid!;
              process.kill(hung, 'SIGSTOP');
            }
            await until(`${where}: a failed check`, () => view()!.phase !== 'running' || context().checkFailures > failures);
            if (path.events[i + 1]?.type !== 'CHECK_FAILED' && alive(hung)) process.kill(hung, 'SIGCONT');
            if (path.events[i + 1]?.type !== 'CHECK_FAILED') hung = null;
            break;
          }
          default:
            throw new Error(`${where}: not something the test can do`);
        }
      }
      before = statePath(step.snapshot.value);
      if (isRetired(step.snapshot)) await until(`${where}: retirement`, () => view() === undefined);
      else if (RESTING.has(before)) {
        const expected = resting(step.snapshot.value, step.snapshot.context);
        await until(`${where}: ${JSON.stringify(expected)}`, () => {
          const v = view();
          return v !== undefined && JSON.stringify(resting(v.state, v.context)) === JSON.stringify(expected);
        });
      }
    }
    const model = path.expected.flatMap((s) => s.reports);
    const modelTransitions = path.expected.flatMap((s) => s.transitions);
    expect(errors).toEqual([]);
    expect(reports.filter((r) => r.type !== 'check_finished').map(coarse)).toEqual(
      model.filter((r) => r.type !== 'check_finished').map(coarse),
    );
    expect(transitions.filter((k) => !spontaneousCheck(k))).toEqual(modelTransitions.filter((k) => !spontaneousCheck(k)));
  } finally {
    await supervisor.shutdown();
  }
  // Stopped means gone: no process of the proxy left, nothing listening on its port.
  expect([...pids].filter(alive)).toEqual([]);
  await expect(connects(port)).resolves.toBe(false);
  return new Set(transitions);
}

function connects(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port }, () => {
      socket.destroy();
      resolve(true);
    });
    socket.on('error', () => resolve(false));
  });
}
