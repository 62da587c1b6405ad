// The proxy machine as its own test model. The graph comes from `createTestModel(proxyMachine)`;
// what this file adds is the environment: which events the world can send in each state, with
// which payload and time, and which parts of the unbounded context matter for what happens next.
import { createTestModel } from 'xstate/graph';
import type { SnapshotFrom } from 'xstate';
import { policyFrom } from '../../../machines/monitor/context.ts';
import { monitoringActive, type ProxyMemory } from '../../../machines/proxy/context.ts';
import type { ProxyEvent } from '../../../machines/proxy/events.ts';
import { decideRestart } from '../../../machines/proxy/policy.ts';
import { proxyMachine } from '../../../machines/proxy.machine.ts';
import { testSettings } from '../../support/harness.ts';
import { T0 } from '../../support/fake-world.ts';
import { statePath } from '../../../machines/monitor/status.ts';

export const PROXY_ID = 'ss-1';

/**
 * Small numbers keep the graph small: two failed checks make a crash, three restarts fill the hour.
 * `on-failure`: a kill is a crash, a clean exit a stop; both happen in the model.
 */
export const modelSettings = {
  ...testSettings,
  restart: 'on-failure' as const,
  enable: false, // the monitor boots paused; SUPERVISE is then the operator's START/STOP of it
  check_interval: 1,
  restart_cooldown: 60,
  max_restarts: 3,
  failure_threshold: 2,
  stable_uptime: 3600,
  backoff: { initial: 10, factor: 2, max: 300 },
  max_memory: '1MiB',
};
/** What the scripted world measures: a proxy within its memory limit, and one above it. */
export const MEMORY = { within: { bytes: 2 ** 19, limit: 2 ** 20 }, above: { bytes: 2 ** 21, limit: 2 ** 20 } };
export const modelPolicy = policyFrom(modelSettings);

/**
 * The seven boots the machine tells apart: fresh, stopped by the operator last run, live process to
 * adopt, stopped by the operator with its process still there (the daemon was killed during its
 * stop), its process ended while the daemon was down (a crash nobody saw), down after a crash when
 * the daemon stopped (its restart policy carries on), and that with its crashed process still there
 * (the daemon was killed while stopping it).
 */
export const boots: Record<string, Partial<ProxyMemory>> = {
  fresh: {},
  'stopped before': { wanted: 'down' },
  adopting: { adoptPid: 4242 },
  'stopped before, its process still there': { wanted: 'down', adoptPid: 4242 },
  'its process ended while the daemon was down': { lostProcess: true },
  'crashed before the daemon stopped': { carriedCrash: { kind: 'health_check_failed', reason: 'health check failed 3 times in a row' } },
  'crashed before the daemon stopped, its hung process still there': {
    carriedCrash: { kind: 'health_check_failed', reason: 'health check failed 3 times in a row' },
    adoptPid: 4242,
  },
};

export const modelInput = (memory: Partial<ProxyMemory>) => ({ id: PROXY_ID, policy: modelPolicy, monitored: true, memory });

// `reportRetired` is a sendParent: the graph traverses the machine without a parent, so it becomes a
// no-op here (the monitor model covers what the parent does with it). Nothing else is changed.
export const modelMachine = proxyMachine.provide({ actions: { reportRetired: () => {} } });
type Snapshot = SnapshotFrom<typeof proxyMachine>;

/** A retired proxy is removed by the monitor: no event reaches it any more. */
export const isRetired = (s: Snapshot) => s.context.retiring && ['stopped.retired', 'crashed.held'].includes(statePath(s.value));

/**
 * Model time. Only WAKE moves it (to the decision's next attempt); every other event happens "now",
 * the time of the last decision. The executor follows the same rule on the simulated clock, except
 * that a check waits for the next tick (at most `check_interval`, far below any cooldown or backoff).
 */
export const modelNow = (s: Snapshot) => s.context.decision?.at ?? T0;

