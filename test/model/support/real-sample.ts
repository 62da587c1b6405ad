// Which model paths can run against real processes, and what the world must do for them. With real
// processes the test controls only some events (commands, kill -9, a hang); the others (spawn result,
// readiness, exit after a stop, wake-up) happen by themselves. A path qualifies when each event it
// controls comes in a resting state, and each event it does not control comes where it happens by itself.
import type { ProxyEvent } from '../../../machines/proxy/events.ts';
import { environment, isRetired, MEMORY, statePath } from './proxy-model.ts';
import { replay } from './proxy-replay.ts';
import type { ModelPath } from './proxy-paths.ts';
import type { Plan } from './real-world.ts';

export const RESTING = new Set(['unknown', 'running.up', 'stopped.down', 'crashed.waiting', 'crashed.held']);
const BY_ITSELF: Partial<Record<ProxyEvent['type'], string[]>> = {
  SPAWNED: ['running.starting', 'restarting.spawning'],
  SPAWN_FAILED: ['running.starting', 'restarting.spawning'],
  READY: ['restarting.verifying', 'running.verifying'],
  NOT_READY: ['restarting.verifying', 'running.verifying'],
  EXITED: ['stopped.stopping', 'crashed.reaping'],
  WAKE: ['crashed.waiting'],
};

/**
 * The environment as far as a test can steer real processes: what it controls only while the proxy
 * rests, and during a hang only the next failed check (the process stays stopped until then). The
 * demo server does not bloat: the memory watchdog has its own real-process test (test/process/).
 */
export function realEnvironment(s: Parameters<typeof environment>[0]): ProxyEvent[] {
  const before = statePath(s.value);
  return environment(s).filter(
    (e) =>
      // A crash is a kill from outside; a clean exit (restart: on-failure) has its own daemon test.
      !(e.type === 'EXITED' && e.code === 0) &&
      !('memory' in e && e.memory === MEMORY.above) &&
      (happensByItself(e, before) || (RESTING.has(before) && (s.context.checkFailures === 0 || e.type === 'CHECK_FAILED'))),
  );
}

export const happensByItself = (event: ProxyEvent, before: string) => BY_ITSELF[event.type]?.includes(before) ?? false;

export function realizable(path: ModelPath): boolean {
  let before = 'unknown';
  let failures = 0;
  return path.expected.every((step, i) => {
    const ok =
      happensByItself(step.event, before) ||
      (RESTING.has(before) &&
        // A hang is kept up from one failed check to the next; checks pass in between otherwise.
        !(step.event.type === 'CHECK_FAILED' && failures > 0 && path.events[i - 1]?.type !== 'CHECK_FAILED'));
    before = statePath(step.snapshot.value);
    failures = step.snapshot.context.checkFailures;
    return ok;
  });
}

/** How each spawn and readiness wait along the path turns out, in order. */
export function planOf(path: ModelPath): Plan {
  const plan: Plan = { spawns: [], ready: [] };
  const outcome = (from: number, good: string, bad: string) =>
    path.events.slice(from).find((e) => e.type === good || e.type === bad)?.type !== bad;
  path.expected.forEach((step, i) => {
    for (const effect of step.effects) {
      if (effect === 'spawn') plan.spawns.push(outcome(i + 1, 'SPAWNED', 'SPAWN_FAILED'));
      if (effect === 'ready?') plan.ready.push(outcome(i + 1, 'READY', 'NOT_READY'));
    }
  });
  return plan;
}

/** The path, continued the way the world goes by itself (spawn works, proxy ready, process exits) until the proxy rests. */
export function untilResting(path: ModelPath): ModelPath {
  const events = [...path.events];
  let expected = path.expected;
  for (;;) {
    const last = expected.at(-1)!.snapshot;
    const where = statePath(last.value);
    const at = last.context.decision?.at ?? 0;
    if (RESTING.has(where) || isRetired(last)) return { ...path, events, expected };
    const next: Partial<Record<string, ProxyEvent>> = {
      'running.starting': { type: 'SPAWNED', at, pid: 1000 },
      'restarting.spawning': { type: 'SPAWNED', at, pid: 1000 },
      'restarting.verifying': { type: 'READY', at },
      'running.verifying': { type: 'READY', at },
      'stopped.stopping': { type: 'EXITED', at, code: null, signal: 'SIGTERM' },
      'crashed.reaping': { type: 'EXITED', at, code: null, signal: 'SIGTERM' },
    };
    events.push(next[where]!);
    expected = replay(path.memory, events);
  }
}

/** A few realizable paths, continued until the proxy rests, that together take the most transitions. */
export function sample(paths: ModelPath[], count: number): ModelPath[] {
  const candidates = paths.map(untilResting).filter(realizable);
  const chosen: ModelPath[] = [];
  const covered = new Set<string>();
  // New transitions count, and kinds of event not yet sampled (a crash, a hang, a wake-up...) count more.
  const fresh = (keys: string[]) => new Set(keys.filter((k) => !covered.has(k))).size;
  const kind = (e: ProxyEvent) => (e.type === 'EXITED' ? `EXITED ${e.signal}` : e.type); // a crash is not the end of a stop
  const gain = (p: ModelPath) => fresh(p.expected.flatMap((s) => s.transitions)) + 5 * fresh(p.events.map(kind));
  while (chosen.length < count) {
    const best = candidates.filter((p) => !chosen.includes(p)).sort((a, b) => gain(b) - gain(a) || b.events.length - a.events.length)[0];
    if (!best || gain(best) === 0) break;
    chosen.push(best);
    for (const s of best.expected) for (const k of [...s.transitions, kind(s.event)]) covered.add(k);
  }
  return chosen;
}
