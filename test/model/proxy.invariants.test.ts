// Invariants over every state the proxy model can reach (all four boots), not only the sampled
// paths: the graph is small enough to check each of them.
import { describe, expect, it } from 'vitest';
import { monitoringActive } from '../../machines/proxy/context.ts';
import { HOUR_MS } from '../../machines/proxy/policy.ts';
import { boots, isRetired, statePath } from './support/proxy-model.ts';
import { modelEdges, reachableStates } from './support/proxy-paths.ts';

type State = ReturnType<typeof reachableStates>[number];

const invariants: Record<string, (s: State, where: string) => boolean> = {
  'a crashed proxy that should run waits for a scheduled attempt, and says when': (s, where) => {
    const c = s.context;
    if (!where.startsWith('crashed.') || where === 'crashed.reaping' || c.wanted === 'down' || c.retiring || !monitoringActive(c))
      return true;
    const d = c.decision;
    return (
      where === 'crashed.waiting' &&
      d?.verdict === 'withheld' &&
      d.nextAttemptAt! > d.at &&
      d.message.includes(new Date(d.nextAttemptAt!).toISOString())
    );
  },
  'a proxy held back is stopped, disabled or removed': (s, where) =>
    where !== 'crashed.held' || s.context.wanted === 'down' || s.context.retiring || !monitoringActive(s.context),
  'a proxy the operator stopped is not left running': (s, where) => where !== 'running.up' || s.context.wanted === 'up',
  'a removed proxy is not left running': (s, where) => where !== 'running.up' || !s.context.retiring,
  'a restart in flight is described (who asked, since when)': (s, where) => !where.startsWith('restarting.') || s.context.restart !== null,
  'restarts = successes + failures': (s) => s.context.stats.restarts === s.context.stats.successes + s.context.stats.failures,
};

describe('proxy machine: invariants in every reachable state', () => {
  const states = Object.values(boots).flatMap((memory) => reachableStates(memory));
  it.each(Object.entries(invariants))('%s', (_name, holds) => {
    const broken = states.filter((s) => !isRetired(s) && !holds(s, statePath(s.value)));
    const { wanted, retiring, supervised, override, monitored, restart, decision } = broken[0]?.context ?? {};
    const first = broken[0] && {
      state: statePath(broken[0].value),
      wanted,
      retiring,
      supervised,
      override,
      monitored,
      restart,
      verdict: decision?.verdict,
    };
    expect(first, `${broken.length} reachable states break it, e.g.`).toBeUndefined();
  });
});

// Every automatic restart the graph contains (an edge into `restarting` not asked for by the
// operator), checked against the seed's rules in plain arithmetic, independent of policy.ts.
describe('proxy machine: every automatic restart in the graph', () => {
  const edges = Object.values(boots).flatMap(modelEdges);
  const automatic = edges.filter(
    (e) =>
      !statePath(e.from.value).startsWith('restarting') &&
      statePath(e.state.value).startsWith('restarting') &&
      e.state.context.restart?.manual === false,
  );
  const rules: Record<string, (e: (typeof automatic)[number]) => boolean> = {
    'comes after the cooldown': ({ from, event, state }) =>
      from.context.lastAttemptAt === null || event.at - from.context.lastAttemptAt >= state.context.policy.cooldownMs,
    'stays under the hourly cap': ({ from, event, state }) =>
      from.context.attempts.filter((t) => t > event.at - HOUR_MS).length < state.context.policy.maxRestarts,
    'waits out the backoff': ({ event, state }) => {
      const { consecutiveFailures: n, lastFailureAt, policy } = state.context;
      return (
        n === 0 || event.at - lastFailureAt! >= Math.min(policy.backoff.maxMs, policy.backoff.initialMs * policy.backoff.factor ** (n - 1))
      );
    },
    'only for a proxy wanted up, monitored and not removed': ({ state }) =>
      state.context.wanted === 'up' && monitoringActive(state.context) && !state.context.retiring,
  };
  it('the graph has automatic restarts to check', () => expect(automatic.length).toBeGreaterThan(10));
  it.each(Object.entries(rules))('%s', (_name, holds) => {
    const broken = automatic.find((e) => !holds(e));
    expect(broken && `${statePath(broken.from.value)} --${broken.event.type}--> ${statePath(broken.state.value)}`).toBeUndefined();
  });
});