/** What the world can send the proxy in this state (realistic events only). */
export function environment(s: Snapshot): ProxyEvent[] {
  const c = s.context;
  const at = modelNow(s);
  const where = statePath(s.value);
  if (isRetired(s)) return [];
  const events: ProxyEvent[] = [
    { type: 'START', at },
    { type: 'STOP', at },
    { type: 'RESTART', at },
    { type: 'ENABLE', at },
    { type: 'DISABLE', at },
    { type: 'CONFIGURE', at, policy: modelPolicy, monitored: !c.monitored },
  ];
  // The monitor boots its children. SUPERVISE is the operator starting or stopping the monitor
  // (which boots first if a command moved the proxy out of `unknown` before: see `delivered`).
  if (where === 'unknown') events.push({ type: 'BOOT', at });
  else events.push({ type: 'SUPERVISE', at, active: !c.supervised });
  if (!c.retiring) events.push({ type: 'RETIRE', at });
  // A reload that changes what the proxy executes; offered only where no operator setting is in
  // play, which keeps the graph small (the flag it sets is independent of them).
  const plain = c.wanted === 'up' && !c.retiring && c.override === null && c.monitored && c.supervised && !c.outdated;
  if (plain && (where.startsWith('running') || where.startsWith('crashed') || where === 'restarting.verifying'))
    events.push({ type: 'REPLACE', at });
  if (where === 'running.starting' || where === 'restarting.spawning') {
    events.push({ type: 'SPAWNED', at, pid: 1000 }, { type: 'SPAWN_FAILED', at, error: `spawn /opt/${PROXY_ID} ENOENT` });
  }
  // Stopped while the spawn was still pending: that spawn may yet fail.
  if (where === 'stopped.stopping' && c.pid === null) events.push({ type: 'SPAWN_FAILED', at, error: `spawn /opt/${PROXY_ID} ENOENT` });
  // A crash where a process runs; the end of a stop where one was killed.
  const verifying = where === 'restarting.verifying' || where === 'running.verifying';
  if (where === 'running.up' || verifying) events.push({ type: 'EXITED', at, code: null, signal: 'SIGKILL' });
  if (where === 'running.up' || verifying) events.push({ type: 'EXITED', at, code: 0, signal: null });
  if (where === 'stopped.stopping' || where === 'crashed.reaping') events.push({ type: 'EXITED', at, code: null, signal: 'SIGTERM' });
  // Checks run on ticks, only for running proxies whose monitoring is on.
  if (where === 'running.up' && monitoringActive(c)) {
    // Above the memory limit only from a passing streak: enough to reach both watchdog edges (and
    // the threshold met by a failing check first) without doubling the graph.
    for (const memory of c.checkFailures === 0 ? [MEMORY.within, MEMORY.above] : [MEMORY.within]) {
      events.push(
        { type: 'CHECK_PASSED', at, durationMs: 5, memory },
        { type: 'CHECK_FAILED', at, durationMs: 5, error: 'connection refused', memory },
      );
    }
  }
  if (verifying) events.push({ type: 'READY', at }, { type: 'NOT_READY', at, error: 'connection refused' });
  if (where === 'crashed.waiting') events.push({ type: 'WAKE', at: c.decision!.nextAttemptAt! });
  return events;
}

/** The parts of the context the guards and the environment depend on; counters and times left out. */
export function serializeState(s: Snapshot): string {
  const c = s.context;
  const verdict = decideRestart(c, c.policy, modelNow(s)).verdict;
  // Failed checks and memory strikes only matter while the process they measured runs (every way
  // back into running starts a new process, and counts from 0).
  const running = statePath(s.value).startsWith('running');
  const [failures, strikes] = running ? [c.checkFailures, c.memoryStrikes] : [0, 0];
  return JSON.stringify([
    s.value,
    c.wanted,
    c.retiring,
    c.override,
    c.monitored,
    c.supervised,
    c.restart?.manual ?? null,
    failures,
    strikes,
    verdict,
    c.outdated,
    c.restartRequested,
  ]);
}

export type Environment = (s: Snapshot) => ProxyEvent[];

export function proxyTestModel(memory: Partial<ProxyMemory>, events: Environment = environment) {
  return createTestModel(modelMachine, {
    input: modelInput(memory),
    events,
    // createTestModel offers a bare `{ type }` for handled events the environment did not list: drop them.
    filterEvents: (_s, event) => 'at' in event,
    serializeState,
  });
}

export { statePath };
