// Regression tests for the five operator-workflow defects the daemon model was built to catch
// (issue 11), each on the supervisor as the daemon builds it (fake world, simulated clock) or on
// the CLI. The daemon model (daemon.model.test.ts) covers the same ground with real processes.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { HealthSpec } from '../../src/proxy-spec.ts';
import { fakeSpec } from '../support/fake-world.ts';
import { startHarness, testSettings } from '../support/harness.ts';
import { CLI, ROOT } from '../support/daemon.ts';

describe('reload', () => {
  it('starts a proxy that was removed, reloaded, put back and reloaded again', async () => {
    const h = await startHarness({ specs: [fakeSpec('a'), fakeSpec('b')] });
    expect(h.supervisor.reconcile([fakeSpec('a')], testSettings)).toMatchObject({ removed: ['b'] });
    await h.settle();
    expect(h.supervisor.proxy('b')).toBeUndefined();
    expect(h.world.running.has('b')).toBe(false);

    expect(h.supervisor.reconcile([fakeSpec('a'), fakeSpec('b')], testSettings)).toMatchObject({ added: ['b'], changed: [] });
    await h.settle();
    expect(h.state('b')).toBe('running.up');
    expect(h.world.running.has('b')).toBe(true);
  });

  it('puts back a proxy re-added while its process is still stopping, once that process is gone', async () => {
    const h = await startHarness({ specs: [fakeSpec('a'), fakeSpec('b')] });
    h.world.stubborn.add('b'); // ignores SIGTERM: gone only after stop_timeout (10 s)
    h.supervisor.reconcile([fakeSpec('a')], testSettings);
    await h.settle();
    expect(h.state('b')).toBe('stopped.stopping');
    expect(h.supervisor.reconcile([fakeSpec('a'), fakeSpec('b')], testSettings)).toMatchObject({ added: ['b'] });
    await h.advance(10_000);
    expect(h.state('b')).toBe('running.up');
    expect(h.world.log.filter((l) => l === 'spawn b')).toHaveLength(2);
  });

  it('applies a change of health: or monitor: in place, keeping the process', async () => {
    const probed: HealthSpec[] = [];
    const h = await startHarness({ specs: [fakeSpec('a')], settings: { check_interval: 1 } });
    const probe = h.world.prober.probe;
    h.world.prober.probe = (spec, target) => {
      probed.push(spec);
      return probe(spec, target);
    };
    const pid = h.proxy('a').context.pid;
    const health: HealthSpec = { kind: 'http', url: 'http://127.0.0.1:1/health' };
    const changes = h.supervisor.reconcile([fakeSpec('a', { health, monitor: false })], testSettings);
    expect(changes).toMatchObject({ added: [], removed: [], changed: [] });
    await h.settle();
    expect(h.proxy('a').context.pid).toBe(pid);
    expect(h.proxy('a').context.monitored).toBe(false);

    h.supervisor.reconcile([fakeSpec('a', { health })], { ...testSettings, check_interval: 1 });
    await h.advance(1_000);
    expect(h.proxy('a').context.pid).toBe(pid);
    expect(probed.at(-1)).toEqual(health);
    expect(h.world.log.filter((l) => l === 'spawn a')).toHaveLength(1);
  });

  it('restarts a proxy whose command changed, and records it as a config change', async () => {
    const h = await startHarness({ specs: [fakeSpec('a')] });
    const pid = h.proxy('a').context.pid;
    expect(h.supervisor.reconcile([fakeSpec('a', { args: ['--new'] })], testSettings)).toMatchObject({ changed: ['a'] });
    await h.settle();
    expect(h.state('a')).toBe('running.up');
    expect(h.proxy('a').context.pid).not.toBe(pid);
    expect(h.reportsOf('restart_finished').map((r) => r.record)).toMatchObject([{ manual: true, reason: 'config_changed', success: true }]);
  });
});

describe('manual restart of a running proxy', () => {
  it('is a restart: history record (manual, operator), stats, duration, cooldown; not counted against the cap', async () => {
    const h = await startHarness({ specs: [fakeSpec('a')] });
    const before = h.proxy('a').context.pid;
    const at = h.world.clock.now();
    h.supervisor.command('a', 'RESTART');
    await h.settle();
    expect(h.state('a')).toBe('running.up');
    expect(h.proxy('a').context.pid).not.toBe(before);
    expect(h.reportsOf('restart_finished').map((r) => r.record)).toEqual([
      { at, reason: 'operator', manual: true, success: true, durationMs: 0 },
    ]);
    const { stats, attempts, lastAttemptAt } = h.proxy('a').context;
    expect(stats).toMatchObject({ restarts: 1, successes: 1, failures: 0 });
    expect(attempts).toEqual([]);
    expect(lastAttemptAt).toBe(at);
    expect(h.supervisor.status().stats).toMatchObject({ total_restarts: 1, success_restarts: 1 });
  });
});

describe('min_uptime', () => {
  it('counts a restarted process that exits before min_uptime as a failed restart, so backoff grows', async () => {
    const settings = { restart_cooldown: 0, min_uptime: 1, backoff: { initial: 2, factor: 2, max: 60 } };
    const h = await startHarness({ specs: [fakeSpec('a')], settings });
    h.world.crash('a');
    await h.settle(); // restarted and spawned at once (cooldown 0)
    await h.advance(500);
    expect(h.state('a')).toBe('restarting.verifying');
    h.world.crash('a');
    await h.settle();
    const [record] = h.reportsOf('restart_finished').map((r) => r.record);
    expect(record).toMatchObject({ success: false, reason: 'exited' });
    expect(record.error).toMatch(/^exited after 0\.5 s, before min_uptime 1 s/);
    expect(h.proxy('a').context.consecutiveFailures).toBe(1);
    expect(h.state('a')).toBe('crashed.waiting');
    expect(h.proxy('a').context.decision).toMatchObject({ blocker: 'backoff', nextAttemptAt: h.world.clock.now() + 2_000 });

    // The next attempt, after the backoff, stays up past min_uptime: a success, backoff over.
    await h.advance(2_000);
    expect(h.state('a')).toBe('restarting.verifying');
    await h.advance(1_000);
    expect(h.state('a')).toBe('running.up');
    expect(h.reportsOf('restart_finished').map((r) => r.record.success)).toEqual([false, true]);
  });
});

describe('YAML failures', () => {
  const bomb = ['a: &a ["x","x","x","x","x","x","x","x","x"]'];
  for (const n of ['b', 'c', 'd', 'e', 'f', 'g', 'h', 'i']) {
    const prev = bomb.at(-1)!.split(':')[0];
    bomb.push(`${n}: &${n} [*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev},*${prev}]`);
  }

  for (const command of ['validate', 'run']) {
    it(`${command}: an alias bomb is exit 2 and one line naming the file`, () => {
      const file = join(mkdtempSync(join(tmpdir(), 'pm-yaml-')), 'config.yaml');
      writeFileSync(file, `${bomb.join('\n')}\nproxy: {}\n`);
      const args = command === 'run' ? ['run', '--config', file] : ['validate', file];
      const result = spawnSync(process.execPath, [CLI, ...args], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
      expect(result.status).toBe(2);
      const lines = result.stderr.trim().split('\n');
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(new RegExp(`^${file}: invalid YAML: .*alias`));
    });
  }
});
