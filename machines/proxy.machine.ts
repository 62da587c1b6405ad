// One proxy's lifecycle: the design document's five states, its eight edges, and one more.
//
//   unknown -> running | stopped     running -> crashed | stopped     stopped -> running
//   crashed -> restarting            restarting -> running | crashed
//   crashed -> stopped: the operator stopped a crashed proxy. `stopped` is the design document's "normal stop",
//   and a proxy the operator stopped is not a crash waiting for a restart.
//
// The machine holds no timers and does no I/O. Its effects (spawn, kill, readiness probe, wake-up
// timer) are declared here as stubs and provided by src/supervisor; their results come back as
// events carrying the time they happened. Sub-states only refine a top-level state.
import { type AnyActorRef, and, assign, emit, or, raise, sendParent, setup } from 'xstate';
import * as update from './proxy/actions.ts';
import { countersOf, initialContext, currentRestart, type ProxyContext, type ProxyInput, type ProxyPhase } from './proxy/context.ts';
import type { ProxyEmitted, ProxyEvent } from './proxy/events.ts';
import { guards } from './proxy/guards.ts';

/** Each context update of proxy/actions.ts as the `assign` action of the same name. */
const assignUpdate = (fn: update.Update) =>
  assign<ProxyContext, ProxyEvent, undefined, ProxyEvent, never>(({ context, event }) => fn(context, event));
function assignEach<T extends Record<string, update.Update>>(updates: T) {
  return Object.fromEntries(Object.entries(updates).map(([name, fn]) => [name, assignUpdate(fn)])) as {
    [K in keyof T]: ReturnType<typeof assignUpdate>;
  };
}

/** The settings events, from the monitor and the operator: applied in every state (`crashed` decides again after). */
const onSettings = <T extends object>(transition: T) => ({
  ENABLE: { ...transition, actions: 'applySettings' as const },
  DISABLE: { ...transition, actions: 'applySettings' as const },
  SUPERVISE: { ...transition, actions: 'applySettings' as const },
  CONFIGURE: { ...transition, actions: 'applySettings' as const },
});

/** Entry of a top-level state: report the change (from the previous phase), then remember it. */
const enter = (phase: ProxyPhase) =>
  [
    { type: 'announcePhase', params: { phase } },
    { type: 'enterPhase', params: { phase } },
  ] as const;

/**
 * A restart's new process, verified (a crashed proxy's restart, or one of a live proxy by the
 * operator or a config change): READY comes once a probe passed and the process has been up for
 * min_uptime; an exit before that is a failed restart, so a crash loop backs off.
 */
const verifyingRestart = {
  entry: {
    type: 'verifyReadiness',
    params: ({ context, event }: { context: ProxyContext; event: ProxyEvent }) => ({
      deadline: event.at + context.policy.startGraceMs,
      notBefore: event.at + context.policy.minUptimeMs,
    }),
  },
  exit: 'cancelReadiness',
  // Stopped or removed by the operator (now, or while the process was being spawned): the restart
  // ends here, unverified, and its process is stopped without waiting for a verdict, through
  // running (the process runs) to stopped, as the document's graph goes.
  always: { guard: or(['wantedDown', 'retiring']), target: '#proxy.running.up', actions: ['restartCancelled', 'reportRestart'] },
  on: {
    READY: { target: '#proxy.running.up', actions: ['restartSucceeded', 'reportRestart'] },
    NOT_READY: { target: '#proxy.crashed.reaping', actions: ['restartFailed', 'reportRestart', 'replaceIfOutdated', 'stopProcess'] },
  },
} as const;

/** Checks that read the proxy's memory above max_memory, failure_threshold in a row, crash it, passed or not. */
const memoryCrash = {
  guard: 'memoryLimitReached',
  target: '#proxy.crashed.reaping',
  actions: ['noteMemoryCrash', 'recordCheck', 'reportCheck', 'reportCrash', 'stopProcess'],
} as const;

/**
 * While a restart is in flight, the operator's commands wait for its outcome. An exit fails it; a
 * clean one under `restart: on-failure` then leaves the proxy stopped, as at any other time (from
 * `restarting`, through `crashed`: the document's graph has no restarting -> stopped).
 */
