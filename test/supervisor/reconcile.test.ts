// A reload on the fake world, as the daemon applies it (supervisor.reconcile): added proxies start,
// removed ones stop and are forgotten once their process is gone, a proxy put back (or renamed) while
// the old process is still stopping starts after it, and only a change to what is executed restarts.
import { describe, expect, it } from 'vitest';
import { policyFrom } from '../../machines/monitor/context.ts';
import type { ProxyMemory } from '../../machines/proxy/context.ts';
import { fakeSpec } from '../support/fake-world.ts';
import { startHarness, testSettings } from '../support/harness.ts';

const count = (log: string[], line: string) => log.filter((l) => l === line).length;

describe('reconcile', () => {
  it("restarts a crashed proxy whose health check changed at once, not after the old check failures' backoff", async () => {
    const settings = { ...testSettings, check_interval: 1, failure_threshold: 1, restart_cooldown: 0, min_uptime: 0 };
    const h = await startHarness({ settings, specs: [fakeSpec('ss-1'), fakeSpec('other')] });
    h.world.unhealthy.add('ss-1');
    h.world.unhealthy.add('other');
    await h.advance(8_000); // fails its check after every restart: backed off
    expect(h.state('ss-1')).toBe('crashed.waiting');
    expect(h.proxy('ss-1').context.decision?.blocker).toBe('backoff');
    h.world.unhealthy.delete('ss-1');
    h.world.unhealthy.delete('other');
    const fixed = fakeSpec('ss-1', { health: { kind: 'process' } });
    const changes = h.supervisor.reconcile([fixed, fakeSpec('other', { monitor: true, settings: { stop_timeout: 5 } })], settings);
    await h.settle();
    expect(changes.reconfigured).toEqual(['ss-1', 'other']);
    expect(h.state('ss-1')).toBe('running.up'); // restarted at once
    expect(h.reportsOf('restart_finished').at(-1)!.record).toMatchObject({ reason: 'config_changed', success: true });
    expect(h.state('other')).toBe('crashed.waiting'); // its check did not change: its backoff holds

    // Crashed by an exit, or held (monitoring disabled): a changed check restarts nothing.
    h.world.crash('ss-1');
    h.supervisor.command('other', 'DISABLE');
    await h.settle();
    const [exitedBefore, otherBefore] = [h.state('ss-1'), h.state('other')];
    h.supervisor.reconcile(
      [fakeSpec('ss-1', { health: { kind: 'exec', command: ['true'] } }), fakeSpec('other', { health: { kind: 'process' } })],
      settings,
    );
    await h.settle();
    expect([h.state('ss-1'), h.state('other')]).toEqual([exitedBefore, otherBefore]);
  });

  it('starts an added proxy, stops a removed one, replaces a changed one and leaves the rest alone', async () => {
    const h = await startHarness({ specs: [fakeSpec('kept'), fakeSpec('changed'), fakeSpec('removed')] });
    expect(h.supervisor.proxies().map((p) => p.id)).toEqual(['kept', 'changed', 'removed']);
    const keptPid = h.proxy('kept').context.pid;

    const changes = h.supervisor.reconcile(
      [fakeSpec('kept'), fakeSpec('changed', { args: ['-v'] }), fakeSpec('added', { type: 'trojan' })],
      testSettings,
    );
    await h.advance(1_000);

    expect(changes).toEqual({ added: ['added'], removed: ['removed'], changed: ['changed'], reconfigured: [] });
    expect(h.world.log).toContain('kill removed');
    expect(count(h.world.log, 'spawn changed')).toBe(2);
    expect(count(h.world.log, 'spawn kept')).toBe(1);
    expect(h.proxy('kept').context.pid).toBe(keptPid);
    expect(h.phase('added')).toBe('running');
    expect(h.supervisor.typeOf('added')).toBe('trojan');
    // The removed proxy is forgotten once its process is gone: no actor, no spec.
    expect(
      h.supervisor
        .proxies()
        .map((p) => p.id)
        .sort(),
    ).toEqual(['added', 'changed', 'kept']);
    expect(h.supervisor.proxy('removed')).toBeUndefined();
    expect(h.supervisor.spec('removed')).toBeUndefined();
    expect(h.supervisor.spec('changed')?.args).toEqual(['-v']);
    expect(h.errors).toEqual([]);
  });

  it('applies a proxy’s own settings and monitoring in place, without a restart', async () => {
    const h = await startHarness({ specs: [fakeSpec('a'), fakeSpec('b', { settings: { stop_timeout: 3 } })] });
    h.supervisor.reconcile(
      [fakeSpec('a', { settings: { failure_threshold: 1, stop_timeout: 2 } }), fakeSpec('b', { monitor: false })],
      testSettings,
    );
    await h.advance(100);
    expect(count(h.world.log, 'spawn a')).toBe(1);
    expect(count(h.world.log, 'spawn b')).toBe(1);
    expect(h.proxy('a').context.policy).toEqual(policyFrom(testSettings, { failure_threshold: 1, stop_timeout: 2 }));
    // b's own stop_timeout is gone with the entry's key: the monitor's applies again.
    expect(h.proxy('b').context.policy).toEqual(policyFrom(testSettings, {}));
    expect(h.proxy('b').context.monitored).toBe(false);
    expect(h.supervisor.proxy('a')?.settings.stop_timeout).toBe(2);
    expect(h.supervisor.proxy('a')?.ownSettings.sort()).toEqual(['failure_threshold', 'stop_timeout']);
  });

  it('holds each proxy to its own hourly cap and cooldown', async () => {
    const settings = { ...testSettings, restart_cooldown: 0, max_restarts: 10, min_uptime: 0 };
    const h = await startHarness({
      settings,
      specs: [
        fakeSpec('capped', { settings: { max_restarts: 1 } }),
        fakeSpec('free'),
        fakeSpec('slow', { settings: { restart_cooldown: 600 } }),
      ],
    });
    await h.advance(100);
    for (let i = 0; i < 2; i++) {
      for (const id of ['capped', 'free', 'slow']) h.world.crash(id);
      await h.advance(61_000); // past the stable_uptime: the backoff starts over
    }
    expect(h.state('capped')).toBe('crashed.waiting');
    expect(h.proxy('capped').context.decision?.blocker).toBe('restart_cap');
    expect(h.state('slow')).toBe('crashed.waiting');
    expect(h.proxy('slow').context.decision?.blocker).toBe('cooldown');
    expect(h.state('free')).toBe('running.up');
  });

  it('reports nothing for an entry that only lists its env in another order', async () => {
    const h = await startHarness({ specs: [fakeSpec('a', { env: { A: '1', B: '2' }, settings: { stop_timeout: 3, restart: 'always' } })] });
    const changes = h.supervisor.reconcile(
      [fakeSpec('a', { env: { B: '2', A: '1' }, settings: { restart: 'always', stop_timeout: 3 } })],
      testSettings,
    );
    expect(changes).toEqual({ added: [], removed: [], changed: [], reconfigured: [] });
    await h.advance(100);
    expect(count(h.world.log, 'spawn a')).toBe(1);
  });

  it('a proxy removed and put back while its old process is still stopping returns once that process is gone', async () => {
    const h = await startHarness({ specs: [fakeSpec('other'), fakeSpec('slow', { settings: { stop_timeout: 5 } })] });
    h.world.stubborn.add('slow');
    h.supervisor.reconcile([fakeSpec('other')], testSettings);
    await h.advance(1_000);
    expect(h.world.running.has('slow')).toBe(true);

    const back = fakeSpec('slow', { type: 'v2ray', settings: { stop_timeout: 5 } });
    expect(h.supervisor.reconcile([fakeSpec('other'), back], testSettings).added).toEqual(['slow']);
    await h.advance(1_000);
    // Still the old process, still stopping: no second one beside it.
    expect(count(h.world.log, 'spawn slow')).toBe(1);

    await h.advance(4_000);
    expect(h.world.log).toContain('exit slow SIGKILL');
    expect(count(h.world.log, 'spawn slow')).toBe(2);
    expect(h.phase('slow')).toBe('running');
    expect(h.supervisor.typeOf('slow')).toBe('v2ray');
    // The returned proxy's new actor is heard like any other: its start is reported.
    const started = h.reportsOf('state_change').filter((r) => r.proxyId === 'slow' && r.to === 'running');
    expect(started).toHaveLength(2);
    expect(h.errors).toEqual([]);
  });

  it('a renamed proxy starts once the old entry’s process is gone, not beside it (it may hold the port)', async () => {
    const h = await startHarness({ specs: [fakeSpec('other'), fakeSpec('old-name', { settings: { stop_timeout: 5 } })] });
    h.world.stubborn.add('old-name');
    const changes = h.supervisor.reconcile([fakeSpec('other'), fakeSpec('new-name')], testSettings);
    expect(changes).toMatchObject({ added: ['new-name'], removed: ['old-name'] });
    await h.advance(1_000);
    expect(count(h.world.log, 'spawn new-name')).toBe(0); // the old process still runs: TERM ignored
    await h.advance(4_000);
    expect(h.world.log).toContain('exit old-name SIGKILL');
    expect(count(h.world.log, 'spawn new-name')).toBe(1);
    expect(h.world.log.indexOf('spawn new-name')).toBeGreaterThan(h.world.log.indexOf('exit old-name SIGKILL'));
    expect(h.phase('new-name')).toBe('running');
    // With nothing stopping, an added proxy starts at once.
    h.supervisor.reconcile([fakeSpec('other'), fakeSpec('new-name'), fakeSpec('third')], testSettings);
    await h.settle();
    expect(count(h.world.log, 'spawn third')).toBe(1);
    expect(h.errors).toEqual([]);
  });

  it('a proxy added while a removed one is stopping is shown meanwhile (unknown), and a stop of it holds', async () => {
    // What the store holds: the API persists an operator's stop there, and the actor reads it when created.
    const memory: Record<string, Partial<ProxyMemory>> = {};
    const h = await startHarness({ specs: [fakeSpec('old-name', { settings: { stop_timeout: 5 } })], memory });
    h.world.stubborn.add('old-name');
    h.supervisor.reconcile([fakeSpec('new-name'), fakeSpec('kept-up')], testSettings);
    await h.advance(1_000);
    const waiting = h.supervisor.proxy('new-name');
    expect(waiting).toMatchObject({ phase: 'unknown', context: { wanted: 'up', supervised: true } });
    expect(waiting!.context.explanation).toBe('added to the configuration: starts once the process of old-name (removed) has ended');
    expect(h.supervisor.proxies().map((v) => v.id)).toEqual(['old-name', 'new-name', 'kept-up']);
    expect(h.supervisor.status().status_count.unknown).toBe(2);

    const before = h.supervisor.revision();
    memory['new-name'] = { wanted: 'down' };
    expect(h.supervisor.command('new-name', 'STOP')).toBe(true);
    expect(h.supervisor.revision()).toBeGreaterThan(before); // cached replies are redone
    expect(h.supervisor.proxy('new-name')!.context.wanted).toBe('down');

    await h.advance(4_500);
    expect(h.world.log).toContain('exit old-name SIGKILL');
    expect(h.state('new-name')).toBe('stopped.down');
    expect(count(h.world.log, 'spawn new-name')).toBe(0);
    expect(h.phase('kept-up')).toBe('running');
    expect(h.errors).toEqual([]);
  });

  it('a removed proxy’s last reports still carry its type', async () => {
    const h = await startHarness({ specs: [fakeSpec('keep'), fakeSpec('gone', { type: 'snell' })] });
    h.supervisor.reconcile([fakeSpec('keep')], testSettings);
    await h.advance(1_000);
    const last = h.reports.filter((r) => r.proxyId === 'gone').at(-1) as { proxyType?: string } | undefined;
    expect(last?.proxyType).toBe('snell');
    expect(h.errors).toEqual([]);
  });
});

