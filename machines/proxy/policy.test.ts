// The restart policy, table by table: every blocker, and every boundary exactly at its edge.
// The machine's guards and `why` both read these functions, so these rows are what the
// daemon does and what it says.
import { describe, expect, it } from 'vitest';
import { decideRestart, heldDecision, type RestartPolicy, type RestartHistory } from './policy.ts';

const S = 1000;
const policy: RestartPolicy = {
  cooldownMs: 60 * S,
  maxRestarts: 3,
  windowMs: 3600 * S,
  backoff: { initialMs: 1 * S, factor: 2, maxMs: 8 * S },
  stableUptimeMs: 60 * S,
  failureThreshold: 3,
  startGraceMs: 5 * S,
  minUptimeMs: 1 * S,
  restart: 'always',
};
const T0 = Date.UTC(2026, 0, 1);
const fresh: RestartHistory = { attempts: [], lastAttemptAt: null, consecutiveFailures: 0, lastFailureAt: null };
const record = (r: Partial<RestartHistory>): RestartHistory => ({ ...fresh, ...r });

describe('decideRestart', () => {
  // [name, record, now (ms after T0), verdict, blocker, next attempt (ms after T0, or null)]
  const rows: Array<[string, RestartHistory, number, 'allowed' | 'withheld', string | null, number]> = [
    ['a proxy never restarted', fresh, 0, 'allowed', null, 0],
    ['one ms before the cooldown ends', record({ attempts: [0], lastAttemptAt: 0 }), 60 * S - 1, 'withheld', 'cooldown', 60 * S],
    ['exactly at the cooldown end', record({ attempts: [0], lastAttemptAt: 0 }), 60 * S, 'allowed', null, 60 * S],
    [
      // Cooldown and backoff end at the same moment: the first in the order (cooldown) is named.
      'cooldown and backoff ending together',
      record({ attempts: [0], lastAttemptAt: 0, consecutiveFailures: 1, lastFailureAt: 59 * S }),
      30 * S,
      'withheld',
      'cooldown',
      60 * S,
    ],
    [
      'at the cap, one ms before the oldest attempt leaves the window',
      record({ attempts: [0, 100 * S, 200 * S], lastAttemptAt: 200 * S }),
      3600 * S - 1,
      'withheld',
      'restart_cap',
      3600 * S,
    ],
    [
      // The window is (now - 1 h, now]: an attempt exactly one hour old no longer counts.
      'at the cap, exactly when the oldest attempt is one hour old',
      record({ attempts: [0, 100 * S, 200 * S], lastAttemptAt: 200 * S }),
      3600 * S,
      'allowed',
      null,
      3600 * S,
    ],
    ['one below the cap', record({ attempts: [0, 100 * S], lastAttemptAt: 100 * S }), 200 * S, 'allowed', null, 200 * S],
    [
      'backoff after the first failure (initial 1 s), 1 ms early',
      record({ consecutiveFailures: 1, lastFailureAt: 0 }),
      1 * S - 1,
      'withheld',
      'backoff',
      1 * S,
    ],
    [
      'backoff after the first failure, exactly at its end',
      record({ consecutiveFailures: 1, lastFailureAt: 0 }),
      1 * S,
      'allowed',
      null,
      1 * S,
    ],
    [
      'backoff grows by its factor (3 failures: 4 s)',
      record({ consecutiveFailures: 3, lastFailureAt: 0 }),
      3 * S,
      'withheld',
      'backoff',
      4 * S,
    ],
    [
      'backoff stops at its max (10 failures: 8 s)',
      record({ consecutiveFailures: 10, lastFailureAt: 0 }),
      7 * S,
      'withheld',
      'backoff',
      8 * S,
    ],
    [
      'cooldown and backoff both pending: the one that holds longest is named',
      record({ attempts: [0], lastAttemptAt: 0, consecutiveFailures: 10, lastFailureAt: 55 * S }),
      56 * S,
      'withheld',
      'backoff',
      63 * S,
    ],
    [
      'cap and cooldown both pending: the cap holds longer',
      record({ attempts: [0, 10 * S, 20 * S], lastAttemptAt: 20 * S }),
      21 * S,
      'withheld',
      'restart_cap',
      3600 * S,
    ],
  ];

  it.each(rows)('%s', (_name, r, now, verdict, blocker, next) => {
    // Rows are written in ms after T0; the policy sees epoch times.
    const shift = (t: number | null) => (t === null ? null : T0 + t);
    const epoch = {
      ...r,
      attempts: r.attempts.map((t) => T0 + t),
      lastAttemptAt: shift(r.lastAttemptAt),
      lastFailureAt: shift(r.lastFailureAt),
    };
    const decision = decideRestart(epoch, policy, T0 + now);
    expect(decision.at).toBe(T0 + now);
    expect([decision.verdict, decision.blocker, decision.nextAttemptAt! - T0]).toEqual([verdict, blocker, next]);
  });

  it('explains its inputs: window count, remaining cooldown and backoff', () => {
    const r = record({ attempts: [T0], lastAttemptAt: T0, consecutiveFailures: 2, lastFailureAt: T0 });
    const d = decideRestart(r, policy, T0 + 1 * S);
    expect(d.inputs).toEqual({
      restartsInWindow: 1,
      maxRestarts: 3,
      windowS: 3600,
      cooldownS: 60,
      cooldownRemainingMs: 59 * S,
      backoffMs: 2 * S,
      backoffRemainingMs: 1 * S,
      consecutiveFailures: 2,
    });
    expect(d.message).toContain('cooldown');
    expect(d.message).toContain(new Date(T0 + 60 * S).toISOString());
  });

  it('names the blocker in its message', () => {
    const cap = decideRestart(record({ attempts: [T0, T0 + S, T0 + 2 * S], lastAttemptAt: T0 + 2 * S }), policy, T0 + 100 * S);
    expect(cap.message).toMatch(/restart cap reached \(3\/3/);
    const backoff = decideRestart(record({ consecutiveFailures: 2, lastFailureAt: T0 }), policy, T0);
    expect(backoff.message).toMatch(/backed off after 2 restart\(s\) that failed/);
  });
});

describe('heldDecision', () => {
  it.each([
    ['proxy_disabled', 'monitoring_disabled', /`proxy-monitor enable p1`/],
    ['monitor_off', 'monitoring_disabled', /`proxy-monitor monitor start`/],
    ['stopped_by_operator', 'stopped_by_operator', /`proxy-monitor start p1`/],
  ] as const)('%s: no next attempt, whatever the deadlines, and the command that lifts it', (cause, blocker, message) => {
    const d = heldDecision(record({ attempts: [T0], lastAttemptAt: T0 }), policy, T0 + S, 'p1', cause);
    expect(d.verdict).toBe('held');
    expect(d.blocker).toBe(blocker);
    expect(d.nextAttemptAt).toBeNull();
    expect(d.message).toMatch(message);
    expect(d.inputs.cooldownRemainingMs).toBe(59 * S);
  });
});