const duringRestart = (cleanExitTo: '#proxy.stopped' | '#proxy.crashed') =>
  ({
    EXITED: [
      { guard: 'exitWantsNoRestart', target: cleanExitTo, actions: ['restartFailed', 'reportRestart', 'exitedCleanly'] },
      { target: '#proxy.crashed', actions: ['restartFailed', 'reportRestart', 'replaceIfOutdated'] },
    ],
    START: { actions: 'wantUp' },
    RESTART: { actions: 'requestRestartAfterThis' },
    REPLACE: { actions: 'markOutdated' },
    STOP: { actions: 'wantDownDuringRestart' },
    RETIRE: { actions: 'retireDuringRestart' },
  }) as const;

type EffectArgs = { context: ProxyContext; self: AnyActorRef };

/** The machine's effects: declared here as stubs, implemented by src/supervisor/effects.ts, which `satisfies` this. */
export interface ProxyEffects {
  spawnProcess(args: EffectArgs): void;
  adoptProcess(args: EffectArgs): void;
  /** TERM to its group, then KILL after the proxy's stop_timeout. */
  stopProcess(args: EffectArgs): void;
  /** READY once a probe passed and not before `notBefore` (min_uptime); NOT_READY at the deadline. */
  verifyReadiness(args: EffectArgs, params: { deadline: number; notBefore: number }): void;
  cancelReadiness(args: EffectArgs): void;
  /** WAKE at `at`. */
  armWakeTimer(args: EffectArgs, params: { at: number }): void;
  cancelWakeTimer(args: EffectArgs): void;
}

const effectStubs: ProxyEffects = {
  spawnProcess: () => {},
  adoptProcess: () => {},
  stopProcess: () => {},
  verifyReadiness: () => {},
  cancelReadiness: () => {},
  armWakeTimer: () => {},
  cancelWakeTimer: () => {},
};

/** What every report carries: whose it is, and its counters as this step leaves them. */
const reportOf = (context: ProxyContext) => ({ proxyId: context.id, counters: countersOf(context) });