describe('the supervisor’s other entry points', () => {
  it('command: true for a known proxy, false for an unknown one', async () => {
    const h = await startHarness({ specs: [fakeSpec('a')] });
    expect(h.supervisor.command('nope', 'STOP')).toBe(false);
    expect(h.supervisor.command('a', 'STOP')).toBe(true);
    await h.advance(100);
    expect(h.phase('a')).toBe('stopped');
  });

  it('replace: restarts the proxy with the reason given; an unknown id is ignored', async () => {
    const h = await startHarness({ specs: [fakeSpec('a')] });
    h.supervisor.replace('nope', 'config changed');
    h.supervisor.replace('a', 'its command changed');
    await h.advance(100);
    expect(count(h.world.log, 'spawn a')).toBe(2);
    const reasons = h
      .reportsOf('state_change')
      .filter((r) => r.proxyId === 'a')
      .map((r) => r.reason);
    expect(reasons.some((r) => r.includes('its command changed'))).toBe(true);
    expect(h.errors).toEqual([]);
  });

  it('spec, memoryLimit and usage answer for each proxy', async () => {
    const h = await startHarness({
      specs: [fakeSpec('a', { maxMemory: 1000 }), fakeSpec('b')],
      settings: { max_memory: '2KiB' },
    });
    expect(h.supervisor.spec('a')?.command).toBe('/opt/a');
    expect(h.supervisor.spec('nope')).toBeUndefined();
    expect(h.supervisor.memoryLimit('a')).toBe(1000);
    expect(h.supervisor.memoryLimit('b')).toBe(2048);
    expect(h.supervisor.memoryLimit('nope')).toBeNull();
    // The fake driver measures nothing: no usage, and no error.
    expect([...h.supervisor.usage()]).toEqual([]);
  });
});