export const proxyMachine = setup({
  types: {
    context: {} as ProxyContext,
    events: {} as ProxyEvent,
    input: {} as ProxyInput,
    emitted: {} as ProxyEmitted,
  },
  guards,
  actions: {
    ...effectStubs,

    // Context updates.
    ...assignEach(update),

    // Its process ended while the daemon was down: that exit, as if seen now (from running, as the
    // document's graph goes: there is no unknown -> crashed).
    exitedWhileAway: raise(({ event }) => ({ type: 'EXITED' as const, at: event.at, code: null, signal: null, whileAway: true })),

    // Reports to the outside world.
    enterPhase: assign((_, params: { phase: ProxyPhase }) => ({ phase: params.phase })),
    announcePhase: emit(({ context, event }, params: { phase: ProxyPhase }) => ({
      type: 'state_change' as const,
      ...reportOf(context),
      at: event.at,
      from: context.phase,
      to: params.phase,
      reason: context.explanation,
      ...(params.phase === 'crashed' && { crash: { kind: context.crashKind, reason: context.crashReason } }),
      // Booted down after a crash: both steps of its way back to crashed (unknown -> running ->
      // crashed) say so, so that an alert on crashes need not count one per daemon start.
      ...(event.type === 'BOOT' && (context.carriedCrash !== null || params.phase === 'crashed') && { carriedOver: true as const }),
    })),
    reportCrash: emit(({ context, event }) => ({
      type: 'crash_detected' as const,
      ...reportOf(context),
      at: event.at,
      reason: context.explanation,
      exitCode: event.type === 'EXITED' ? event.code : null,
      signal: event.type === 'EXITED' ? event.signal : null,
    })),
    reportRestartStarted: emit(({ context, event }) => {
      const { reason, manual } = currentRestart(context, event.at);
      return { type: 'restart_started' as const, ...reportOf(context), at: event.at, reason, manual };
    }),
    reportRestart: emit(({ context }) => ({ type: 'restart_finished' as const, ...reportOf(context), record: context.lastRestart! })),
    reportWithheld: emit(({ context }) => ({ type: 'restart_withheld' as const, ...reportOf(context), decision: context.decision! })),
    reportCheck: emit(({ context }) => ({ type: 'check_finished' as const, ...reportOf(context), ...context.lastCheck! })),
    announceRetired: emit(({ context, event }) => ({ type: 'retired' as const, ...reportOf(context), at: event.at })),
    reportRetired: sendParent(({ context, event }) => ({
      type: 'PROXY_RETIRED' as const,
      at: event.at,
      id: context.id,
      stats: context.stats,
    })),
  },
}).createMachine({
  id: 'proxy',
  context: ({ input }) => initialContext(input),
  initial: 'unknown',
  on: onSettings({}),
  states: {
    unknown: {
      on: {
        BOOT: [
          // Stopped by the operator, but its process outlived the last run (the daemon was killed
          // during its stop): stopped here as its own, so that a start waits for its end.
          {
            guard: and(['wantedDown', 'hasProcessToAdopt']),
            target: 'stopped.stopping',
            actions: ['processStarted', 'adoptProcess', 'stopProcess'],
          },
          { guard: 'wantedDown', target: 'stopped' },
          { guard: 'hasProcessToAdopt', target: 'running.up', actions: ['processStarted', 'adoptProcess'] },
          { guard: 'processLostWhileAway', target: 'running.up', actions: 'exitedWhileAway' },
          // Down after a crash when the daemon stopped: crashed again at once (running.up), not started.
          { guard: 'crashCarriedOver', target: 'running.up' },
          { target: 'running' },
        ],
        START: { target: 'running', actions: 'startByOperator' },
        STOP: { target: 'stopped', actions: 'wantDown' },
        RETIRE: { target: 'stopped', actions: 'retire' },
      },
    },

    running: {
      entry: enter('running'),
      initial: 'starting',
      states: {
        starting: {
          entry: ['spawning', 'spawnProcess'],
          on: {
            // The new process of a restart of a live one (operator, config change) is verified like
            // a crashed one's; a first start is up at once (its checks take over).
            SPAWNED: [
              { guard: 'restartInFlight', target: 'verifying', actions: 'processStarted' },
              { target: 'up', actions: ['processStarted', 'beginStartGrace'] },
            ],
            SPAWN_FAILED: [
              {
                guard: 'restartInFlight',
                target: '#proxy.crashed',
                actions: ['restartFailed', 'reportRestart', 'noteCrash', 'reportCrash', 'replaceIfOutdated'],
              },
              { target: '#proxy.crashed', actions: ['noteCrash', 'reportCrash'] },
            ],
          },
        },
        verifying: { ...verifyingRestart, on: { ...verifyingRestart.on, ...duringRestart('#proxy.stopped') } },
        up: {
          always: [
            // Booted down after a crash (unknown.BOOT): back to crashed, through running as the
            // document's graph goes, where its restart policy decides; its crashed process adopted
            // (the daemon died while stopping it) is stopped first.
            { guard: and(['crashCarriedOver', 'hasProcess']), target: '#proxy.crashed.reaping', actions: ['resumeCrash', 'stopProcess'] },
            { guard: 'crashCarriedOver', target: '#proxy.crashed', actions: 'resumeCrash' },
            // Stopped or removed while a restart was being verified (cut short, `verifying`):
            // its process runs, and is stopped now.
            { guard: or(['wantedDown', 'retiring']), target: '#proxy.stopped.stopping', actions: 'stopProcess' },
            // Its config changed while that restart ran the old one: replace it now.
            { guard: 'outdated', target: '#proxy.stopped.stopping', actions: ['beginReplacement', 'reportRestartStarted', 'stopProcess'] },
            // Restarted by the operator while that restart ran: restart the process it started.
            {
              guard: 'restartRequested',
              target: '#proxy.stopped.stopping',
              actions: ['beginOperatorRestart', 'reportRestartStarted', 'stopProcess'],
            },
          ],
          on: {
            CHECK_PASSED: [memoryCrash, { actions: ['recordCheck', 'reportCheck'] }],
            CHECK_FAILED: [
              {
                guard: 'failureThresholdReached',
                target: '#proxy.crashed.reaping',
                actions: ['noteCrash', 'recordCheck', 'reportCheck', 'reportCrash', 'stopProcess'],
              },
              memoryCrash,
              { actions: ['recordCheck', 'reportCheck'] },
            ],
          },
        },
      },
      on: {
        EXITED: [
          { guard: 'exitWantsNoRestart', target: 'stopped', actions: 'exitedCleanly' },
          { target: 'crashed', actions: ['noteCrash', 'reportCrash'] },
        ],
        STOP: { target: 'stopped.stopping', actions: ['wantDown', 'stopProcess'] },
        // The restart is reported as it begins (its history record is in flight from now: a daemon
        // killed before its outcome leaves it failed, as interrupted, not unrecorded).
        RESTART: { target: 'stopped.stopping', actions: ['beginOperatorRestart', 'reportRestartStarted', 'stopProcess'] },
        REPLACE: { target: 'stopped.stopping', actions: ['beginReplacement', 'reportRestartStarted', 'stopProcess'] },
        RETIRE: { target: 'stopped.stopping', actions: ['retire', 'stopProcess'] },
      },
    },

    stopped: {
      entry: enter('stopped'),
      initial: 'down',
      states: {
        stopping: {
          on: {
            EXITED: { target: 'down', actions: 'processGone' },
            // Stopped while its spawn was pending, and the spawn failed: there is nothing to wait for.
            SPAWN_FAILED: { target: 'down', actions: 'processGone' },
          },
        },
        down: {
          always: [
            { guard: 'retiring', target: 'retired' },
            { guard: 'wantedUp', target: '#proxy.running' },
          ],
        },
        retired: { entry: ['announceRetired', 'reportRetired'] },
      },
      on: {
        START: { actions: 'startByOperator' },
        RESTART: { actions: 'wantRestart' },
        // A restart of a live process, stopped or removed while its old process ends: its record
        // (in flight since it began) is finished as cut short, not left for the next daemon start.
        STOP: [
          { guard: 'restartInFlight', actions: ['wantDownDuringRestart', 'restartCancelled', 'reportRestart'] },
          { actions: 'wantDown' },
        ],
        RETIRE: [
          { guard: 'restartInFlight', actions: ['retireDuringRestart', 'restartCancelled', 'reportRestart'] },
          { actions: 'retire' },
        ],
      },
    },

    crashed: {
      entry: enter('crashed'),
      initial: 'deciding',
      states: {
        // A hung or unready process was sent SIGTERM: wait for its exit before spawning again.
        reaping: {
          on: {
            EXITED: { target: 'deciding', actions: 'processGone' },
            START: { actions: 'requestManualRestart' },
            RESTART: { actions: 'requestManualRestart' },
            REPLACE: { guard: 'wantedUp', actions: 'requestReplacement' },
            STOP: { actions: 'wantDown' },
            RETIRE: { actions: 'retire' },
            // Not back to deciding: the process is still to be reaped.
            ...onSettings({}),
          },
        },
        deciding: {
          always: [
            // A clean exit under on-failure that failed a restart (duringRestart): stopped, not retried.
            { guard: and(['wantedDown', 'exitWantsNoRestart']), target: '#proxy.stopped' },
            { guard: 'retiring', target: 'held', actions: ['announceRetired', 'reportRetired'] },
            { guard: 'operatorAskedRestart', target: '#proxy.restarting', actions: 'beginManualRestart' },
            // Stopped by the operator: the process is gone (reaping waited for it), so this is a
            // normal stop, not a crash that waits. `why` still tells why no restart follows.
            { guard: 'wantedDown', target: '#proxy.stopped', actions: 'recordHeld' },
            { guard: 'monitoringInactive', target: 'held', actions: ['recordHeld', 'reportWithheld'] },
            {
              guard: and(['cooldownElapsed', 'underRestartCap', 'backoffElapsed']),
              target: '#proxy.restarting',
              actions: 'beginAutomaticRestart',
            },
            { target: 'waiting', actions: ['recordWithheld', 'reportWithheld'] },
          ],
        },
        waiting: {
          entry: { type: 'armWakeTimer', params: ({ context }) => ({ at: context.decision?.nextAttemptAt ?? 0 }) },
          exit: 'cancelWakeTimer',
          on: { WAKE: 'deciding' },
        },
        // Monitoring is off (the monitor paused, or the proxy disabled): no automatic restart until
        // that changes. Also where a crashed proxy removed from the configuration ends.
        held: {},
      },
      // Anything that may change the decision runs it again (a restart may become due at once).
      on: {
        START: { target: '.deciding', actions: 'requestManualRestart' },
        RESTART: { target: '.deciding', actions: 'requestManualRestart' },
        REPLACE: { guard: 'wantedUp', target: '.deciding', actions: 'requestReplacement' },
        STOP: { target: '.deciding', actions: 'wantDown' },
        RETIRE: { target: '.deciding', actions: 'retire' },
        ...onSettings({ target: '.deciding' }),
      },
    },

    restarting: {
      // The restart is reported (and so committed to the history) before the state change is.
      entry: ['reportRestartStarted', ...enter('restarting'), 'spawning', 'spawnProcess'],
      initial: 'spawning',
      states: {
        spawning: {
          on: {
            SPAWNED: { target: 'verifying', actions: 'processStarted' },
            SPAWN_FAILED: { target: '#proxy.crashed', actions: ['restartFailed', 'reportRestart', 'replaceIfOutdated'] },
          },
        },
        verifying: verifyingRestart,
      },
      on: duringRestart('#proxy.crashed'),
    },
  },
});
